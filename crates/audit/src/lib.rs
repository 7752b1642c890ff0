//! `swarmlab audit`: a per-peer auditor of real BitTorrent swarms.
//!
//! Given a `.torrent` file, a magnet link or an info-hash, the auditor collects peer
//! addresses from HTTP(S) and UDP trackers, the DHT (through a [`DhtLookup`] the
//! binary supplies) and ut_pex messages, connects to every address with bounded
//! concurrency, and records what each peer says: handshake and reserved bits,
//! client (peer id and `v`), extensions, completion, have messages over time,
//! PEX neighbours, DHT port, and optionally a measured download rate with verified
//! pieces. Without the info dictionary it fetches it with ut_metadata and checks
//! it against the info-hash.
//!
//! Entry points for the binary: [`AuditArgs`] (clap arguments) and [`run`].
//! Library users and tests: [`Target`], [`AuditConfig`], [`audit_round`].
#![forbid(unsafe_code)]

mod args;
pub mod dht;
mod engine;
pub mod output;
pub mod report;
pub mod session;
pub mod sources;
mod target;

pub use args::AuditArgs;
pub use dht::{BoxFuture, DhtError, DhtLookup, StaticDht};
pub use engine::{audit_round, AuditConfig, Progress, RoundInputs};
pub use report::{FailureReason, PeerRecord, RoundReport};
pub use target::{Target, TargetError};

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// Run one audit round as described by `args` (no output): resolve the target,
/// query every source, audit every peer.
pub async fn audit(
    args: &AuditArgs,
    dht: Option<Arc<dyn DhtLookup>>,
) -> Result<RoundReport, TargetError> {
    let mut target = Target::resolve(&args.target)?;
    let inputs = RoundInputs {
        trackers: args.trackers.clone(),
        peers: args.peers.clone(),
        dht,
    };
    Ok(audit_round(&mut target, &inputs, &args.config(), 1, None).await)
}

fn progress_bar(quiet: bool, progress: Arc<Progress>) -> Option<tokio::task::JoinHandle<()>> {
    if quiet {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if bar.is_hidden() {
        return None;
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    Some(tokio::spawn(async move {
        struct Finish(indicatif::ProgressBar);
        impl Drop for Finish {
            fn drop(&mut self) {
                self.0.finish_and_clear();
            }
        }
        let guard = Finish(bar);
        loop {
            guard.0.set_message(format!(
                "found {}  done {}  reached {}  connecting {}",
                progress.found.load(Relaxed),
                progress.done.load(Relaxed),
                progress.reached.load(Relaxed),
                progress.in_flight.load(Relaxed),
            ));
            guard.0.tick();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }))
}

/// `swarmlab audit`: run the audit (repeatedly with `--watch`) and print the report.
///
/// `dht` is swarmlab's DHT node wrapped as a [`DhtLookup`] (built by the binary from
/// `--dht-bootstrap` / `--dht-state`), or `None` when none is available; it is
/// ignored with `--no-dht`. Returns success once the audit ran, whatever it found;
/// errors are for bad input (target, output file).
pub async fn run(args: AuditArgs, dht: Option<Arc<dyn DhtLookup>>) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout();
    run_to(args, dht, &mut stdout).await
}

/// [`run`], printing the table or JSON (and CSV with `--csv -`) to `out` instead of stdout.
pub async fn run_to(
    args: AuditArgs,
    dht: Option<Arc<dyn DhtLookup>>,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<ExitCode> {
    let mut target = Target::resolve(&args.target)?;
    let cfg = args.config();
    let inputs = RoundInputs {
        trackers: args.trackers.clone(),
        peers: args.peers.clone(),
        dht,
    };
    let csv_to_stdout = args.csv.as_deref() == Some("-");
    let mut csv_file: Option<Box<dyn Write + Send>> = match args.csv.as_deref() {
        None | Some("-") => None,
        Some(path) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot create CSV file {path}: {e}"))?,
        ))),
    };
    let mut prev: Option<Vec<PeerRecord>> = None;
    let mut round = 1u32;
    loop {
        let progress = Arc::new(Progress::default());
        let bar = progress_bar(args.quiet, progress.clone());
        let mut report = audit_round(&mut target, &inputs, &cfg, round, Some(progress)).await;
        if let Some(b) = bar {
            b.abort();
            let _ = b.await;
        }
        if let Some(p) = &prev {
            report.churn = Some(report::churn(p, &report.peers));
        }
        if args.json {
            let text = if args.watch.is_some() {
                serde_json::to_string(&report)?
            } else {
                serde_json::to_string_pretty(&report)?
            };
            writeln!(out, "{text}")?;
        } else if !csv_to_stdout {
            write!(out, "{}", output::table(&report))?;
        }
        if csv_to_stdout {
            output::write_csv(&mut *out, &report, round == 1)?;
        }
        if let Some(w) = csv_file.as_mut() {
            output::write_csv(&mut *w, &report, round == 1)?;
            w.flush()?;
        }
        out.flush()?;
        prev = Some(report.peers);
        let Some(secs) = args.watch else { break };
        if args.rounds > 0 && round >= args.rounds {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        round += 1;
    }
    Ok(ExitCode::SUCCESS)
}
