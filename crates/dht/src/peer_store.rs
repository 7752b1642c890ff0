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

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use swarmlab_krpc::Id;
use swarmlab_net::{canonical, is_valid_peer};

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

#[derive(Debug, Clone)]
struct Swarm {
    peers: Vec<Peer>,
    index: HashMap<SocketAddr, usize>,
    last_announce: Instant,
    seeds: usize,
}

impl Swarm {
    fn new(now: Instant) -> Self {
        Swarm {
            peers: Vec::new(),
            index: HashMap::new(),
            last_announce: now,
            seeds: 0,
        }
    }

    fn remove(&mut self, addr: &SocketAddr) -> Option<Peer> {
        let i = self.index.remove(addr)?;
        let p = self.peers.swap_remove(i);
        if let Some(moved) = self.peers.get(i) {
            self.index.insert(moved.addr, i);
        }
        if p.seed {
            self.seeds -= 1;
        }
        Some(p)
    }
}

/// Up to `max` of `items`, chosen uniformly at random and in random order.
fn sample_of<T: Copy, R: Rng + ?Sized>(mut items: Vec<T>, max: usize, rng: &mut R) -> Vec<T> {
    if items.len() > max {
        // Partial Fisher-Yates: the first `max` become a uniform sample.
        let (chosen, _) = items.partial_shuffle(rng, max);
        chosen.to_vec()
    } else {
        items.shuffle(rng);
        items
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use std::collections::HashSet;

    const MIN: Duration = Duration::from_secs(60);

    fn ih(n: u32) -> Id {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&n.to_be_bytes());
        Id(b)
    }

    fn peer(n: u32) -> SocketAddr {
        let o = n.to_be_bytes();
        SocketAddr::new(
            std::net::Ipv4Addr::new(10 + (o[0] % 100), o[1], o[2], o[3]).into(),
            6881,
        )
    }

    fn check_invariants(s: &PeerStore) {
        let total: usize = s.swarms.values().map(|w| w.peers.len()).sum();
        assert_eq!(total, s.peers);
        assert_eq!(s.by_time.len(), s.peers);
        assert_eq!(s.recency.len(), s.swarms.len());
        let seeds: usize = s.swarms.values().map(|w| w.seeds).sum();
        assert_eq!(seeds, s.seeds);
        for w in s.swarms.values() {
            assert_eq!(w.index.len(), w.peers.len());
            for (i, p) in w.peers.iter().enumerate() {
                assert_eq!(w.index[&p.addr], i);
            }
            assert!(w.peers.len() <= s.cfg.max_peers_per_hash);
        }
        assert!(s.swarms.len() <= s.cfg.max_info_hashes);
    }

    #[test]
    fn announce_refresh_and_expiry() {
        let t0 = Instant::now();
        let mut s = PeerStore::default();
        let h = ih(1);
        assert_eq!(s.announce(t0, h, peer(1), false), AnnounceOutcome::Added);
        assert_eq!(s.announce(t0, h, peer(2), true), AnnounceOutcome::Added);
        assert_eq!(
            s.announce(t0 + 10 * MIN, h, peer(1), false),
            AnnounceOutcome::Refreshed
        );
        assert_eq!(s.peer_count(), 2);
        assert_eq!(s.stats().seeds, 1);
        assert_eq!(s.next_expiry(), Some(t0 + 30 * MIN));

        let mut rng = StdRng::seed_from_u64(1);
        // At 30 min peer 2 is expired (not sampled) even before expire().
        let sample = s.get_sample(t0 + 30 * MIN, &h, 10, &mut rng);
        assert_eq!(sample, vec![peer(1)]);
        assert_eq!(s.expire(t0 + 29 * MIN), 0);
        assert_eq!(s.expire(t0 + 30 * MIN), 1);
        assert!(!s.contains(&h, peer(2)));
        assert!(s.contains(&h, peer(1)));
        assert_eq!(s.stats().seeds, 0);
        check_invariants(&s);
        // Peer 1 refreshed at 10 min lives until 40 min; then the hash goes too.
        assert_eq!(s.expire(t0 + 40 * MIN), 1);
        assert_eq!(s.info_hash_count(), 0);
        assert_eq!(s.next_expiry(), None);
        assert_eq!(s.stats().expired_peers, 2);
        check_invariants(&s);
    }

    #[test]
    fn per_hash_bound_evicts_oldest_peer() {
        let t0 = Instant::now();
        let cfg = PeerStoreConfig {
            max_peers_per_hash: 5,
            ..Default::default()
        };
        let mut s = PeerStore::new(cfg).unwrap();
        let h = ih(7);
        for i in 0..5 {
            s.announce(t0 + Duration::from_secs(i as u64), h, peer(i), false);
        }
        // Refresh peer 0 so peer 1 is the oldest.
        s.announce(t0 + Duration::from_secs(10), h, peer(0), false);
        s.announce(t0 + Duration::from_secs(11), h, peer(100), false);
        assert_eq!(s.peer_count_for(&h), 5);
        assert!(!s.contains(&h, peer(1)));
        assert!(s.contains(&h, peer(0)) && s.contains(&h, peer(100)));
        for i in 200..1200 {
            s.announce(t0 + Duration::from_secs(20), h, peer(i), i % 2 == 0);
            assert!(s.peer_count_for(&h) <= 5);
        }
        assert_eq!(s.stats().evicted_peers, 1001);
        check_invariants(&s);
    }

    #[test]
    fn hash_bound_evicts_least_recently_announced_hash() {
        let t0 = Instant::now();
        let cfg = PeerStoreConfig {
            max_info_hashes: 3,
            max_peers_per_hash: 4,
            ..Default::default()
        };
        let mut s = PeerStore::new(cfg).unwrap();
        for i in 0..3 {
            s.announce(
                t0 + Duration::from_secs(i),
                ih(i as u32),
                peer(i as u32),
                false,
            );
        }
        // Re-announce to hash 0: hash 1 is now the stalest.
        s.announce(t0 + Duration::from_secs(5), ih(0), peer(50), false);
        s.announce(t0 + Duration::from_secs(6), ih(3), peer(3), false);
        assert_eq!(s.info_hash_count(), 3);
        assert_eq!(s.peer_count_for(&ih(1)), 0);
        assert_eq!(s.peer_count_for(&ih(0)), 2);
        assert_eq!(s.stats().evicted_info_hashes, 1);
        // A flood of new hashes never exceeds either bound.
        for i in 10..5000u32 {
            s.announce(t0 + Duration::from_secs(7), ih(i), peer(i), false);
            s.announce(t0 + Duration::from_secs(7), ih(i), peer(i + 100_000), true);
            assert!(s.info_hash_count() <= 3);
            assert!(s.peer_count() <= 3 * 4);
        }
        check_invariants(&s);
    }

    #[test]
    fn sample_size_distinct_and_random() {
        let t0 = Instant::now();
        let mut s = PeerStore::default();
        let h = ih(1);
        for i in 0..200 {
            s.announce(t0, h, peer(i), false);
        }
        let mut rng = StdRng::seed_from_u64(3);
        let mut seen_first = HashSet::new();
        let mut counts = HashMap::new();
        for _ in 0..200 {
            let sample = s.get_sample(t0, &h, 25, &mut rng);
            assert_eq!(sample.len(), 25);
            let set: HashSet<_> = sample.iter().collect();
            assert_eq!(set.len(), 25, "duplicates in sample");
            for a in &sample {
                assert!(s.contains(&h, *a));
                *counts.entry(*a).or_insert(0u32) += 1;
            }
            seen_first.insert(sample[0]);
        }
        // 200 samples × 25 = 5000 picks over 200 peers: every peer should be
        // picked, none wildly often (expected 25 each).
        assert_eq!(counts.len(), 200);
        assert!(
            counts.values().all(|&c| (5..=60).contains(&c)),
            "{counts:?}"
        );
        assert!(seen_first.len() > 50);
        // Fewer peers than asked: all of them, once.
        let small = s.get_sample(t0, &h, 1000, &mut rng);
        assert_eq!(small.len(), 200);
        assert_eq!(small.iter().collect::<HashSet<_>>().len(), 200);
        assert!(s.get_sample(t0, &h, 0, &mut rng).is_empty());
        assert!(s.get_sample(t0, &ih(99), 10, &mut rng).is_empty());
        // Deterministic for a given seed.
        let a = s.get_sample(t0, &h, 10, &mut StdRng::seed_from_u64(9));
        let b = s.get_sample(t0, &h, 10, &mut StdRng::seed_from_u64(9));
        assert_eq!(a, b);
    }

    #[test]
    fn seeds_filter_and_invalid_addresses() {
        let t0 = Instant::now();
        let mut s = PeerStore::default();
        let h = ih(1);
        s.announce(t0, h, peer(1), true);
        s.announce(t0, h, peer(2), false);
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(s.get_sample_no_seeds(t0, &h, 10, &mut rng), vec![peer(2)]);
        // Seed flag flips on re-announce.
        s.announce(t0, h, peer(1), false);
        assert_eq!(s.stats().seeds, 0);
        for bad in [
            "1.2.3.4:0",
            "0.0.0.0:1",
            "255.255.255.255:1",
            "224.0.0.1:5",
            "[::]:5",
            // Mapped forms of the same: refused like the IPv4 addresses they map.
            "[::ffff:0.0.0.0]:5",
            "[::ffff:255.255.255.255]:5",
        ] {
            assert_eq!(
                s.announce(t0, h, bad.parse().unwrap(), false),
                AnnounceOutcome::Invalid
            );
        }
        // IPv4-mapped IPv6 is the same peer.
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:6881".parse().unwrap();
        assert_eq!(s.announce(t0, h, mapped, false), AnnounceOutcome::Refreshed);
        assert_eq!(s.stats().invalid, 7);
        assert!(PeerStore::new(PeerStoreConfig {
            max_info_hashes: 0,
            ..Default::default()
        })
        .is_err());
        check_invariants(&s);
    }

    #[test]
    fn time_going_backwards_is_harmless() {
        let t0 = Instant::now() + 60 * MIN;
        let mut s = PeerStore::default();
        let h = ih(1);
        s.announce(t0, h, peer(1), false);
        s.announce(t0 - 10 * MIN, h, peer(1), false);
        s.announce(t0 - 20 * MIN, h, peer(2), false);
        check_invariants(&s);
        assert_eq!(s.expire(t0 + 10 * MIN), 1);
        assert_eq!(s.expire(t0 + 30 * MIN), 1);
        check_invariants(&s);
    }
}
