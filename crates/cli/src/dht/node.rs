//! `swarmlab node`: a Mainline DHT node until Ctrl-C, with periodic stats.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use swarmlab_dht_driver::{serve_metrics, Dht, Snapshot};

use super::DhtOpts;

/// Arguments of `swarmlab node`.
#[derive(Args)]
pub struct NodeArgs {
    /// Options shared by the DHT commands.
    #[command(flatten)]
    pub dht: DhtOpts,
    /// Seconds between two stats prints (0: never).
    #[arg(long, default_value_t = 30)]
    pub stats_interval: u64,
    /// Print stats as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9431).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

fn print_snapshot(s: &Snapshot, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    print_stack(s);
    if let Some(second) = &s.second {
        print_stack(second);
    }
}

fn print_stack(s: &Snapshot) {
    let st = &s.stats;
    let buckets: Vec<String> = s
        .buckets
        .iter()
        .filter(|b| b.nodes() > 0)
        .map(|b| format!("{}:{}", b.index, b.nodes()))
        .collect();
    println!(
        "[{:>6.0}s] {} table {} nodes ({} good, {} cached) buckets {} | in: ping {} find_node {} get_peers {} announce {} get {} put {} sample {} | out: {} queries, {} replies, {} errors | {} timeouts | limited {} blocked {} capped {} oversized {} | peers stored {} in {} swarms, {} items",
        s.uptime_s,
        if s.addr.is_ipv6() { "v6" } else { "v4" },
        s.table_nodes,
        s.table_good,
        s.cached,
        buckets.join(" "),
        st.queries_in.ping,
        st.queries_in.find_node,
        st.queries_in.get_peers,
        st.queries_in.announce_peer,
        st.queries_in.get,
        st.queries_in.put,
        st.queries_in.sample_infohashes,
        st.queries_out.total(),
        st.replies_sent,
        st.errors_sent,
        st.timeouts,
        st.rate_limited,
        st.blocked,
        st.replies_capped,
        st.oversized,
        s.peers_stored,
        s.info_hashes_stored,
        s.items_stored,
    );
}

/// Runs `swarmlab node`.
pub async fn run(a: NodeArgs) -> Result<ExitCode> {
    let dht = Dht::start(a.dht.driver()).await?;
    println!("node {} listening on UDP {}", dht.id(), dht.local_addr());
    if let Some(second) = dht.snapshot().await?.second {
        println!("node {} listening on UDP {}", dht.id(), second.addr);
    }
    let metrics = match a.metrics {
        Some(addr) => {
            let (at, task) = serve_metrics(addr, dht.clone()).await?;
            println!("metrics on http://{at}/metrics");
            Some(task)
        }
        None => None,
    };
    let mut every = (a.stats_interval > 0)
        .then(|| tokio::time::interval(Duration::from_secs(a.stats_interval)));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = async { match every.as_mut() { Some(i) => { i.tick().await; } None => std::future::pending::<()>().await } } => {
                print_snapshot(&dht.snapshot().await?, a.json);
            }
        }
    }
    print_snapshot(&dht.snapshot().await?, a.json);
    if let Some(t) = metrics {
        t.abort();
    }
    dht.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
