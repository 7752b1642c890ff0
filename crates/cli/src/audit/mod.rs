//! The audit family: `swarmlab audit TARGET` on the `swarmlab-audit` engine, with
//! swarmlab's own DHT node as its DHT source.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`run`]: resolve the target, start the DHT node, run the rounds (`--watch`), print each |
//! | `args.rs` | [`AuditArgs`], the clap arguments, and the engine settings they give |
//! | `dht.rs` | the node as a `DhtLookup` |
//! | `progress.rs` | the live progress line |
//! | `table.rs` | the terminal table |
//! | `csv.rs` | the CSV rows |

pub mod args;
mod csv;
mod dht;
mod progress;
mod table;

pub use args::AuditArgs;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use swarmlab_audit::{Progress, RoundInputs, RoundReport, Target, Watch};

use crate::output::emit;

/// Where the CSV rows go.
enum CsvOut {
    None,
    Stdout,
    /// One round: written to a temporary name, fsynced and renamed at the end.
    /// With `--watch`: the file itself, fsynced after each round (a log that grows
    /// by whole rounds).
    File {
        path: PathBuf,
        tmp: Option<PathBuf>,
        w: BufWriter<File>,
    },
}

impl CsvOut {
    fn open(csv: Option<&str>, watch: bool) -> Result<CsvOut> {
        Ok(match csv {
            None => CsvOut::None,
            Some("-") => CsvOut::Stdout,
            Some(p) => {
                let path = PathBuf::from(p);
                let tmp = (!watch).then(|| {
                    let mut name = path.file_name().unwrap_or_default().to_os_string();
                    name.push(format!(".tmp-{}", std::process::id()));
                    path.with_file_name(name)
                });
                let at = tmp.as_ref().unwrap_or(&path);
                let f = File::create(at)
                    .with_context(|| format!("cannot create CSV file {}", at.display()))?;
                CsvOut::File {
                    path,
                    tmp,
                    w: BufWriter::new(f),
                }
            }
        })
    }

    fn round(&mut self, r: &RoundReport) -> Result<()> {
        let header = r.round == 1;
        match self {
            CsvOut::None => {}
            CsvOut::Stdout => {
                let mut rows = Vec::new();
                csv::write_csv(&mut rows, r, header)?;
                emit(&String::from_utf8_lossy(&rows));
            }
            CsvOut::File { w, tmp, .. } => {
                csv::write_csv(&mut *w, r, header)?;
                w.flush()?;
                if tmp.is_none() {
                    w.get_ref().sync_data()?;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        if let CsvOut::File {
            path,
            tmp: Some(tmp),
            w,
        } = self
        {
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot write CSV file {}", path.display()))?;
        }
        Ok(())
    }
}

fn print(args: &AuditArgs, r: &RoundReport, csv: &mut CsvOut) -> Result<()> {
    if args.json {
        let text = if args.watch.is_some() {
            serde_json::to_string(r)?
        } else {
            serde_json::to_string_pretty(r)?
        };
        emit(&format!("{text}\n"));
    } else if !matches!(csv, CsvOut::Stdout) {
        emit(&table::table(r));
    }
    csv.round(r)
}

/// Runs `swarmlab audit`: success once the audit ran, whatever it found; errors are
/// for bad input (the target, the CSV path, the DHT options).
pub async fn run(args: AuditArgs) -> Result<ExitCode> {
    let target = Target::resolve(&args.target)?;
    let mut csv = CsvOut::open(args.csv.as_deref(), args.watch.is_some())?;
    let inputs = RoundInputs {
        trackers: args.trackers.clone(),
        peers: args.peers.clone(),
        dht: dht::start(&args).await?,
    };
    let mut watch = Watch::new(target, inputs, args.config());
    loop {
        let counters = Arc::new(Progress::default());
        let line = progress::spawn(args.quiet, counters.clone());
        let report = watch.next_round(Some(counters)).await;
        if let Some(l) = line {
            l.abort();
            let _ = l.await;
        }
        print(&args, &report, &mut csv)?;
        let Some(secs) = args.watch else { break };
        if args.rounds > 0 && watch.rounds() >= args.rounds {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    csv.finish()?;
    Ok(ExitCode::SUCCESS)
}
