//! swarmlab's own DHT node as the audit's DHT source (read-only: it only looks up).

use std::sync::Arc;

use anyhow::Result;
use swarmlab_audit::DhtLookup;

use super::args::AuditArgs;

/// Starts a read-only node from `--dht-bootstrap` / `--dht-state`, when given
/// (and not `--no-dht`).
pub async fn start(args: &AuditArgs) -> Result<Option<Arc<dyn DhtLookup>>> {
    if args.no_dht || (args.dht_bootstrap.is_empty() && args.dht_state.is_none()) {
        return Ok(None);
    }
    let bind = "0.0.0.0:0".parse()?;
    let dht =
        crate::bt::dht::start(bind, &args.dht_bootstrap, args.dht_state.clone(), true).await?;
    Ok(Some(dht))
}
