//! `swarmlab sim`: the simulator on the command line. One scenario (a network built
//! from global knowledge or grown, a network model, churn, a node configuration, the
//! lookups to run), or an experiment of the catalogue (`--experiment NAME`: the
//! scenario with one parameter varied), or the same lookups over a real UDP loopback
//! testnet (`--experiment udp`). Prints a summary table; `--json` prints it as JSON;
//! `--csv DIR` writes one row per lookup (and per size estimate), the summary, the
//! markdown table and the PNG plots.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the arguments, running the plan, printing |
//! | `scenario.rs` | the options of one scenario |
//! | `report.rs` | what a run gives, and writing it (text, JSON, `--csv DIR`) |
//! | `table.rs` | the markdown tables |
//! | `plot.rs` | the PNG plots |
//! | `files.rs` | files written under a temporary name, fsynced and renamed |
//! | `progress.rs` | the progress bar (terminal only) |
//! | `udp.rs` | the lookups over a real UDP loopback testnet |

mod files;
mod plot;
mod progress;
mod report;
mod scenario;
mod table;
mod udp;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use clap::Args;
use swarmlab_sim::experiment::{estimate_rows, run as run_scenario, Experiment, Planned};
use swarmlab_sim::measure::Labels;

use progress::Bar;
use report::{Report, RunInfo};
pub use scenario::ScenarioOpts;

/// Arguments of `swarmlab sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// The network and its lookups.
    #[command(flatten)]
    pub scenario: ScenarioOpts,
    /// Run an experiment: size, alpha, timeout, churn, faults, regimes, estimate, init
    /// (the scenario with one parameter varied), or udp (the lookups over a real UDP
    /// loopback testnet of --nodes nodes).
    #[arg(long)]
    pub experiment: Option<String>,
    /// The experiment's parameter values, comma-separated (each experiment has
    /// defaults; the last --values given counts).
    #[arg(long, value_delimiter = ',', overrides_with = "values")]
    pub values: Vec<f64>,
    /// Write lookups.csv, summary.csv, runs.csv, table.md (and estimates.csv) and the
    /// PNG plots into this directory.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// No PNG plots with --csv.
    #[arg(long)]
    pub no_plots: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// --experiment udp: address of the testnet's first node (node i on this + i).
    #[arg(long, default_value = "127.150.0.1")]
    pub first: Ipv4Addr,
}

/// Runs `swarmlab sim`.
pub async fn run(a: SimArgs) -> Result<ExitCode> {
    if let Some(dir) = &a.csv {
        std::fs::create_dir_all(dir)?;
    }
    let base = a.scenario.scenario()?;
    let (name, plan): (&str, Vec<Planned>) = match a.experiment.as_deref() {
        None => (
            "run",
            vec![Planned {
                series: "run".into(),
                param: 0.0,
                scenario: base.clone(),
            }],
        ),
        Some("udp") => {
            let report = udp::run(&a, &base).await?;
            report.print(a.json)?;
            if let Some(dir) = &a.csv {
                report.write(dir, !a.no_plots)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(n) => {
            let e = Experiment::from_name(n).ok_or_else(|| {
                anyhow!("no experiment {n:?}: size, alpha, timeout, churn, faults, regimes, estimate, init, udp")
            })?;
            (e.name(), e.plan(&base, &a.values))
        }
    };
    let experiment = Experiment::from_name(name);
    let mut report = Report::new(name, &base, experiment);
    let bar = Bar::new(!a.quiet && !a.json);
    for p in &plan {
        let labels = Labels {
            experiment: name.to_string(),
            series: p.series.clone(),
            param: p.param,
            seed: p.scenario.seed,
        };
        let r = run_scenario(&p.scenario, &labels, &mut |phase, done, total| {
            bar.update(&p.series, phase, done, total)
        })?;
        if matches!(experiment, None | Some(Experiment::Estimate)) {
            report.estimates.extend(estimate_rows(
                &labels,
                &r.records,
                r.reachable,
                r.alive,
                &[16, 64],
            ));
        }
        report.add_run(RunInfo::of(p, &r), r.rows);
    }
    bar.finish();
    report.print(a.json)?;
    if let Some(dir) = &a.csv {
        report.write(dir, !a.no_plots)?;
    }
    Ok(ExitCode::SUCCESS)
}
