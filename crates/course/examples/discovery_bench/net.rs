//! The testnet and the nodes that work on it.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use swarmlab_dht::limits::Limits;
use swarmlab_dht::NodeConfig;
use swarmlab_dht_driver::{testnet, Dht, DriverConfig};

/// `n` nodes without rate limits from `first`, each with a filled table (8 nodes, or
/// whatever it has after 60 s).
pub async fn start(n: usize, first: Ipv4Addr) -> Result<Vec<Dht>, Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let cfg = NodeConfig {
        limits: Limits::unlimited(),
        ..NodeConfig::default()
    };
    let nodes = testnet(n, first, 0, cfg).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    for d in &nodes[1..] {
        let left = deadline.saturating_duration_since(Instant::now());
        d.wait_for_nodes(8, left.max(Duration::from_millis(1)))
            .await?;
    }
    eprintln!(
        "testnet: {n} nodes from {first} in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(nodes)
}

/// A node with `limits` on `ip`, bootstrapped from `boot`.
pub async fn node(
    ip: Ipv4Addr,
    boot: SocketAddr,
    limits: Limits,
) -> Result<Dht, Box<dyn std::error::Error>> {
    let mut c = DriverConfig::new(SocketAddr::from((ip, 0)));
    c.node.limits = limits;
    c.bootstrap = vec![boot.to_string()];
    let d = Dht::start(c).await?;
    d.wait_for_nodes(8, Duration::from_secs(20)).await?;
    Ok(d)
}

/// Datagrams `d` has sent and received so far.
pub async fn datagrams(d: &Dht) -> (u64, u64) {
    d.snapshot()
        .await
        .map(|s| (s.stats.datagrams_out, s.stats.datagrams_in))
        .unwrap_or((0, 0))
}
