//! What an experiment gave, and how it is shown: text and markdown on the terminal,
//! JSON with `--json`, files with `--csv DIR`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use swarmlab_sim::experiment::{family, EstimateRow, Experiment, Init, Planned, Run, Scenario};
use swarmlab_sim::measure::{LookupRow, Summary};
use swarmlab_sim::{Join, Latency};

use super::files::{write_csv, write_text};
use super::plot;
use super::table::{estimate_table, summary_table};
use crate::output::emit;

/// One run of a plan, in figures.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The series.
    pub series: String,
    /// The parameter's value.
    pub param: f64,
    /// Nodes built.
    pub nodes: usize,
    /// Live nodes at the end.
    pub alive: usize,
    /// Reachable live nodes at the end.
    pub reachable: usize,
    /// Mean routing-table size at the end.
    pub mean_table: f64,
    /// Churn departures.
    pub departures: u64,
    /// Datagrams sent by the nodes.
    pub sent: u64,
    /// Datagrams lost to the loss model.
    pub lost: u64,
    /// Datagrams sent where no node is (or where a node has left).
    pub to_nobody: u64,
    /// Datagrams dropped by NATs.
    pub filtered: u64,
    /// Simulated seconds.
    pub sim_seconds: f64,
    /// Wall seconds (machine-dependent).
    pub wall_seconds: f64,
    /// Growth of resident memory per node during the run (bytes).
    pub bytes_per_node: Option<f64>,
    /// Resident memory at the end (MiB).
    pub rss_mib: Option<f64>,
    /// Peak resident memory of the process (MiB).
    pub peak_mib: Option<f64>,
}

impl RunInfo {
    /// The figures of run `r` of `p`.
    pub fn of(p: &Planned, r: &Run) -> RunInfo {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        RunInfo {
            series: p.series.clone(),
            param: p.param,
            nodes: p.scenario.nodes,
            alive: r.alive,
            reachable: r.reachable,
            mean_table: r.mean_table,
            departures: r.departures,
            sent: r.net.sent,
            lost: r.net.lost,
            to_nobody: r.net.to_nobody,
            filtered: r.net.filtered,
            sim_seconds: r.sim_seconds,
            wall_seconds: r.wall_seconds,
            bytes_per_node: r.bytes_per_node(p.scenario.nodes),
            rss_mib: r.rss_after.map(|x| mib(x.now)),
            peak_mib: r.rss_after.map(|x| mib(x.peak)),
        }
    }
}

/// Everything an experiment gave.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The experiment's name (`run` for a single scenario).
    pub experiment: String,
    /// The base scenario, in words.
    pub scenario: String,
    #[serde(skip)]
    kind: Option<Experiment>,
    /// One summary per series.
    pub summaries: Vec<Summary>,
    /// One entry per run.
    pub runs: Vec<RunInfo>,
    /// Size estimates (`estimate`, and a single run of random-id lookups).
    pub estimates: Vec<EstimateRow>,
    /// One row per lookup.
    #[serde(skip)]
    pub rows: Vec<LookupRow>,
}

/// The scenario in one line.
pub fn describe(s: &Scenario) -> String {
    let init = match s.init {
        Init::Global { age } => format!(
            "tables from global knowledge (age up to {} s)",
            age.as_secs()
        ),
        Init::Grown { join, gap } => format!(
            "grown ({}, {} ms apart)",
            match join {
                Join::First => "through the first node".to_string(),
                Join::Random(m) => format!("through {m} random nodes"),
            },
            gap.as_millis()
        ),
    };
    let net = match &s.network.latency {
        Latency::Fixed { one_way, jitter } => {
            format!(
                "lan {} ms + jitter {} ms",
                one_way.as_millis(),
                jitter.as_millis()
            )
        }
        Latency::Regions(r) => format!(
            "internet ({} regions, access {} ms mean, jitter {:.0}%)",
            r.regions.len(),
            r.access_ms,
            r.jitter * 100.0
        ),
    };
    let churn = match &s.churn {
        Some(c) => format!(
            "Weibull sessions (shape {}, scale {:.1} min, median {:.1} min)",
            c.shape,
            c.scale.as_secs_f64() / 60.0,
            c.median_session().as_secs_f64() / 60.0
        ),
        None => "none".into(),
    };
    format!(
        "{} nodes, seed {}, {init}; network {net}, loss {}, unreachable {}; churn {churn}; dead contacts {}; k {}, alpha {}, soft/hard timeout {}/{} ms, cache {}; {} {} lookups every {} ms after {} s",
        s.nodes,
        s.seed,
        s.network.loss,
        s.network.unreachable,
        s.dead,
        s.node.k,
        s.node.alpha,
        s.node.soft_timeout.as_millis(),
        s.node.request_timeout.as_millis(),
        s.node.routing.replacement_cache,
        s.lookups,
        match s.target {
            swarmlab_sim::Target::RandomNode => "random-node",
            _ => "random-id",
        },
        s.interval.as_millis(),
        s.warmup.as_secs(),
    )
}

impl Report {
    /// An empty report of `experiment` on `base`.
    pub fn new(experiment: &str, base: &Scenario, kind: Option<Experiment>) -> Report {
        Report {
            experiment: experiment.to_string(),
            scenario: describe(base),
            kind,
            summaries: Vec::new(),
            runs: Vec::new(),
            estimates: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Adds a run and its rows.
    pub fn add_run(&mut self, info: RunInfo, rows: Vec<LookupRow>) {
        let refs: Vec<&LookupRow> = rows.iter().collect();
        self.summaries
            .push(Summary::of(&info.series, info.param, &refs));
        self.runs.push(info);
        self.rows.extend(rows);
    }

    /// The markdown of the report (what table.md holds).
    pub fn markdown(&self) -> String {
        let mut o = summary_table(&self.summaries);
        if !self.estimates.is_empty() {
            o.push('\n');
            o.push_str(&estimate_table(&self.estimates));
        }
        o
    }

    /// Prints the report: text, or JSON.
    pub fn print(&self, json: bool) -> Result<()> {
        if json {
            emit(&(serde_json::to_string_pretty(self)? + "\n"));
            return Ok(());
        }
        let mut o = String::new();
        let _ = writeln!(o, "experiment {}: {}", self.experiment, self.scenario);
        o.push('\n');
        o.push_str(&self.markdown());
        o.push('\n');
        for r in &self.runs {
            let mem = match (r.bytes_per_node, r.rss_mib, r.peak_mib) {
                (Some(b), Some(rss), Some(peak)) => format!(
                    "memory {:.1} KiB per node (RSS {rss:.0} MiB, peak {peak:.0} MiB)",
                    b / 1024.0
                ),
                _ => "memory not measured".into(),
            };
            let _ = writeln!(
                o,
                "{}: {} nodes ({} live, {} reachable), mean table {:.1}, {} churn departures; datagrams {} sent, {} lost, {} to nobody, {} filtered by NATs; {:.0} s simulated in {:.1} s wall; {mem}",
                r.series,
                r.nodes,
                r.alive,
                r.reachable,
                r.mean_table,
                r.departures,
                r.sent,
                r.lost,
                r.to_nobody,
                r.filtered,
                r.sim_seconds,
                r.wall_seconds,
            );
        }
        emit(&o);
        Ok(())
    }

    /// Writes lookups.csv, summary.csv, runs.csv, table.md, estimates.csv and the
    /// plots into `dir`.
    pub fn write(&self, dir: &Path, plots: bool) -> Result<()> {
        write_csv(&dir.join("lookups.csv"), &self.rows)?;
        write_csv(&dir.join("summary.csv"), &self.summaries)?;
        write_csv(&dir.join("runs.csv"), &self.runs)?;
        if !self.estimates.is_empty() {
            write_csv(&dir.join("estimates.csv"), &self.estimates)?;
        }
        write_text(&dir.join("table.md"), &self.markdown())?;
        if plots {
            if plot::font_ready() {
                self.plots(dir)?;
            } else {
                eprintln!("no font for the plots (install fonts-dejavu-core, or set SWARMLAB_FONT): PNGs skipped");
            }
        }
        Ok(())
    }

    fn series_of(&self, f: impl Fn(&LookupRow) -> Option<f64>) -> Vec<(String, Vec<f64>)> {
        let mut out: Vec<(String, Vec<f64>)> = Vec::new();
        for r in self.rows.iter().filter(|r| r.finished) {
            let Some(v) = f(r) else { continue };
            match out.iter_mut().find(|s| s.0 == r.series) {
                Some(s) => s.1.push(v),
                None => out.push((r.series.clone(), vec![v])),
            }
        }
        out
    }

    fn plots(&self, dir: &Path) -> Result<()> {
        let what = self.kind.map_or("simulated lookups", |e| e.name());
        let lat = self.series_of(|r| r.latency_ms);
        let spread = lat
            .iter()
            .flat_map(|s| s.1.iter().copied())
            .fold((f64::INFINITY, 0.0f64), |(a, b), x| {
                (a.min(x.max(1e-3)), b.max(x))
            });
        let log = spread.1 / spread.0 > 50.0;
        plot::cdf(
            &dir.join("latency_cdf.png"),
            &format!("Lookup latency ({what})"),
            "ms from start to end of the lookup",
            &lat,
            log,
        )?;
        let first = self.series_of(|r| r.first_closest_ms);
        plot::cdf(
            &dir.join("first_closest_cdf.png"),
            &format!("Time to the first answer from a true closest node ({what})"),
            "ms from the start of the lookup",
            &first,
            log,
        )?;
        plot::distribution(
            &dir.join("hops.png"),
            &format!("Hops ({what})"),
            "hops",
            &self.series_of(|r| Some(f64::from(r.hops))),
        )?;
        plot::distribution(
            &dir.join("messages.png"),
            &format!("Messages per lookup ({what})"),
            "requests sent",
            &self.series_of(|r| Some(r.messages as f64)),
        )?;
        if self.summaries.len() > 1 {
            let mut fams: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
            // The churn experiment's 0 means no churn at all, not a short session: it
            // is the table's first line, not a point of the curve.
            let churn = self.kind == Some(Experiment::Churn);
            for s in self.summaries.iter().filter(|s| !churn || s.param > 0.0) {
                let f = family(&s.series).to_string();
                match fams.iter_mut().find(|x| x.0 == f) {
                    Some(x) => x.1.push((s.param, s.found_all_pct)),
                    None => fams.push((f, vec![(s.param, s.found_all_pct)])),
                }
            }
            for f in &mut fams {
                f.1.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let xlabel = self.kind.map_or("parameter", |e| e.parameter());
            plot::against(
                &dir.join("success.png"),
                &format!("Lookups that found all k closest nodes ({what})"),
                xlabel,
                "% of lookups",
                &fams,
            )?;
        }
        if !self.estimates.is_empty() {
            let mut groups: Vec<(String, Vec<f64>)> = Vec::new();
            for e in &self.estimates {
                let name = format!("{}, {} lookups", e.series, e.lookups);
                match groups.iter_mut().find(|g| g.0 == name) {
                    Some(g) => g.1.push(e.error_pct.abs()),
                    None => groups.push((name, vec![e.error_pct.abs()])),
                }
            }
            plot::cdf(
                &dir.join("estimate_error_cdf.png"),
                "Size estimation: |error| of each estimate",
                "|estimate / reachable nodes - 1| (%)",
                &groups,
                false,
            )?;
        }
        Ok(())
    }
}
