use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmlab_krpc::Id;

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
