//! Refresh timing, bucket ranges, and a change of our own id.

use super::*;

#[test]
fn refresh_timing() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(2);
    let our = Id::random(&mut rng);
    let mut t = table(t0, our);
    for i in 0..500u32 {
        t.insert(t0, Id::random(&mut rng), addr(i), Seen::Responded);
    }
    let nb = t.bucket_count();
    assert!(nb > 3);
    assert!(t
        .buckets_needing_refresh(t0 + 14 * MIN, &mut rng)
        .is_empty());
    assert_eq!(t.next_refresh_at(), Some(t0 + 15 * MIN));
    // A response in bucket 0 at t0+10min keeps it fresh.
    let b0 = t
        .entries(t0)
        .find(|e| our.common_prefix_len(&e.id) == 0)
        .unwrap();
    t.on_response(t0 + 10 * MIN, b0.id, b0.addr);
    let due = t.buckets_needing_refresh(t0 + 15 * MIN, &mut rng);
    assert_eq!(due.len(), nb - 1);
    // Each target lies in a distinct bucket's range, none in bucket 0.
    let mut seen = HashSet::new();
    for id in &due {
        let bi = (our.common_prefix_len(id) as usize).min(nb - 1);
        assert!(bi != 0 && seen.insert(bi));
        let (prefix, bits) = t.bucket_range(bi).unwrap();
        assert!(prefix.common_prefix_len(id) >= bits);
    }
    // Marked: not due again right away, but after another interval.
    assert!(t
        .buckets_needing_refresh(t0 + 16 * MIN, &mut rng)
        .is_empty());
    assert_eq!(t.buckets_needing_refresh(t0 + 25 * MIN, &mut rng).len(), 1);
    assert_eq!(
        t.buckets_needing_refresh(t0 + 30 * MIN, &mut rng).len(),
        nb - 1
    );
}

#[test]
fn random_id_in_bucket_ranges() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(3);
    let our = Id::random(&mut rng);
    let mut t = table(t0, our);
    for i in 0..3000u32 {
        t.insert(t0, Id::random(&mut rng), addr(i), Seen::Responded);
    }
    let last = t.bucket_count() - 1;
    for i in 0..=last {
        for _ in 0..20 {
            let id = t.random_id_in_bucket(i, &mut rng).unwrap();
            let cpl = our.common_prefix_len(&id) as usize;
            if i < last {
                assert_eq!(cpl, i);
            } else {
                assert!(cpl >= last);
            }
        }
    }
    assert!(t.random_id_in_bucket(last + 1, &mut rng).is_none());
}

#[test]
fn change_our_id_rebuilds() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(4);
    let our = Id::random(&mut rng);
    let mut t = table(t0, our);
    for i in 0..400u32 {
        t.insert(t0, Id::random(&mut rng), addr(i), Seen::Responded);
    }
    let before: HashSet<Id> = t.entries(t0).map(|e| e.id).collect();
    let total_before = t.len() + t.cached_len();
    let new_id = bep42::derive_id("203.0.113.9".parse().unwrap(), &mut rng);
    let dropped = t.set_our_id(t0 + MIN, new_id);
    assert_eq!(t.our_id(), new_id);
    check_invariants(&t);
    assert_eq!(t.len() + t.cached_len() + dropped, total_before);
    // The far half of the id space is now the old ids' bucket 0 or 1;
    // far buckets are full, and every previously good node is still known.
    assert!(t.bucket_stats(t0).iter().take(2).all(|s| s.nodes() == 8));
    let after: HashSet<Id> = t
        .entries(t0)
        .chain(t.cached_entries(t0))
        .map(|e| e.id)
        .collect();
    assert!(before.iter().filter(|id| after.contains(id)).count() >= before.len() / 2);
    // The new own id must not be in the table even if it was before.
    let mut t2 = table(t0, our);
    let x = Id::random(&mut rng);
    t2.insert(t0, x, addr(1), Seen::Responded);
    assert_eq!(t2.set_our_id(t0, x), 1);
    assert!(t2.is_empty());
    check_invariants(&t2);
}
