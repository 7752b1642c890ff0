//! `swarmlab demo`: the four roles in one process.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_course::demo::{self, DemoOptions};
use swarmlab_course::size::parse_size;
use swarmlab_course::tracker::DISCOVERY_PORT;

use super::charlie::print_discovery;
use super::progress::ChunkBar;

/// Arguments of `swarmlab demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Size of the random file (B, KiB, MiB, GiB, KB, MB, GB).
    #[arg(long, default_value = "32MiB", value_parser = parse_size)]
    pub size: u64,
    /// Chunk size.
    #[arg(long, default_value = "512KiB", value_parser = parse_size)]
    pub chunk_size: u64,
    /// UDP port of tracker discovery.
    #[arg(long, default_value_t = DISCOVERY_PORT)]
    pub discovery_port: u16,
    /// Run in this directory (kept) instead of a temporary one.
    #[arg(long)]
    pub keep_in: Option<PathBuf>,
    /// Nodes of the in-process DHT testnet of steps 4 and 5.
    #[arg(long, default_value_t = 16)]
    pub dht_nodes: usize,
    /// The testnet's first address (node i on first + i, ports chosen by the system).
    #[arg(long, default_value = "127.88.0.1")]
    pub dht_first: Ipv4Addr,
    /// Print each step's discovery report above its line.
    #[arg(long)]
    pub verbose: bool,
    /// Print a JSON report instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// Runs `swarmlab demo`.
pub async fn run(a: DemoArgs) -> Result<ExitCode> {
    let opts = DemoOptions {
        size: a.size,
        chunk_size: usize::try_from(a.chunk_size).context("chunk size")?,
        discovery_port: a.discovery_port,
        root: a.keep_in,
        progress: ChunkBar::on_terminal(!a.json),
        seed: rand_seed(),
        dht_nodes: a.dht_nodes.max(2),
        dht_first: a.dht_first,
    };
    if !a.json {
        println!(
            "swarmlab demo: {:.1} MiB random file, {} KiB chunks, Alice + Bob + Tracker on 127.0.0.1, discovery on UDP {} via 127.255.255.255; steps 4 and 5 without the tracker, over a {}-node DHT testnet from {}",
            opts.size as f64 / (1 << 20) as f64,
            opts.chunk_size / 1024,
            opts.discovery_port,
            opts.dht_nodes,
            opts.dht_first
        );
    }
    let (json, verbose) = (a.json, a.verbose);
    let report = demo::run(opts, |s| {
        if json {
            return;
        }
        if verbose || !s.ok || s.step >= 4 {
            for d in &s.discovery {
                print!("  ");
                print_discovery(std::slice::from_ref(d));
            }
        }
        println!("{}", s.line());
    })
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let best = report
            .steps
            .iter()
            .map(|s| s.throughput_mb_s)
            .fold(0.0, f64::max);
        println!(
            "SHA-1 limit of one core: {:.0} MB/s; best step: {:.0} MB/s ({:.0}% of the limit)",
            report.sha1_limit_mb_s,
            best,
            100.0 * best / report.sha1_limit_mb_s
        );
        println!(
            "{}",
            if report.passed() {
                "all steps passed"
            } else {
                "FAILED"
            }
        );
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}
