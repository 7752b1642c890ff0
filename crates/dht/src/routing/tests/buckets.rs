//! Splitting, full buckets, the replacement cache and evictions.

use super::*;

#[test]
fn own_bucket_splits_others_do_not() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    // 8 nodes with first bit 1 (far half): fill the single bucket.
    for n in 0..8 {
        assert!(matches!(
            t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded),
            InsertOutcome::Added { ping: None }
        ));
    }
    assert_eq!(t.bucket_count(), 1);
    // A 9th far node: the bucket covers our id → split; the far half is
    // bucket 0 (full), so it goes to bucket 0's cache.
    let out = t.insert(t0, id_with(0x80, 8), addr(8), Seen::Responded);
    assert!(
        matches!(out, InsertOutcome::Cached { ping: None }),
        "{out:?}"
    );
    assert_eq!(t.bucket_count(), 2);
    // More far nodes never split bucket 0 again.
    for n in 9..40 {
        t.insert(t0, id_with(0xc0, n), addr(n), Seen::Responded);
    }
    assert_eq!(t.bucket_count(), 2);
    assert_eq!(t.bucket_stats(t0)[0].nodes(), 8);
    assert_eq!(t.cached_len(), 8);
    // Near nodes (first bit 0) go to the own bucket, which splits again
    // when full.
    for n in 0..9 {
        t.insert(
            t0,
            id_with(0x40 >> (n % 3), 100 + n),
            addr(100 + n),
            Seen::Responded,
        );
    }
    assert!(t.bucket_count() > 2);
    assert_eq!(t.len(), 17);
    check_invariants(&t);
}

#[test]
fn many_random_ids_give_log_sized_table() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(1);
    let our = Id::random(&mut rng);
    let mut t = table(t0, our);
    let n = 20_000u32;
    for i in 0..n {
        t.insert(t0, Id::random(&mut rng), addr(i), Seen::Responded);
    }
    check_invariants(&t);
    // ~k per bucket down to depth log2(N/k) ≈ 11.3.
    let depth = (n as f64 / 8.0).log2();
    let expected = 8.0 * depth;
    let len = t.len() as f64;
    assert!(
        len > expected - 16.0 && len < expected + 24.0,
        "len {len} expected ~{expected}"
    );
    let stats = t.bucket_stats(t0);
    assert!(stats.iter().all(|s| s.nodes() <= 8));
    // All far buckets are full.
    let b = t.bucket_count();
    assert!(
        (depth as usize - 1..=depth as usize + 3).contains(&(b - 1)),
        "{b} buckets"
    );
    assert!(stats[..b - 3].iter().all(|s| s.nodes() == 8));
    assert!(stats[..b - 5].iter().all(|s| s.cached == 8));
}

#[test]
fn questionable_ping_then_failed_ping_promotes_candidate() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    // Bucket 0 after one split: 8 far nodes.
    for n in 0..8 {
        t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
    }
    t.insert(t0, id_with(0x01, 99), addr(99), Seen::Responded); // force split? no: near
                                                                // 16 minutes later all are questionable.
    let t1 = t0 + 16 * MIN;
    assert_eq!(
        t.get(t1, &id_with(0x80, 3)).unwrap().state,
        NodeState::Questionable
    );
    // Node 5 queried us at t0+10min: still good at t1 (responded before,
    // queried within 15 min) and so never pinged.
    t.insert(t0 + 10 * MIN, id_with(0x80, 5), addr(5), Seen::Queried);
    assert_eq!(t.get(t1, &id_with(0x80, 5)).unwrap().state, NodeState::Good);
    // Node 2 is the least recently seen: make the others newer.
    for n in 0..8 {
        if n != 2 {
            t.insert(t0 + MIN, id_with(0x80, n), addr(n), Seen::Queried);
        }
    }
    let cand = id_with(0x90, 1);
    let out = t.insert(t1, cand, addr(1000), Seen::Responded);
    let InsertOutcome::Cached { ping: Some(p) } = out else {
        panic!("{out:?}")
    };
    // The least recently seen questionable node is pinged.
    assert_eq!(p.state, NodeState::Questionable);
    assert_eq!(p.id, id_with(0x80, 2));
    assert!(!t.contains(&cand));
    // A second candidate triggers a ping of another node.
    let cand2 = id_with(0x90, 2);
    let p2 = *t
        .insert(t1, cand2, addr(1001), Seen::Responded)
        .ping()
        .unwrap();
    assert_ne!(p2.id, p.id);
    // Same candidate again: no extra ping while pings are in flight.
    assert!(t
        .insert(t1, cand2, addr(1001), Seen::Queried)
        .ping()
        .is_none());

    // The first ping fails: node evicted, best candidate promoted.
    let out = t.on_timeout(t1 + Duration::from_secs(5), &p.id, p.addr);
    let TimeoutOutcome::Evicted { evicted, promoted } = out else {
        panic!("{out:?}")
    };
    assert_eq!(evicted.id, p.id);
    assert!(promoted.is_some());
    assert!(!t.contains(&p.id));
    assert_eq!(t.id_for_ip(p.addr.ip()), None);
    // The second ping succeeds: node good again, candidate stays cached.
    let out = t.on_response(t1 + Duration::from_secs(6), p2.id, p2.addr);
    assert_eq!(out, InsertOutcome::Updated);
    assert_eq!(t.get(t1, &p2.id).unwrap().state, NodeState::Good);
    assert_eq!(t.bucket_stats(t1)[0].cached, 1);
    // The table asks for the next questionable node.
    let pings = t.take_pings(t1 + Duration::from_secs(7));
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].state, NodeState::Questionable);
    check_invariants(&t);
}

#[test]
fn good_node_is_not_evicted_by_single_timeout_but_bad_after_two() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    let a = id_with(0x80, 1);
    t.insert(t0, a, addr(1), Seen::Responded);
    assert_eq!(
        t.on_timeout(t0, &a, addr(1)),
        TimeoutOutcome::Failed {
            state: NodeState::Questionable
        }
    );
    assert_eq!(
        t.on_timeout(t0, &a, addr(1)),
        TimeoutOutcome::Failed {
            state: NodeState::Bad
        }
    );
    // Bad but no candidate: kept (excluded from closest).
    assert!(t.contains(&a));
    assert!(t.closest(t0, &a, 8).is_empty());
    // Responding resets it.
    t.on_response(t0, a, addr(1));
    assert_eq!(t.get(t0, &a).unwrap().state, NodeState::Good);
    // Timeouts for a wrong address or unknown id are ignored.
    assert_eq!(t.on_timeout(t0, &a, addr(2)), TimeoutOutcome::Unknown);
    assert_eq!(
        t.on_timeout(t0, &id_with(1, 1), addr(1)),
        TimeoutOutcome::Unknown
    );
    assert_eq!(t.get(t0, &a).unwrap().failures, 0);
}

#[test]
fn bad_node_replaced_at_once() {
    let t0 = Instant::now();
    let cfg = RoutingConfig {
        max_failures: 3,
        ..Default::default()
    };
    let mut t = RoutingTable::with_config(t0, Id::ZERO, cfg).unwrap();
    for n in 0..8 {
        t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
    }
    t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded); // split
    let victim = id_with(0x80, 4);
    for _ in 0..3 {
        t.on_timeout(t0, &victim, addr(4));
    }
    assert_eq!(t.get(t0, &victim).unwrap().state, NodeState::Bad);
    let out = t.insert(t0, id_with(0xa0, 1), addr(77), Seen::Queried);
    let InsertOutcome::Replaced { evicted, ping } = out else {
        panic!("{out:?}")
    };
    assert_eq!(evicted.id, victim);
    // The newcomer is unverified: ping it.
    assert_eq!(ping.unwrap().id, id_with(0xa0, 1));
    assert!(!t.contains(&victim));
    check_invariants(&t);
}

#[test]
fn querying_node_is_unverified_candidate_until_it_responds() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    let a = id_with(0x80, 1);
    let out = t.on_query(t0, a, addr(1));
    let InsertOutcome::Added { ping: Some(p) } = out else {
        panic!("{out:?}")
    };
    assert_eq!(p.id, a);
    assert_eq!(p.state, NodeState::Unverified);
    assert!(t.closest(t0, &a, 8).is_empty());
    assert_eq!(t.closest_any(t0, &a, 8).len(), 1);
    // Already pinged: take_pings does not repeat it until ping_retry.
    assert!(t.take_pings(t0 + Duration::from_secs(10)).is_empty());
    assert_eq!(t.take_pings(t0 + 2 * MIN).len(), 1);
    // It answers: good.
    t.on_response(t0 + 2 * MIN, a, addr(1));
    assert_eq!(t.closest(t0 + 2 * MIN, &a, 8)[0].state, NodeState::Good);

    // Another unverified node times out once: bad.
    let b = id_with(0x81, 2);
    t.on_query(t0, b, addr(2));
    assert_eq!(
        t.on_timeout(t0, &b, addr(2)),
        TimeoutOutcome::Failed {
            state: NodeState::Bad
        }
    );
    check_invariants(&t);
}

#[test]
fn replacement_cache_bounded_prefers_verified_and_promotes_unverified_for_ping() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    for n in 0..8 {
        t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
    }
    t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded); // split
                                                                // 8 verified candidates fill the cache.
    for n in 0..8 {
        let out = t.insert(t0 + MIN, id_with(0x90, n), addr(100 + n), Seen::Responded);
        assert!(
            matches!(out, InsertOutcome::Cached { ping: None }),
            "{out:?}"
        );
    }
    // An unverified newcomer does not displace verified candidates.
    let out = t.insert(t0 + 2 * MIN, id_with(0x91, 0), addr(200), Seen::Queried);
    assert_eq!(out, InsertOutcome::Rejected(Reject::Full));
    assert_eq!(t.id_for_ip(addr(200).ip()), None);
    // A verified newcomer displaces the least recently seen candidate.
    t.insert(t0 + 3 * MIN, id_with(0x90, 3), addr(103), Seen::Queried); // 3 is fresher now
    let out = t.insert(t0 + 3 * MIN, id_with(0x92, 0), addr(300), Seen::Responded);
    assert!(matches!(out, InsertOutcome::Cached { .. }));
    assert_eq!(t.cached_len(), 8);
    assert!(t.get(t0, &id_with(0x90, 0)).is_none());
    assert!(t.get(t0, &id_with(0x90, 3)).is_some());
    check_invariants(&t);

    // A table whose bucket holds an unverified candidate: after eviction
    // the promoted node is offered for a ping.
    let mut t = table(t0, Id::ZERO);
    for n in 0..8 {
        t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
    }
    t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded);
    let cand = id_with(0xa0, 0);
    let t1 = t0 + 20 * MIN;
    let ping = *t.insert(t1, cand, addr(600), Seen::Queried).ping().unwrap();
    let out = t.on_timeout(t1, &ping.id, ping.addr);
    assert!(matches!(out, TimeoutOutcome::Evicted { promoted: Some(p), .. } if p.id == cand));
    let pings = t.take_pings(t1);
    assert!(pings
        .iter()
        .any(|p| p.id == cand && p.state == NodeState::Unverified));
    check_invariants(&t);
}
