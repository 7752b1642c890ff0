//! swarmlab's own DHT node as the audit's DHT source.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::future::BoxFuture;
use swarmlab_audit::{DhtError, DhtLookup};
use swarmlab_bt_wire::InfoHash;
use swarmlab_dht_driver::{Dht, DriverConfig};
use swarmlab_krpc::Id;

use super::args::AuditArgs;

/// swarmlab's node as the audit's DHT source: one iterative get_peers per info-hash.
struct NodeDht(Dht);

impl DhtLookup for NodeDht {
    fn get_peers(
        &self,
        info_hash: InfoHash,
    ) -> BoxFuture<'_, Result<Vec<std::net::SocketAddr>, DhtError>> {
        Box::pin(async move {
            let r = self.0.get_peers(Id(info_hash.0)).await?;
            Ok(r.peers)
        })
    }
}

/// Starts a read-only node from `--dht-bootstrap` / `--dht-state`, when given
/// (and not `--no-dht`).
pub async fn start(args: &AuditArgs) -> Result<Option<Arc<dyn DhtLookup>>> {
    if args.no_dht || (args.dht_bootstrap.is_empty() && args.dht_state.is_none()) {
        return Ok(None);
    }
    let mut cfg = DriverConfig::new("0.0.0.0:0".parse()?);
    cfg.bootstrap = args.dht_bootstrap.clone();
    cfg.state_file = args.dht_state.clone();
    cfg.node.read_only = true;
    let dht = Dht::start(cfg).await?;
    dht.wait_for_nodes(1, Duration::from_secs(2)).await?;
    Ok(Some(Arc::new(NodeDht(dht))))
}
