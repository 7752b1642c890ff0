//! Many nodes in one process, each on its own loopback address.

use std::net::{Ipv4Addr, SocketAddr};

use swarmlab_dht::node::NodeConfig;

use crate::{Dht, DriverConfig, DriverError};

/// Starts `n` nodes in this process, node `i` on `first + i` (each its own IP, counting
/// up through the octets: 127.10.0.255 is followed by 127.10.1.0), port `port`, every
/// node bootstrapping from node 0. Each node gets `node_cfg` with a random seed of its
/// own.
pub async fn testnet(
    n: usize,
    first: Ipv4Addr,
    port: u16,
    node_cfg: NodeConfig,
) -> Result<Vec<Dht>, DriverError> {
    let mut nodes: Vec<Dht> = Vec::with_capacity(n);
    let base = u32::from(first);
    for i in 0..n {
        let ip = Ipv4Addr::from(base + i as u32);
        let mut cfg = DriverConfig::new(SocketAddr::from((ip, port)));
        cfg.node = NodeConfig {
            seed: rand::random(),
            ..node_cfg.clone()
        };
        if let Some(first) = nodes.first() {
            cfg.bootstrap = vec![first.local_addr().to_string()];
        }
        nodes.push(Dht::start(cfg).await?);
    }
    Ok(nodes)
}
