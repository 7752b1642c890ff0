//! The `n` closest nodes to a target, good ones first, with a bucket walk in exact
//! order of distance that stops as soon as it has enough.

use std::time::Instant;

use swarmlab_krpc::Id;

use super::distance::{bit, keep_closest, DistKey};
use super::{Entry, NodeInfo, NodeState, RoutingTable};

impl RoutingTable {
    /// The `n` nodes closest to `target` by XOR distance, preferring good
    /// nodes: the `n` closest good nodes, topped up with the closest
    /// questionable ones if there are fewer than `n` good nodes. Unverified
    /// and bad nodes are never returned. Sorted by distance.
    pub fn closest(&self, now: Instant, target: &Id, n: usize) -> Vec<NodeInfo> {
        self.closest_impl(now, target, n, false)
    }

    /// The `n` closest nodes to `target` of any state except bad (including
    /// unverified), sorted by distance. For seeding lookups when the table
    /// has few verified nodes (e.g. right after loading from disk).
    pub fn closest_any(&self, now: Instant, target: &Id, n: usize) -> Vec<NodeInfo> {
        self.closest_impl(now, target, n, true)
    }

    fn closest_impl(&self, now: Instant, target: &Id, n: usize, any: bool) -> Vec<NodeInfo> {
        if n == 0 || self.len == 0 {
            return Vec::new();
        }
        let cfg = &self.cfg;
        let now = self.ms(now);
        let tkey = DistKey::of(target);
        // `prime`: good (or any non-bad when `any`); `fill`: questionable.
        let mut prime: Vec<(DistKey, (&Entry, NodeState))> = Vec::with_capacity(n.min(64) + cfg.k);
        let mut fill: Vec<(DistKey, (&Entry, NodeState))> = Vec::new();
        // If no node can be good now, questionable nodes are prime at once
        // (lets the walk stop early instead of scanning the whole table).
        let none_good = self.latest_good.is_none_or(|t| now >= t);
        // Buckets come in distance order, so once `fill` holds n nodes at a
        // bucket boundary, later questionable nodes can never be chosen.
        let mut fill_done = false;
        let mut visit = |bi: usize| -> bool {
            for e in &self.buckets[bi].nodes {
                let st = e.state(now, cfg);
                let to = match st {
                    NodeState::Bad => continue,
                    NodeState::Good => &mut prime,
                    NodeState::Questionable if any || none_good => &mut prime,
                    NodeState::Unverified if any => &mut prime,
                    NodeState::Questionable if !fill_done => &mut fill,
                    NodeState::Questionable | NodeState::Unverified => continue,
                };
                to.push((DistKey::of(&e.id).xor(&tkey), (e, st)));
            }
            fill_done = fill.len() >= n;
            prime.len() >= n
        };

        // Visit buckets in strictly increasing distance to the target and
        // stop once `n` prime nodes were collected. With D = our id ^ target:
        // bucket j < last holds ids whose distance to the target agrees with
        // D before bit j and has !D[j] at bit j, the last bucket's agree with
        // D on all its prefix bits. So the order is: buckets j with D[j] = 1
        // by increasing j, then the last bucket, then buckets j with
        // D[j] = 0 by decreasing j.
        let last = self.buckets.len() - 1;
        let d = self.our_id.distance(target);
        'walk: {
            for j in (0..last).filter(|&j| bit(&d, j)) {
                if visit(j) {
                    break 'walk;
                }
            }
            if visit(last) {
                break 'walk;
            }
            for j in (0..last).rev().filter(|&j| !bit(&d, j)) {
                if visit(j) {
                    break 'walk;
                }
            }
        }

        keep_closest(&mut prime, n);
        if prime.len() < n {
            keep_closest(&mut fill, n - prime.len());
            prime.append(&mut fill);
        }
        prime.sort_unstable_by_key(|x| x.0);
        prime
            .into_iter()
            .map(|(_, (e, st))| e.info_in(&self.clock, st))
            .collect()
    }
}
