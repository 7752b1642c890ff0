//! The other peers a course peer knows, for its ut_pex messages: the other sections
//! of `config/peers.ini` (all but `[tracker]` and its own), and the peers DHT lookups
//! of the file id found. (The BitTorrent server adds the peers that connected to it
//! with a listen port.) The peer's own address is never listed.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use crate::config::PeersIni;

/// Most DHT results kept.
const MAX_DHT_PEERS: usize = 200;

/// The peers a course peer lists in ut_pex. Shared by the BitTorrent source, the
/// watcher (peers.ini) and the announcer (DHT results).
#[derive(Debug, Default)]
pub struct KnownPeers {
    own: Option<SocketAddr>,
    configured: Mutex<Vec<SocketAddr>>,
    dht: Mutex<Vec<SocketAddr>>,
}

impl KnownPeers {
    /// Peers known to the peer listening on `own`.
    pub fn new(own: SocketAddr) -> KnownPeers {
        KnownPeers {
            own: Some(own),
            ..KnownPeers::default()
        }
    }

    /// Takes the sections of `peers` other than `[tracker]` and `[own_name]`.
    pub fn set_configured(&self, peers: &PeersIni, own_name: &str) {
        let list = peers
            .entries
            .iter()
            .filter(|(n, _)| n != "tracker" && n != own_name)
            .map(|(_, a)| SocketAddr::V4(*a))
            .collect();
        *lock(&self.configured) = list;
    }

    /// Takes the peers a DHT lookup of the file id found (at most 200).
    pub fn set_dht(&self, peers: &[SocketAddr]) {
        let mut v = peers.to_vec();
        v.truncate(MAX_DHT_PEERS);
        *lock(&self.dht) = v;
    }

    /// Every peer known, configured first, without duplicates and without ourselves.
    pub fn list(&self) -> Vec<SocketAddr> {
        let own = self.own;
        let mut out: Vec<SocketAddr> = Vec::new();
        let configured = lock(&self.configured).clone();
        let dht = lock(&self.dht).clone();
        for a in configured.into_iter().chain(dht) {
            let a = swarmlab_net::canonical(a);
            if Some(a) != own && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_PEERS_INI;

    #[test]
    fn the_others_of_peers_ini_then_the_dht_without_ourselves() {
        let k = KnownPeers::new("127.0.0.1:8001".parse().unwrap());
        k.set_configured(&PeersIni::parse(DEFAULT_PEERS_INI).unwrap(), "alice");
        k.set_dht(&[
            "127.0.0.1:8001".parse().unwrap(),
            "127.0.0.1:8002".parse().unwrap(),
            "127.0.0.9:7000".parse().unwrap(),
        ]);
        let want: Vec<SocketAddr> = vec![
            "127.0.0.1:8002".parse().unwrap(),
            "127.0.0.9:7000".parse().unwrap(),
        ];
        assert_eq!(k.list(), want);
    }
}
