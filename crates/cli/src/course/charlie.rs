//! `swarmlab charlie STEP`: the client.

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use swarmlab_course::tracker::DISCOVERY_PORT;
use swarmlab_course::{charlie, Layout};

use super::progress::ChunkBar;

/// Arguments of `swarmlab charlie`.
#[derive(Args)]
pub struct CharlieArgs {
    /// Step: 1, 2 or 3.
    pub step: Option<String>,
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

/// Runs `swarmlab charlie`.
pub async fn run(layout: &Layout, a: CharlieArgs) -> Result<ExitCode> {
    let step = match a.step.as_deref() {
        None => {
            eprintln!("Error: missing step number");
            return Ok(ExitCode::FAILURE);
        }
        Some(s) => match s.parse::<u8>() {
            Ok(n @ 1..=3) => n,
            _ => {
                eprintln!("Error: invalid step number");
                return Ok(ExitCode::FAILURE);
            }
        },
    };
    let mut opts = charlie::CharlieOptions::new(layout.clone(), step);
    opts.broadcast = a.broadcast;
    opts.discovery_port = a.discovery_port;
    opts.discovery_wait = Duration::from_millis(a.discovery_wait_ms);
    opts.tracker_name = a.tracker_name;
    opts.engine.request_timeout = Duration::from_secs(a.request_timeout.max(1));
    opts.engine.progress = ChunkBar::on_terminal(!a.json);
    let report = match charlie::run(&opts).await {
        Ok(r) => r,
        Err(e) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "step": step, "ok": false, "error": e.to_string() })
                );
                return Ok(ExitCode::FAILURE);
            }
            bail!("{e}");
        }
    };
    let ok = report.identical != Some(false);
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = ok.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for d in &report.discovery {
            println!("discovery {}: {}", d.source, d.detail);
        }
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
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
