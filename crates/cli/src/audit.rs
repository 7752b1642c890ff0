//! `swarmlab audit`: the auditor of `swarmlab-audit`, with swarmlab's own DHT node as
//! its DHT peer source.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use swarmlab_audit::{AuditArgs, BoxFuture, DhtError, DhtLookup};
use swarmlab_bt_wire::InfoHash;
use swarmlab_dht_driver::{Dht, DriverConfig};
use swarmlab_krpc::Id;

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

/// Starts a read-only node from `--dht-bootstrap` / `--dht-state`, when given.
async fn start_dht(args: &AuditArgs) -> Result<Option<Arc<dyn DhtLookup>>> {
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

/// Runs `swarmlab audit`.
pub async fn run(args: AuditArgs) -> Result<ExitCode> {
    let dht = start_dht(&args).await?;
    swarmlab_audit::run(args, dht).await
}
