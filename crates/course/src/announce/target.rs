//! Where announces go: [`AnnounceTarget`], and the DHT driver as one.

use std::net::SocketAddr;

use futures::future::BoxFuture;
use swarmlab_dht_driver::Dht;
use swarmlab_krpc::Id;

use crate::error::DhtError;

/// A DHT key: an info-hash (the file id) or a chunk's SHA-1.
pub type Key = [u8; 20];

/// What one announce gave.
#[derive(Debug, Clone, Default)]
pub struct Announced {
    /// Nodes that acknowledged the announce (0: it reached nobody).
    pub nodes: usize,
    /// Peers the lookup before it found for the key.
    pub peers: Vec<SocketAddr>,
}

/// Where announces go.
pub trait AnnounceTarget: Send + Sync + 'static {
    /// Announces that we are a peer of `key` on TCP `port`.
    fn announce(&self, key: Key, port: u16) -> BoxFuture<'static, Result<Announced, DhtError>>;
}

impl AnnounceTarget for Dht {
    fn announce(&self, key: Key, port: u16) -> BoxFuture<'static, Result<Announced, DhtError>> {
        let dht = self.clone();
        Box::pin(async move {
            let r = Dht::announce(&dht, Id(key), Some(port)).await?;
            Ok(Announced {
                nodes: r.announced,
                peers: r.peers,
            })
        })
    }
}
