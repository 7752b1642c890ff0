//! swarmlab's own DHT node as the `DhtLookup` of fetch, seed and audit: one
//! iterative get_peers per lookup, one announce_peer round per announce.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use futures::future::BoxFuture;
use swarmlab_bt::dht::{DhtError, DhtLookup};
use swarmlab_bt_wire::InfoHash;
use swarmlab_dht_driver::{Dht, DriverConfig};
use swarmlab_krpc::Id;

/// swarmlab's node as a `DhtLookup`.
pub struct NodeDht(pub Dht);

impl DhtLookup for NodeDht {
    fn get_peers(&self, info_hash: InfoHash) -> BoxFuture<'_, Result<Vec<SocketAddr>, DhtError>> {
        Box::pin(async move {
            let r = self.0.get_peers(Id(info_hash.0)).await?;
            Ok(r.peers)
        })
    }

    fn announce(&self, info_hash: InfoHash, port: u16) -> BoxFuture<'_, Result<(), DhtError>> {
        Box::pin(async move {
            self.0.announce(Id(info_hash.0), Some(port)).await?;
            Ok(())
        })
    }
}

/// Starts a node on `bind` from `bootstrap` (and `state`), read-only when asked
/// (a node that only looks up); waits up to 2 s for a first contact.
pub async fn start(
    bind: SocketAddr,
    bootstrap: &[String],
    state: Option<PathBuf>,
    read_only: bool,
) -> Result<Arc<dyn DhtLookup>> {
    let mut cfg = DriverConfig::new(bind);
    cfg.bootstrap = bootstrap.to_vec();
    cfg.state_file = state;
    cfg.node.read_only = read_only;
    let dht = Dht::start(cfg).await.context("starting the DHT node")?;
    dht.wait_for_nodes(1, Duration::from_secs(2)).await?;
    Ok(Arc::new(NodeDht(dht)))
}

/// The DHT options of `fetch` and `seed`.
#[derive(Args, Debug, Clone)]
pub struct DhtArgs {
    /// DHT bootstrap node (HOST:PORT); repeatable. Default: the public routers.
    #[arg(long = "dht-bootstrap", value_name = "HOST:PORT")]
    pub dht_bootstrap: Vec<String>,
    /// Address of our DHT node.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:0")]
    pub dht_bind: SocketAddr,
    /// No DHT.
    #[arg(long)]
    pub no_dht: bool,
}

impl DhtArgs {
    /// These options with the DHT node on the IP of `listen` (our TCP listener)
    /// when `--dht-bind` is a wildcard and `listen` is not: a DHT node stores an
    /// announce under the IP it came from, which must be where we listen.
    pub fn near(&self, listen: SocketAddr) -> DhtArgs {
        let mut a = self.clone();
        if let (true, Some(ip)) = (
            a.dht_bind.ip().is_unspecified(),
            super::seed::specific_ip(listen),
        ) {
            a.dht_bind.set_ip(ip);
        }
        a
    }

    /// The node these options ask for (`None` with `--no-dht`, or with a warning
    /// when it cannot start: the other sources go on). `read_only` for a node
    /// that only looks up.
    pub async fn start(&self, read_only: bool) -> Option<Arc<dyn DhtLookup>> {
        if self.no_dht {
            return None;
        }
        let boot: Vec<String> = if self.dht_bootstrap.is_empty() {
            swarmlab_dht_driver::PUBLIC_ROUTERS
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            self.dht_bootstrap.clone()
        };
        match start(self.dht_bind, &boot, None, read_only).await {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("warning: no DHT: {e:#}");
                None
            }
        }
    }
}
