//! The peer store's bounds ([`PeerStoreConfig`]), what it stores and returns ([`Peer`],
//! [`AnnounceOutcome`]) and its counters ([`PeerStoreStats`]).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::ConfigError;

/// Peer store bounds and lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStoreConfig {
    /// Maximum number of distinct info-hashes. Default 2000.
    pub max_info_hashes: usize,
    /// Maximum number of peers per info-hash. Default 500.
    pub max_peers_per_hash: usize,
    /// How long a peer stays after its last announce. Default 30 minutes.
    pub peer_ttl: Duration,
}

impl Default for PeerStoreConfig {
    fn default() -> Self {
        PeerStoreConfig {
            max_info_hashes: 2000,
            max_peers_per_hash: 500,
            peer_ttl: Duration::from_secs(30 * 60),
        }
    }
}

impl PeerStoreConfig {
    /// Checks that every bound is at least 1 and the ttl positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_info_hashes == 0 {
            return Err(ConfigError::Zero("max_info_hashes"));
        }
        if self.max_peers_per_hash == 0 {
            return Err(ConfigError::Zero("max_peers_per_hash"));
        }
        if self.peer_ttl.is_zero() {
            return Err(ConfigError::ZeroDuration("peer_ttl"));
        }
        crate::error::check_len("peer_ttl", self.peer_ttl)
    }
}

/// One stored peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Where to connect (canonical form).
    pub addr: SocketAddr,
    /// The announcer said it is a seed (BEP 33 `seed` flag).
    pub seed: bool,
    /// Time of its last announce.
    pub last_announce: Instant,
}

/// What [`PeerStore::announce`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnounceOutcome {
    /// A new peer was stored.
    Added,
    /// The peer was already stored; its time (and seed flag) was refreshed.
    Refreshed,
    /// Port 0, an unspecified, multicast or broadcast address: ignored.
    Invalid,
}

/// Counters since creation plus current sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerStoreStats {
    /// Distinct info-hashes stored now.
    pub info_hashes: usize,
    /// Peers stored now (all info-hashes).
    pub peers: usize,
    /// Of which flagged seed.
    pub seeds: usize,
    /// Announces that added a peer.
    pub added: u64,
    /// Announces that refreshed a known peer.
    pub refreshed: u64,
    /// Announces ignored as invalid.
    pub invalid: u64,
    /// Peers evicted because their swarm was full.
    pub evicted_peers: u64,
    /// Info-hashes evicted because the store was full.
    pub evicted_info_hashes: u64,
    /// Peers removed by expiry.
    pub expired_peers: u64,
}
