//! What the simulator knows that no node does: the ids of the live nodes, sorted, so
//! that the true k closest nodes to a target can be found (to check lookups and to
//! fill tables from global knowledge).
//!
//! The ids sharing the first `p` bits with a target are one contiguous run of the
//! sorted ids; every id outside that run is farther from the target (by XOR) than
//! every id inside. So the k closest are among the run of the longest prefix that
//! still holds k ids, found by binary search.

use swarmlab_dht::Id;

/// The live nodes' ids, sorted, each with its node index.
#[derive(Debug, Default, Clone)]
pub struct Truth {
    ids: Vec<(Id, u32)>,
}

/// `id` with every bit from `bits` on set to `fill`.
fn with_tail(id: &Id, bits: usize, fill: bool) -> Id {
    let mut out = *id;
    for i in bits..160 {
        let mask = 0x80u8 >> (i % 8);
        if fill {
            out.0[i / 8] |= mask;
        } else {
            out.0[i / 8] &= !mask;
        }
    }
    out
}

impl Truth {
    /// Adds a live node.
    pub fn insert(&mut self, id: Id, node: u32) {
        let i = self.ids.partition_point(|x| x.0 < id);
        self.ids.insert(i, (id, node));
    }

    /// Removes a node that left.
    pub fn remove(&mut self, id: &Id) {
        if let Ok(i) = self.ids.binary_search_by(|x| x.0.cmp(id)) {
            self.ids.remove(i);
        }
    }

    /// Live nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no node is alive.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ids (with node indices) sharing the first `bits` bits with `prefix`.
    pub fn with_prefix(&self, prefix: &Id, bits: usize) -> &[(Id, u32)] {
        let lo = with_tail(prefix, bits, false);
        let hi = with_tail(prefix, bits, true);
        let a = self.ids.partition_point(|x| x.0 < lo);
        let b = self.ids.partition_point(|x| x.0 <= hi);
        &self.ids[a..b]
    }

    /// The `k` live nodes closest to `target` among those `keep` accepts, closest
    /// first.
    pub fn closest(&self, target: &Id, k: usize, keep: impl Fn(u32) -> bool) -> Vec<(Id, u32)> {
        if k == 0 || self.ids.is_empty() {
            return Vec::new();
        }
        // The longest prefix whose run holds at least k accepted ids (all of them
        // if there are fewer).
        let count = |bits: usize| {
            self.with_prefix(target, bits)
                .iter()
                .filter(|x| keep(x.1))
                .take(k)
                .count()
        };
        let (mut lo, mut hi) = (0usize, 160usize); // count(lo) >= k is the invariant
        if count(0) < k {
            hi = 0;
        }
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if count(mid) >= k {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let mut run: Vec<(Id, u32)> = self
            .with_prefix(target, lo)
            .iter()
            .filter(|x| keep(x.1))
            .copied()
            .collect();
        run.sort_by_key(|x| x.0.distance(target));
        run.truncate(k);
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn closest_matches_brute_force() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut t = Truth::default();
        let ids: Vec<Id> = (0..3000).map(|_| Id::random(&mut rng)).collect();
        for (i, id) in ids.iter().enumerate() {
            t.insert(*id, i as u32);
        }
        for _ in 0..50 {
            let target = Id::random(&mut rng);
            let mut want: Vec<(Id, u32)> = ids
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 3 != 0)
                .map(|(i, id)| (*id, i as u32))
                .collect();
            want.sort_by_key(|x| x.0.distance(&target));
            want.truncate(8);
            assert_eq!(t.closest(&target, 8, |n| n % 3 != 0), want);
        }
        t.remove(&ids[0]);
        assert_eq!(t.len(), 2999);
        assert_eq!(t.closest(&ids[0], 1, |_| true).len(), 1);
        assert_ne!(t.closest(&ids[0], 1, |_| true)[0].0, ids[0]);
    }
}
