//! `closest` against brute force, and good nodes first.

use super::*;

fn brute_closest(nodes: &[(Id, SocketAddr)], target: &Id, n: usize) -> Vec<Id> {
    let mut v: Vec<Id> = nodes.iter().map(|x| x.0).collect();
    v.sort_by_cached_key(|id| id.distance(target));
    v.truncate(n);
    v
}

#[test]
fn closest_matches_brute_force() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(5);
    for round in 0..4 {
        let our = Id::random(&mut rng);
        let mut t = table(t0, our);
        let mut i = 0u32;
        // Mix of uniformly random ids and ids near our own (deep buckets).
        while t.len() < 300 && i < 50_000 {
            let mut id = Id::random(&mut rng);
            if i % 3 == 0 {
                copy_prefix(&mut id, &our, (i as usize % 40) + 1);
            }
            t.insert(t0, id, addr(i + round * 100_000), Seen::Responded);
            i += 1;
        }
        check_invariants(&t);
        let nodes: Vec<(Id, SocketAddr)> = t.entries(t0).map(|e| (e.id, e.addr)).collect();
        let mut targets: Vec<Id> = (0..100).map(|_| Id::random(&mut rng)).collect();
        targets.push(our);
        for bits in [1usize, 5, 9, 15, 30, 159] {
            let mut x = Id::random(&mut rng);
            copy_prefix(&mut x, &our, bits);
            targets.push(x);
        }
        for target in &targets {
            for n in [1usize, 8, 20, 1000] {
                let got: Vec<Id> = t.closest(t0, target, n).iter().map(|x| x.id).collect();
                assert_eq!(got, brute_closest(&nodes, target, n), "round {round} n {n}");
            }
        }
    }
}

#[test]
fn closest_prefers_good_nodes() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(11);
    let our = Id::random(&mut rng);
    let mut t = table(t0, our);
    let mut all = Vec::new();
    for i in 0..2000u32 {
        let id = Id::random(&mut rng);
        if t.insert(t0, id, addr(i), Seen::Responded).in_bucket() {
            all.push(id);
        }
    }
    // Refresh half of them 20 minutes later: the rest are questionable.
    let t1 = t0 + 20 * MIN;
    let good: Vec<Id> = all.iter().copied().step_by(2).collect();
    for id in &good {
        let a = t.get(t0, id).unwrap().addr;
        t.on_response(t1, *id, a);
    }
    let all_entries: Vec<(Id, SocketAddr)> = t.entries(t1).map(|e| (e.id, e.addr)).collect();
    let good_entries: Vec<(Id, SocketAddr)> = t
        .entries(t1)
        .filter(|e| e.state == NodeState::Good)
        .map(|e| (e.id, e.addr))
        .collect();
    for _ in 0..50 {
        let target = Id::random(&mut rng);
        let got = t.closest(t1, &target, 8);
        assert_eq!(
            got.iter().map(|x| x.id).collect::<Vec<_>>(),
            brute_closest(&good_entries, &target, 8)
        );
        assert!(got.iter().all(|x| x.state == NodeState::Good));
        // Asking for more than there are good nodes tops up with
        // questionable ones, and returns everything sorted.
        let got = t.closest(t1, &target, all_entries.len());
        assert_eq!(got.len(), all_entries.len());
        assert!(got
            .windows(2)
            .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target)));
    }
    assert!(t.closest(t1, &our, 0).is_empty());

    // Nobody good (everything stale): the n closest questionable nodes.
    let t2 = t0 + 60 * MIN;
    for _ in 0..30 {
        let target = Id::random(&mut rng);
        let got: Vec<Id> = t.closest(t2, &target, 8).iter().map(|x| x.id).collect();
        assert_eq!(got, brute_closest(&all_entries, &target, 8));
    }
    // Exactly three good nodes: all three, plus the 5 closest others.
    let three: Vec<(Id, SocketAddr)> = all_entries.iter().copied().take(3).collect();
    for (id, a) in &three {
        t.on_response(t2, *id, *a);
    }
    let rest: Vec<(Id, SocketAddr)> = all_entries.iter().copied().skip(3).collect();
    for _ in 0..30 {
        let target = Id::random(&mut rng);
        let got = t.closest(t2, &target, 8);
        let got_good: HashSet<Id> = got
            .iter()
            .filter(|x| x.state == NodeState::Good)
            .map(|x| x.id)
            .collect();
        assert_eq!(got_good, three.iter().map(|x| x.0).collect::<HashSet<_>>());
        let got_rest: HashSet<Id> = got
            .iter()
            .filter(|x| x.state != NodeState::Good)
            .map(|x| x.id)
            .collect();
        assert_eq!(
            got_rest,
            brute_closest(&rest, &target, 5)
                .into_iter()
                .collect::<HashSet<_>>()
        );
    }
}
