//! Node states over time, IPv6, and random operations against the invariants.

use super::*;

#[test]
fn ipv6_and_state_transitions() {
    let t0 = Instant::now();
    let mut t = table(t0, Id::ZERO);
    let a = id_with(0x80, 1);
    let sa = SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        6881,
    );
    t.insert(t0, a, sa, Seen::Responded);
    assert_eq!(t.get(t0 + 14 * MIN, &a).unwrap().state, NodeState::Good);
    assert_eq!(
        t.get(t0 + 15 * MIN, &a).unwrap().state,
        NodeState::Questionable
    );
    // It queries us: good again (it has responded before).
    t.on_query(t0 + 20 * MIN, a, sa);
    assert_eq!(t.get(t0 + 21 * MIN, &a).unwrap().state, NodeState::Good);
    assert_eq!(
        t.get(t0 + 35 * MIN, &a).unwrap().state,
        NodeState::Questionable
    );
    let e: Vec<NodeInfo> = t.entries(t0).collect();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].last_query, Some(t0 + 20 * MIN));
    assert_eq!(e[0].last_response, Some(t0));
    assert_eq!(t.remove(t0, &a).unwrap().id, a);
    assert!(t.is_empty());
    check_invariants(&t);
}

#[test]
fn random_operations_keep_invariants() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(99);
    let our = Id::random(&mut rng);
    let mut t = table(t0, our);
    let pool: Vec<Id> = (0..600).map(|_| Id::random(&mut rng)).collect();
    let mut now = t0;
    for step in 0..20_000u32 {
        now += Duration::from_millis(rng.gen_range(0..2000));
        let id = pool[rng.gen_range(0..pool.len())];
        // Few IPs so conflicts happen often.
        let a = addr(rng.gen_range(0..300));
        match rng.gen_range(0..10) {
            0..=3 => {
                t.on_response(now, id, a);
            }
            4..=5 => {
                t.on_query(now, id, a);
            }
            6 => {
                t.insert(now, id, a, Seen::Heard);
            }
            7 => {
                t.on_timeout(now, &id, a);
                if let Some(e) = t.get(now, &id) {
                    t.on_timeout(now, &id, e.addr);
                }
            }
            8 => {
                for p in t.take_pings(now) {
                    if rng.gen_bool(0.5) {
                        t.on_response(now, p.id, p.addr);
                    } else {
                        t.on_timeout(now, &p.id, p.addr);
                    }
                }
            }
            _ => {
                if step % 50 == 0 {
                    t.set_our_id(now, Id::random(&mut rng));
                } else if step % 7 == 0 {
                    t.remove(now, &id);
                } else {
                    t.buckets_needing_refresh(now, &mut rng);
                }
            }
        }
        if step % 97 == 0 {
            check_invariants(&t);
            let target = Id::random(&mut rng);
            let got = t.closest_any(now, &target, 8);
            assert!(got
                .windows(2)
                .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target)));
        }
    }
    check_invariants(&t);
}

/// Times are 4-byte millisecond offsets from the table's epoch (49 days): a table
/// that runs for months moves its epoch forward and keeps telling good from
/// questionable nodes.
#[test]
fn a_table_running_for_months_keeps_its_states() {
    let t0 = Instant::now();
    let mut t = table(t0, id_with(0x80, 0));
    let day = Duration::from_secs(86_400);
    let (a, b) = (id_with(0x00, 1), id_with(0x40, 2));
    t.on_response(t0, a, addr(1));
    t.on_response(t0, b, addr(2));
    for d in [20u32, 40, 60, 90, 120] {
        let now = t0 + day * d;
        // a answers every time; b never again.
        t.on_response(now, a, addr(1));
        assert_eq!(t.get(now, &a).unwrap().state, NodeState::Good, "day {d}");
        assert_eq!(t.get(now, &a).unwrap().last_response, Some(now), "day {d}");
        assert_eq!(
            t.get(now + 14 * MIN, &a).unwrap().state,
            NodeState::Good,
            "day {d}"
        );
        assert_eq!(
            t.get(now + 16 * MIN, &a).unwrap().state,
            NodeState::Questionable,
            "day {d}"
        );
        assert_eq!(t.get(now, &b).unwrap().state, NodeState::Questionable);
        check_invariants(&t);
    }
}
