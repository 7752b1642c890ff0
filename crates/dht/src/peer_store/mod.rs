//! Peers announced to us: info-hash → set of peer addresses, bounded.
//!
//! * A peer expires [`PeerStoreConfig::peer_ttl`] (default 30 minutes) after
//!   its last announce. [`PeerStore::expire`] removes expired peers;
//!   [`PeerStore::get_sample`] never returns them even before that.
//! * At most [`PeerStoreConfig::max_peers_per_hash`] peers per info-hash:
//!   a new peer for a full swarm evicts that swarm's least recently announced
//!   peer.
//! * At most [`PeerStoreConfig::max_info_hashes`] info-hashes: a new
//!   info-hash when full evicts the info-hash whose most recent announce is
//!   the oldest (with all its peers).
//!
//! Addresses are canonicalised (IPv4-mapped IPv6 → IPv4) so one peer is
//! stored once. Sampling is deterministic for a given RNG state (no
//! `HashMap` iteration order leaks into results).
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`PeerStore`]: announce, sample, expiry, eviction |
//! | `config.rs` | [`PeerStoreConfig`], [`Peer`], [`AnnounceOutcome`], [`PeerStoreStats`] |
//! | `swarm.rs` | one info-hash's peers, and uniform sampling |

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::Instant;

use rand::Rng;
use swarmlab_krpc::Id;
use swarmlab_net::{canonical, is_valid_peer};

use crate::ConfigError;

mod config;
mod swarm;
#[cfg(test)]
mod tests;

pub use config::{AnnounceOutcome, Peer, PeerStoreConfig, PeerStoreStats};
use swarm::{sample_of, Swarm};

/// Info-hash → peers, bounded and expiring. See the module docs.
#[derive(Debug, Clone)]
pub struct PeerStore {
    cfg: PeerStoreConfig,
    swarms: HashMap<Id, Swarm>,
    /// Every stored peer by last-announce time, for expiry.
    by_time: BTreeSet<(Instant, Id, SocketAddr)>,
    /// Every swarm by its latest announce, for info-hash eviction.
    recency: BTreeSet<(Instant, Id)>,
    peers: usize,
    seeds: usize,
    stats: PeerStoreStats,
}

impl Default for PeerStore {
    fn default() -> Self {
        Self::build(PeerStoreConfig::default())
    }
}

impl PeerStore {
    /// An empty store with `cfg`.
    pub fn new(cfg: PeerStoreConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self::build(cfg))
    }

    fn build(cfg: PeerStoreConfig) -> Self {
        PeerStore {
            cfg,
            swarms: HashMap::new(),
            by_time: BTreeSet::new(),
            recency: BTreeSet::new(),
            peers: 0,
            seeds: 0,
            stats: PeerStoreStats::default(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &PeerStoreConfig {
        &self.cfg
    }

    /// Records that `addr` announced itself for `info_hash` at `now` (after
    /// the caller verified the token and resolved `implied_port`).
    pub fn announce(
        &mut self,
        now: Instant,
        info_hash: Id,
        addr: SocketAddr,
        seed: bool,
    ) -> AnnounceOutcome {
        if !is_valid_peer(&addr) {
            self.stats.invalid += 1;
            return AnnounceOutcome::Invalid;
        }
        let addr = canonical(addr);

        if !self.swarms.contains_key(&info_hash) {
            if self.swarms.len() >= self.cfg.max_info_hashes {
                self.evict_oldest_swarm();
            }
            self.swarms.insert(info_hash, Swarm::new(now));
            self.recency.insert((now, info_hash));
        }
        let max_peers = self.cfg.max_peers_per_hash;
        let Some(swarm) = self.swarms.get_mut(&info_hash) else {
            return AnnounceOutcome::Invalid;
        };

        // Swarm recency: the latest announce time (monotonic per swarm).
        if now > swarm.last_announce {
            self.recency.remove(&(swarm.last_announce, info_hash));
            swarm.last_announce = now;
            self.recency.insert((now, info_hash));
        }

        if let Some(&i) = swarm.index.get(&addr) {
            let p = &mut swarm.peers[i];
            self.by_time.remove(&(p.last_announce, info_hash, addr));
            // Keep the entry's time monotonic so the expiry index stays exact.
            p.last_announce = p.last_announce.max(now);
            self.by_time.insert((p.last_announce, info_hash, addr));
            if p.seed != seed {
                if seed {
                    swarm.seeds += 1;
                    self.seeds += 1;
                } else {
                    swarm.seeds -= 1;
                    self.seeds -= 1;
                }
                p.seed = seed;
            }
            self.stats.refreshed += 1;
            return AnnounceOutcome::Refreshed;
        }

        if swarm.peers.len() >= max_peers {
            // Evict the least recently announced peer of this swarm.
            let oldest = swarm
                .peers
                .iter()
                .min_by_key(|p| (p.last_announce, p.addr))
                .map(|p| p.addr);
            if let Some(old) = oldest {
                if let Some(p) = swarm.remove(&old) {
                    self.by_time.remove(&(p.last_announce, info_hash, old));
                    self.peers -= 1;
                    if p.seed {
                        self.seeds -= 1;
                    }
                    self.stats.evicted_peers += 1;
                }
            }
        }

        let peer = Peer {
            addr,
            seed,
            last_announce: now,
        };
        swarm.index.insert(addr, swarm.peers.len());
        swarm.peers.push(peer);
        if seed {
            swarm.seeds += 1;
            self.seeds += 1;
        }
        self.peers += 1;
        self.by_time.insert((now, info_hash, addr));
        self.stats.added += 1;
        AnnounceOutcome::Added
    }

    fn evict_oldest_swarm(&mut self) {
        let Some(&(t, ih)) = self.recency.iter().next() else {
            return;
        };
        self.recency.remove(&(t, ih));
        if let Some(swarm) = self.swarms.remove(&ih) {
            for p in &swarm.peers {
                self.by_time.remove(&(p.last_announce, ih, p.addr));
            }
            self.peers -= swarm.peers.len();
            self.seeds -= swarm.seeds;
            self.stats.evicted_info_hashes += 1;
        }
    }

    /// Removes every peer whose last announce is `peer_ttl` or more before
    /// `now`, and info-hashes left without peers. Returns how many peers
    /// were removed. Cost is proportional to what is removed.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut removed = 0;
        while let Some(&(t, ih, addr)) = self.by_time.iter().next() {
            if now.saturating_duration_since(t) < self.cfg.peer_ttl {
                break;
            }
            self.by_time.remove(&(t, ih, addr));
            let mut drop_swarm = None;
            if let Some(swarm) = self.swarms.get_mut(&ih) {
                if let Some(p) = swarm.remove(&addr) {
                    self.peers -= 1;
                    if p.seed {
                        self.seeds -= 1;
                    }
                    removed += 1;
                }
                if swarm.peers.is_empty() {
                    drop_swarm = Some(swarm.last_announce);
                }
            }
            if let Some(last) = drop_swarm {
                self.swarms.remove(&ih);
                self.recency.remove(&(last, ih));
            }
        }
        self.stats.expired_peers += removed as u64;
        removed
    }

    /// When the next peer expires, if any (for the core's `poll_timeout`).
    pub fn next_expiry(&self) -> Option<Instant> {
        self.by_time
            .iter()
            .next()
            .and_then(|(t, _, _)| t.checked_add(self.cfg.peer_ttl))
    }

    /// Up to `max` distinct, unexpired peers of `info_hash`, chosen uniformly
    /// at random with `rng` and returned in random order. Empty for an
    /// unknown info-hash or `max == 0`.
    pub fn get_sample<R: Rng + ?Sized>(
        &self,
        now: Instant,
        info_hash: &Id,
        max: usize,
        rng: &mut R,
    ) -> Vec<SocketAddr> {
        self.sample_where(now, info_hash, max, rng, |_| true)
    }

    /// Like [`get_sample`](Self::get_sample) but only peers not flagged seed
    /// (for BEP 33 `noseed` queries).
    pub fn get_sample_no_seeds<R: Rng + ?Sized>(
        &self,
        now: Instant,
        info_hash: &Id,
        max: usize,
        rng: &mut R,
    ) -> Vec<SocketAddr> {
        self.sample_where(now, info_hash, max, rng, |p| !p.seed)
    }

    fn sample_where<R: Rng + ?Sized>(
        &self,
        now: Instant,
        info_hash: &Id,
        max: usize,
        rng: &mut R,
        keep: impl Fn(&Peer) -> bool,
    ) -> Vec<SocketAddr> {
        let Some(swarm) = self.swarms.get(info_hash) else {
            return Vec::new();
        };
        if max == 0 {
            return Vec::new();
        }
        let ttl = self.cfg.peer_ttl;
        let live: Vec<SocketAddr> = swarm
            .peers
            .iter()
            .filter(|p| now.saturating_duration_since(p.last_announce) < ttl && keep(p))
            .map(|p| p.addr)
            .collect();
        sample_of(live, max, rng)
    }

    /// BEP 51: up to `max` distinct info-hashes with a peer announced within the ttl,
    /// chosen uniformly at random with `rng` (deterministic for a given RNG state: the
    /// candidates are taken in the order of their latest announce).
    pub fn sample_info_hashes<R: Rng + ?Sized>(
        &self,
        now: Instant,
        max: usize,
        rng: &mut R,
    ) -> Vec<Id> {
        let ttl = self.cfg.peer_ttl;
        let live: Vec<Id> = self
            .recency
            .iter()
            .filter(|(t, _)| now.saturating_duration_since(*t) < ttl)
            .map(|(_, ih)| *ih)
            .collect();
        sample_of(live, max, rng)
    }

    /// All stored peers of `info_hash` (including not yet expired ones past
    /// their ttl), in storage order.
    pub fn peers(&self, info_hash: &Id) -> &[Peer] {
        self.swarms
            .get(info_hash)
            .map(|s| s.peers.as_slice())
            .unwrap_or(&[])
    }

    /// Number of peers stored for `info_hash`.
    pub fn peer_count_for(&self, info_hash: &Id) -> usize {
        self.swarms.get(info_hash).map_or(0, |s| s.peers.len())
    }

    /// True when `addr` is stored for `info_hash`.
    pub fn contains(&self, info_hash: &Id, addr: SocketAddr) -> bool {
        self.swarms
            .get(info_hash)
            .is_some_and(|s| s.index.contains_key(&canonical(addr)))
    }

    /// Number of info-hashes stored.
    pub fn info_hash_count(&self) -> usize {
        self.swarms.len()
    }

    /// Number of peers stored over all info-hashes.
    pub fn peer_count(&self) -> usize {
        self.peers
    }

    /// Current sizes and counters.
    pub fn stats(&self) -> PeerStoreStats {
        PeerStoreStats {
            info_hashes: self.swarms.len(),
            peers: self.peers,
            seeds: self.seeds,
            ..self.stats
        }
    }
}
