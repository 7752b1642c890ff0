//! The DHT peer source, as a trait the binary implements with swarmlab's own node.
//!
//! The audit crate does not depend on the DHT crate. The `swarmlab` binary builds a
//! node (from its `--dht-bootstrap` / `--dht-state` options), wraps it in a type
//! implementing [`DhtLookup`] and passes it in [`crate::RoundInputs::dht`]. With
//! `None`, the DHT source is reported as unavailable and the audit uses the other
//! sources.

use futures::future::BoxFuture;
use std::net::SocketAddr;
use swarmlab_bt_wire::InfoHash;

/// Error type of a DHT lookup: whatever the implementation's error is.
pub type DhtError = Box<dyn std::error::Error + Send + Sync>;

/// A DHT that can find peers for an info-hash (BEP 5 `get_peers`, iterated).
pub trait DhtLookup: Send + Sync {
    /// Peers announced for `info_hash`. The audit waits at most its tracker timeout
    /// for the answer, so an implementation may return what it has found by then.
    fn get_peers(&self, info_hash: InfoHash) -> BoxFuture<'_, Result<Vec<SocketAddr>, DhtError>>;
}

/// A fixed answer, for tests and for feeding peers found elsewhere.
#[derive(Debug, Clone, Default)]
pub struct StaticDht(pub Vec<SocketAddr>);

impl DhtLookup for StaticDht {
    fn get_peers(&self, _info_hash: InfoHash) -> BoxFuture<'_, Result<Vec<SocketAddr>, DhtError>> {
        let peers = self.0.clone();
        Box::pin(async move { Ok(peers) })
    }
}
