//! The demo's DHT: a testnet in this process, and Alice and Bob announcing the file id
//! into it through the peers' own announcer ([`crate::peer::RunningPeer::announce`]),
//! as `swarmlab peer NAME --dht` does.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use swarmlab_dht::limits::Limits;
use swarmlab_dht::NodeConfig;
use swarmlab_dht_driver::{testnet, Dht, DriverConfig};

use crate::announce::AnnounceConfig;
use crate::demo::roles::Roles;
use crate::error::DemoError;
use crate::peer::RunningPeer;

/// The testnet and the peers' nodes; stopped by [`DemoDht::shutdown`].
pub(crate) struct DemoDht {
    /// The testnet's nodes (Charlie bootstraps from the first).
    pub nodes: Vec<Dht>,
    peers: Vec<Arc<Dht>>,
}

impl DemoDht {
    /// The address Charlie bootstraps from.
    pub fn bootstrap(&self) -> SocketAddr {
        self.nodes[0].local_addr()
    }

    /// Stops every node.
    pub async fn shutdown(self) {
        for d in self.peers.iter().map(|d| &**d).chain(&self.nodes) {
            d.shutdown().await;
        }
    }
}

/// Starts `n` testnet nodes from `first` (without rate limits: every query of the
/// demo lands on these few nodes), a DHT node for Alice and for Bob on 127.0.0.1 with
/// the defaults of `swarmlab peer --dht`, and their announcers; returns once both
/// announced the file id (within `wait`).
pub(crate) async fn start(
    roles: &mut Roles,
    first: Ipv4Addr,
    n: usize,
    wait: Duration,
) -> Result<DemoDht, DemoError> {
    let cfg = NodeConfig {
        limits: Limits::unlimited(),
        ..NodeConfig::default()
    };
    let nodes = testnet(n.max(2), first, 0, cfg).await?;
    for d in &nodes[1..] {
        d.wait_for_nodes(1, wait).await?;
    }
    let boot = nodes[0].local_addr().to_string();
    let mut peers = Vec::new();
    for p in [&mut roles.alice, &mut roles.bob] {
        peers.push(announce(p, &boot, wait).await?);
    }
    let out = DemoDht { nodes, peers };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let done = [&roles.alice, &roles.bob].iter().all(|p| {
            p.announcer()
                .is_some_and(|a| a.stats().announced.load(Ordering::Relaxed) > 0)
        });
        if done {
            return Ok(out);
        }
        if tokio::time::Instant::now() >= deadline {
            out.shutdown().await;
            return Err(DemoError::NotAnnounced(wait));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A node for `peer` bootstrapped from `boot`, announcing the file id on the peer's
/// TCP port (its DHT port goes out in BEP 5 `port` messages).
async fn announce(
    peer: &mut RunningPeer,
    boot: &str,
    wait: Duration,
) -> Result<Arc<Dht>, DemoError> {
    let mut c = DriverConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    c.bootstrap = vec![boot.to_owned()];
    let dht = Arc::new(Dht::start(c).await?);
    dht.wait_for_nodes(1, wait).await?;
    let udp = dht.local_addr().port();
    peer.announce(
        dht.clone(),
        Some(udp),
        AnnounceConfig::new(peer.addr.port()),
        false,
    );
    Ok(dht)
}
