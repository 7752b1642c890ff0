//! One entry per IP, conflicts, and the addresses and ids refused.

use super::*;

#[test]
fn one_entry_per_ip() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    let a = id_with(0x80, 1);
    let b = id_with(0x40, 2);
    let ip_port = addr(1);
    let same_ip_other_port = SocketAddr::new(ip_port.ip(), 7000);
    t.insert(t0, a, ip_port, Seen::Responded);
    // Good holder: a different id on the same IP is rejected, however seen.
    assert_eq!(
        t.insert(t0, b, ip_port, Seen::Responded),
        InsertOutcome::Rejected(Reject::IpConflict)
    );
    assert_eq!(
        t.insert(t0, b, same_ip_other_port, Seen::Queried),
        InsertOutcome::Rejected(Reject::IpConflict)
    );
    // Same id on another port while good: rejected.
    assert_eq!(
        t.insert(t0, a, same_ip_other_port, Seen::Queried),
        InsertOutcome::Rejected(Reject::IdConflict)
    );
    // Same id from another IP while good: rejected.
    assert_eq!(
        t.insert(t0, a, addr(2), Seen::Responded),
        InsertOutcome::Rejected(Reject::IdConflict)
    );
    // IPv4-mapped IPv6 is the same IP.
    let mapped = SocketAddr::new(
        IpAddr::V6(Ipv4Addr::from(0x0b00_0001).to_ipv6_mapped()),
        6881,
    );
    assert_eq!(
        t.insert(t0, b, mapped, Seen::Responded),
        InsertOutcome::Rejected(Reject::IpConflict)
    );

    // Once questionable: a query from the new id is still not enough...
    let t1 = t0 + 20 * MIN;
    assert_eq!(
        t.insert(t1, b, same_ip_other_port, Seen::Queried),
        InsertOutcome::Rejected(Reject::IpConflict)
    );
    // ...but a response is (restarted node with a new id and port).
    assert!(t
        .insert(t1, b, same_ip_other_port, Seen::Responded)
        .in_bucket());
    assert!(!t.contains(&a));
    assert_eq!(t.id_for_ip(ip_port.ip()), Some(b));

    // A bad holder is replaced even by a mere query.
    t.on_timeout(t1, &b, same_ip_other_port);
    t.on_timeout(t1, &b, same_ip_other_port);
    assert!(t.insert(t1, a, ip_port, Seen::Queried).in_bucket());
    assert!(!t.contains(&b));
    assert_eq!(t.len(), 1);
    check_invariants(&t);
}

#[test]
fn ip_rule_covers_replacement_cache() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    for n in 0..8 {
        t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
    }
    t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded);
    assert!(matches!(
        t.insert(t0, id_with(0x90, 0), addr(600), Seen::Responded),
        InsertOutcome::Cached { .. }
    ));
    // Another id from the cached candidate's IP is rejected (it is good).
    assert_eq!(
        t.insert(t0, id_with(0x91, 0), addr(600), Seen::Queried),
        InsertOutcome::Rejected(Reject::IpConflict)
    );
    check_invariants(&t);
}

#[test]
fn rejects_own_id_bad_addresses_and_bep42_when_enforced() {
    let t0 = Instant::now();
    let mut t = table(t0, Id([7; 20]));
    assert_eq!(
        t.insert(t0, Id([7; 20]), addr(1), Seen::Responded),
        InsertOutcome::Rejected(Reject::OwnId)
    );
    for a in [
        "1.2.3.4:0",
        "0.0.0.0:5",
        "255.255.255.255:5",
        "239.1.1.1:5",
        "[::]:5",
        "[ff02::1]:5",
        // Mapped forms of unspecified and broadcast IPv4: refused as well.
        "[::ffff:0.0.0.0]:5",
        "[::ffff:255.255.255.255]:5",
    ] {
        assert_eq!(
            t.insert(t0, Id([1; 20]), a.parse().unwrap(), Seen::Responded),
            InsertOutcome::Rejected(Reject::InvalidAddress),
            "{a}"
        );
    }
    let cfg = RoutingConfig {
        bep42: super::super::Bep42Policy::Require,
        ..Default::default()
    };
    let mut t = RoutingTable::with_config(t0, Id([7; 20]), cfg).unwrap();
    let ip: IpAddr = "124.31.75.21".parse().unwrap();
    let sa = SocketAddr::new(ip, 1);
    assert_eq!(
        t.insert(t0, Id([1; 20]), sa, Seen::Responded),
        InsertOutcome::Rejected(Reject::Bep42)
    );
    let good = Id::from_hex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401").unwrap();
    assert!(t.insert(t0, good, sa, Seen::Responded).in_bucket());
    // Local addresses are exempt.
    assert!(t
        .insert(
            t0,
            Id([1; 20]),
            "192.168.1.2:1".parse().unwrap(),
            Seen::Responded
        )
        .in_bucket());
    assert!(RoutingTable::with_config(
        t0,
        Id::ZERO,
        RoutingConfig {
            k: 0,
            ..Default::default()
        }
    )
    .is_err());
}

/// A full bucket of insecure ids on public addresses, and a newcomer with a secure id.
fn full_insecure_bucket(
    policy: super::super::Bep42Policy,
) -> (RoutingTable, Instant, Id, SocketAddr) {
    let t0 = Instant::now();
    let cfg = RoutingConfig {
        bep42: policy,
        ..Default::default()
    };
    let mut t = RoutingTable::with_config(t0, Id::ZERO, cfg).unwrap();
    for i in 1..=8u8 {
        let a: SocketAddr = format!("198.51.100.{i}:6881").parse().unwrap();
        let id = Id([0x80 | i; 20]);
        assert!(!crate::bep42::is_valid(&id, a.ip()));
        assert!(t.insert(t0, id, a, Seen::Responded).in_bucket());
    }
    let a: SocketAddr = "198.51.100.200:6881".parse().unwrap();
    let mut rng = rand::rngs::mock::StepRng::new(0x8000_0000_0000_0001, 0x0123_4567_89ab_cdef);
    let secure = loop {
        let id = crate::bep42::derive_id(a.ip(), &mut rng);
        if id.0[0] & 0x80 != 0 {
            break id;
        }
    };
    assert!(crate::bep42::is_valid(&secure, a.ip()));
    (t, t0, secure, a)
}

#[test]
fn prefer_lets_a_secure_id_that_answered_replace_an_insecure_one() {
    use super::super::Bep42Policy;
    // Prefer (the default): the secure newcomer that answered takes a place.
    let (mut t, t0, secure, a) = full_insecure_bucket(Bep42Policy::default());
    let later = t0 + std::time::Duration::from_secs(1);
    // Only querying us proves nothing: it waits in the cache.
    assert!(matches!(
        t.insert(later, secure, a, Seen::Queried),
        InsertOutcome::Cached { .. }
    ));
    let out = t.insert(later, secure, a, Seen::Responded);
    assert!(
        matches!(out, InsertOutcome::Replaced { ref evicted, .. } if evicted.id == Id([0x81; 20])),
        "{out:?}"
    );
    assert!(t.contains(&secure));
    assert_eq!(t.len(), 8);
    // Off: the bucket keeps its good nodes and the newcomer waits.
    let (mut t, t0, secure, a) = full_insecure_bucket(Bep42Policy::Off);
    let out = t.insert(t0, secure, a, Seen::Responded);
    assert!(matches!(out, InsertOutcome::Cached { .. }), "{out:?}");
    assert!(!t.contains(&secure));
}
