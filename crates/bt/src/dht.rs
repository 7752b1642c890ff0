//! The DHT as a peer source, a trait the binary implements with swarmlab's own node.
//!
//! Neither this crate nor the auditor depends on the DHT crates. The `swarmlab`
//! binary builds a node (from its `--dht-bootstrap` / `--dht-state` options), wraps
//! it in a type implementing [`DhtLookup`] and passes it to the audit
//! (`RoundInputs::dht`), to fetch ([`crate::fetch::FetchConfig::dht`]) and to seed.
//! Without one, those use their other sources.

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

    /// Announce that we serve `info_hash` on TCP `port` (BEP 5 `announce_peer` to
    /// the closest nodes). The default does nothing (a read-only source).
    fn announce(&self, info_hash: InfoHash, port: u16) -> BoxFuture<'_, Result<(), DhtError>> {
        let _ = (info_hash, port);
        Box::pin(async { Ok(()) })
    }
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
