//! `swarmlab crawl`: walks the DHT with BEP 51 `sample_infohashes` and reports the
//! info-hashes found (per hour, and the list), within the politeness rules of
//! `swarmlab_dht::crawl` (every node's `interval` honoured).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use swarmlab_dht::crawl::{CrawlConfig, CrawlReport};

use super::put::client;
use super::{parse_duration, DhtOpts};
use crate::output::emit;

/// Arguments of `swarmlab crawl`.
#[derive(Args)]
pub struct CrawlArgs {
    /// Options shared by the DHT commands (the crawler is read-only whatever they say).
    #[command(flatten)]
    pub dht: DhtOpts,
    /// How long to crawl (30s, 10m, 2h).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Queries per second at most.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Queries in flight at most.
    #[arg(long, default_value_t = 16)]
    pub max_in_flight: usize,
    /// Seed of the walk's random targets.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report (with every info-hash) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the info-hashes found to this CSV file (info_hash,first_seen_s,nodes).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// The CSV of the info-hashes found.
pub fn csv(r: &CrawlReport) -> String {
    let mut out = String::from("info_hash,first_seen_s,nodes\n");
    for f in &r.found {
        out += &format!("{},{:.3},{}\n", f.info_hash, f.first_seen_s, f.nodes);
    }
    out
}

fn summary(r: &CrawlReport) -> String {
    format!(
        "{} info-hashes in {:.0} s ({:.0} per hour); nodes: {} known, {} contacted, {} answered, {} with BEP 51; {} queries, {} timeouts, {} errors\n",
        r.info_hashes,
        r.elapsed_s,
        r.per_hour,
        r.nodes_known,
        r.nodes_contacted,
        r.nodes_answered,
        r.nodes_bep51,
        r.queries,
        r.timeouts,
        r.errors,
    )
}

/// Writes `text` to `path` through a temporary name, fsynced, then renamed.
fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `swarmlab crawl`.
pub async fn run(a: CrawlArgs) -> Result<ExitCode> {
    let dht = client(&a.dht).await?;
    // Seeds: the bootstrap nodes and whatever the join put in the table.
    let mut seeds: Vec<SocketAddr> = Vec::new();
    for name in a.dht.bootstrap_names() {
        if let Ok(addrs) = tokio::net::lookup_host(name.as_str()).await {
            seeds.extend(addrs);
        }
    }
    seeds.extend(dht.table().await?.into_iter().map(|n| n.addr));
    let cfg = CrawlConfig {
        rate: a.rate,
        max_in_flight: a.max_in_flight.max(1),
        ..CrawlConfig::default()
    };
    let line = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    line.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let r = swarmlab_dht_driver::crawl(
        &dht,
        cfg,
        seeds,
        a.duration,
        a.seed,
        Duration::from_millis(500),
        |r| {
            line.set_message(format!(
                "{} info-hashes ({:.0}/h), {} nodes contacted, {} with BEP 51",
                r.info_hashes, r.per_hour, r.nodes_contacted, r.nodes_bep51
            ));
            line.tick();
        },
    )
    .await;
    line.finish_and_clear();
    dht.shutdown().await;
    let r = r?;
    if let Some(path) = &a.csv {
        write_file(path, &csv(&r))?;
    }
    if a.json {
        emit(&(serde_json::to_string_pretty(&r)? + "\n"));
    } else {
        let mut o = summary(&r);
        for f in &r.found {
            o += &format!(
                "{} {:>8.1} s {:>3} nodes\n",
                f.info_hash, f.first_seen_s, f.nodes
            );
        }
        emit(&o);
    }
    Ok(ExitCode::SUCCESS)
}
