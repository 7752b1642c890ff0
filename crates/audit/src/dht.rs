//! The DHT peer source, as a trait the binary implements with swarmlab's own node.
//!
//! The audit crate does not depend on the DHT crate. The `swarmlab` binary builds a
//! node (from `--dht-bootstrap` / `--dht-state` in [`crate::AuditArgs`]), wraps it in a
//! type implementing [`DhtLookup`] and passes it to [`crate::run`]. With `None`, the
//! DHT source is reported as unavailable and the audit uses the other sources.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use swarmlab_bt_wire::InfoHash;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Error type of a DHT lookup.
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
