//! `swarmlab charlie [STEP]`: the client.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use swarmlab_course::charlie::{self, CharlieReport, SourceKind};
use swarmlab_course::discovery::{FileRef, Phase, StepReport};
use swarmlab_course::error::CharlieError;
use swarmlab_course::tracker::DISCOVERY_PORT;
use swarmlab_course::Layout;

use super::progress::ChunkBar;

/// Arguments of `swarmlab charlie`.
#[derive(Args)]
pub struct CharlieArgs {
    /// Step: 1 (config files), 2 (tracker), 3 (broadcast), 4 (trackerless: DHT,
    /// metadata, PEX from a file id). Implied: 4 with --magnet or --file-id.
    pub step: Option<String>,
    /// The sources to use, in order, comma-separated: config, tracker, broadcast, dht,
    /// metadata, pex (e.g. `tracker,broadcast,dht,pex`). Later ones run when earlier
    /// ones failed or left a chunk without a live holder, also during the download.
    #[arg(long, value_name = "LIST")]
    pub discovery: Option<String>,
    /// The file by magnet link (`magnet:?xt=urn:btih:…`, with `x.pe=ip:port` peers).
    #[arg(long, value_name = "URI", conflicts_with = "file_id")]
    pub magnet: Option<String>,
    /// The file by its id (40 hex digits: the info-hash of config/file.torrent).
    #[arg(long, value_name = "HEX")]
    pub file_id: Option<String>,
    /// UDP address of Charlie's DHT node.
    #[arg(long, default_value = "0.0.0.0:0", value_name = "ADDR")]
    pub dht_bind: SocketAddr,
    /// A DHT node to bootstrap from (repeatable). Without any: the state file, else
    /// the DHT port a known peer announces (BEP 5 `port`).
    #[arg(long = "dht-bootstrap", value_name = "HOST:PORT")]
    pub dht_bootstrap: Vec<String>,
    /// The DHT node's id and routing table, loaded at start and saved at the end.
    #[arg(long, value_name = "FILE")]
    pub dht_state: Option<PathBuf>,
    /// Milliseconds allowed for one BitTorrent visit of a peer (PEX, metadata).
    #[arg(long, default_value_t = 3000)]
    pub visit_wait_ms: u64,
    /// Step 3: send DISCOVER_TRACKER to this address (repeatable). Default:
    /// 255.255.255.255 and every interface's broadcast address.
    #[arg(long = "broadcast", value_name = "ADDR")]
    pub broadcast: Vec<Ipv4Addr>,
    /// Step 3: UDP port of discovery.
    #[arg(long, default_value_t = DISCOVERY_PORT)]
    pub discovery_port: u16,
    /// Step 3: how long to collect TRACKER_INFO replies, in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub discovery_wait_ms: u64,
    /// Step 3: try trackers of this name first.
    #[arg(long, default_value = "tracker")]
    pub tracker_name: String,
    /// Seconds allowed for one chunk's whole reply.
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// The step: given, or implied by a file id or `--discovery`; `None` after printing
/// the course skeleton's message.
fn step_of(a: &CharlieArgs) -> Option<u8> {
    match a.step.as_deref() {
        None if a.magnet.is_some() || a.file_id.is_some() => Some(4),
        None if a.discovery.is_some() => Some(0),
        None => {
            eprintln!("Error: missing step number");
            None
        }
        Some(s) => match s.parse::<u8>() {
            Ok(n @ 1..=4) => Some(n),
            _ => {
                eprintln!("Error: invalid step number");
                None
            }
        },
    }
}

/// Runs `swarmlab charlie`.
pub async fn run(layout: &Layout, a: CharlieArgs) -> Result<ExitCode> {
    let Some(step) = step_of(&a) else {
        return Ok(ExitCode::FAILURE);
    };
    let mut opts = charlie::CharlieOptions::new(layout.clone(), step);
    if let Some(list) = &a.discovery {
        opts.discovery = Some(SourceKind::parse_list(list)?);
    }
    opts.file = match (&a.magnet, &a.file_id) {
        (Some(m), _) => Some(FileRef::from_magnet(m)?),
        (None, Some(id)) => Some(FileRef::from_id(id)?),
        (None, None) => None,
    };
    opts.dht.bind = a.dht_bind;
    opts.dht.bootstrap = a.dht_bootstrap;
    opts.dht.state_file = a.dht_state;
    opts.visit_wait = Duration::from_millis(a.visit_wait_ms.max(1));
    opts.broadcast = a.broadcast;
    opts.discovery_port = a.discovery_port;
    opts.discovery_wait = Duration::from_millis(a.discovery_wait_ms);
    opts.tracker_name = a.tracker_name;
    opts.engine.request_timeout = Duration::from_secs(a.request_timeout.max(1));
    opts.engine.progress = ChunkBar::on_terminal(!a.json);
    let report = match charlie::run(&opts).await {
        Ok(r) => r,
        Err(e) => return failed(step, &e, a.json),
    };
    let ok = report.identical != Some(false);
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = ok.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_report(&report);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A failed run: the error, and what discovery did when the error keeps it.
fn failed(step: u8, e: &CharlieError, json: bool) -> Result<ExitCode> {
    let discovery = match e {
        CharlieError::NoManifest(d) | CharlieError::Download { discovery: d, .. } => d.as_slice(),
        _ => &[],
    };
    if json {
        let v = serde_json::json!({
            "step": step,
            "ok": false,
            "error": e.to_string(),
            "discovery": discovery,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::FAILURE);
    }
    print_discovery(discovery);
    bail!("{e}");
}

/// One line per run of a source: phase, name, what it found, time and cost.
pub fn print_discovery(reports: &[StepReport]) {
    for d in reports {
        let phase = match d.phase {
            Phase::Start => "",
            Phase::Refill => "[refill] ",
        };
        println!(
            "discovery {phase}{}: {}{} ({:.0} ms, {} datagrams, {} connections, {} new peers)",
            d.source,
            if d.ok { "" } else { "FAILED: " },
            d.detail,
            d.elapsed_ms,
            d.datagrams,
            d.connections,
            d.new_peers
        );
    }
}

fn print_report(report: &CharlieReport) {
    print_discovery(&report.discovery);
    let dl = &report.download;
    println!(
        "{}: {} bytes in {} chunks ({} fetched, {} already on disk), {:.3} s, {:.1} MB/s",
        report.filename,
        dl.bytes,
        dl.chunks,
        dl.fetched_chunks,
        dl.resumed_chunks,
        dl.elapsed_s,
        dl.throughput_mb_s
    );
    for p in &dl.peers {
        let fails: Vec<String> = p.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "  peer {}: {} chunks, {} bytes{}",
            p.addr,
            p.chunks,
            p.bytes,
            if fails.is_empty() {
                String::new()
            } else {
                format!(", failures: {}", fails.join(", "))
            }
        );
    }
    println!("Done: {}", report.output);
    match report.identical {
        Some(true) => println!("Files are identical"),
        Some(false) => println!("Files are NOT identical"),
        None => println!(
            "no files/{} to compare with (every chunk verified by SHA-1)",
            report.filename
        ),
    }
}
