//! How many nodes the network has, estimated from lookups.
//!
//! Node ids are uniform in the id space, so the distances from a random target to the
//! nodes around it behave like the points of a Poisson process whose density is the
//! number of nodes `N`: with distances read as fractions of 2^160, the `m`-th closest
//! node to a target lies at a distance `d` that follows a Gamma(m, N) law (mean
//! `m / N`). A lookup that found the `m` closest nodes to its target gives one such
//! `d`; the likelihood of everything the lookup saw depends on the data only through
//! `m` and `d` (the farthest of the closest), so lookups combine by adding them up:
//! with `M = Σ m` and `D = Σ d` over the lookups,
//!
//! ```text
//! N̂ = (M − 1) / D,        relative standard error 1 / √(M − 2)
//! ```
//!
//! `(M − 1) / D` is the unbiased estimator of a Gamma rate. After 16 lookups that each
//! found k = 8 nodes, `M = 128` and the standard error is 8.9%; after 64, 4.4%.
//!
//! What it counts: the nodes that answer lookups. A lookup's closest nodes are the
//! ones that answered it, so nodes that never answer (behind a NAT, gone) are not
//! counted, and a lookup that missed some of the true closest nodes (loss, a
//! truncated search) makes `d` too large and the estimate low. The querying node is
//! not among its own results (so a network of `N` nodes reads as `N − 1`).
//!
//! ```
//! use swarmlab_dht::estimate::SizeEstimator;
//! use swarmlab_dht::Id;
//!
//! let mut est = SizeEstimator::new();
//! // A lookup of target 00…00 whose closest nodes start with 00 01, 00 02, … 00 08:
//! // the 8th closest is 8/65536 of the id space away, so about 65,536 nodes.
//! let target = Id([0; 20]);
//! let closest: Vec<Id> = (1..=8u8)
//!     .map(|i| {
//!         let mut b = [0u8; 20];
//!         b[1] = i;
//!         Id(b)
//!     })
//!     .collect();
//! est.add(&target, &closest);
//! let e = est.estimate().unwrap();
//! assert!((e.nodes - 7.0 * 8192.0).abs() < 1.0); // (M − 1) / D = 7 / (8 / 65536)
//! ```

use serde::Serialize;
use swarmlab_krpc::Id;

use crate::lookup::LookupResult;

/// Distance from `a` to `b` as a fraction of the id space (from its first 128 bits).
pub fn distance_fraction(a: &Id, b: &Id) -> f64 {
    let d = a.distance(b);
    let mut hi = [0u8; 16];
    hi.copy_from_slice(&d.0[..16]);
    u128::from_be_bytes(hi) as f64 / 2f64.powi(128)
}

/// An estimate of the number of nodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SizeEstimate {
    /// Estimated number of (answering) nodes.
    pub nodes: f64,
    /// Lookups it rests on.
    pub lookups: usize,
    /// Closest nodes it rests on (`M`, the sum over the lookups).
    pub points: usize,
    /// Its relative standard error, `1 / √(M − 2)` (0.089: ±8.9%).
    pub rel_std_error: f64,
}

/// Adds up lookups and estimates the network's size from them (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct SizeEstimator {
    lookups: usize,
    points: usize,
    distance_sum: f64,
}

impl SizeEstimator {
    /// An estimator that has seen no lookup.
    pub fn new() -> SizeEstimator {
        SizeEstimator::default()
    }

    /// Adds one lookup of `target` whose closest nodes were `closest` (in any order;
    /// every one of them is used, so pass the k closest that answered). Returns false,
    /// and adds nothing, for an empty list or one whose farthest node is the target
    /// itself.
    pub fn add(&mut self, target: &Id, closest: &[Id]) -> bool {
        let d = closest
            .iter()
            .map(|id| distance_fraction(target, id))
            .fold(0.0, f64::max);
        if closest.is_empty() || d <= 0.0 || !d.is_finite() {
            return false;
        }
        self.lookups += 1;
        self.points += closest.len();
        self.distance_sum += d;
        true
    }

    /// Adds a lookup's result (its target and the nodes in `closest`).
    pub fn add_result(&mut self, r: &LookupResult) -> bool {
        let ids: Vec<Id> = r.closest.iter().map(|(id, _)| *id).collect();
        self.add(&r.target, &ids)
    }

    /// Lookups added so far.
    pub fn lookups(&self) -> usize {
        self.lookups
    }

    /// The estimate, once the lookups added hold at least 3 nodes in all.
    pub fn estimate(&self) -> Option<SizeEstimate> {
        if self.points < 3 || self.distance_sum <= 0.0 {
            return None;
        }
        let m = self.points as f64;
        Some(SizeEstimate {
            nodes: (m - 1.0) / self.distance_sum,
            lookups: self.lookups,
            points: self.points,
            rel_std_error: 1.0 / (m - 2.0).sqrt(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// The `k` ids of `ids` closest to `target` (brute force).
    fn closest(ids: &[Id], target: &Id, k: usize) -> Vec<Id> {
        let mut v: Vec<Id> = ids.to_vec();
        v.select_nth_unstable_by_key(k - 1, |id| id.distance(target));
        v.truncate(k);
        v
    }

    #[test]
    fn sixteen_exact_lookups_estimate_the_size_within_the_error() {
        let mut rng = StdRng::seed_from_u64(9);
        let n = 4_000;
        let ids: Vec<Id> = (0..n).map(|_| Id::random(&mut rng)).collect();
        let trials = 20;
        let mut within = 0;
        let mut mean = 0.0;
        for _ in 0..trials {
            let mut est = SizeEstimator::new();
            for _ in 0..16 {
                let t = Id::random(&mut rng);
                assert!(est.add(&t, &closest(&ids, &t, 8)));
            }
            let e = est.estimate().unwrap();
            assert_eq!((e.lookups, e.points), (16, 128));
            assert!((e.rel_std_error - 1.0 / 126f64.sqrt()).abs() < 1e-12);
            let err = e.nodes / n as f64 - 1.0;
            if err.abs() <= 0.15 {
                within += 1;
            }
            mean += e.nodes / trials as f64;
        }
        // σ = 8.9%: ±15% is 1.7σ, so about 9 in 10 trials; the mean of 20 trials has
        // σ = 2%.
        assert!(within >= 15, "{within}/{trials} within ±15%");
        assert!(
            (mean / n as f64 - 1.0).abs() < 0.06,
            "mean estimate {mean:.0} for {n} nodes"
        );
    }

    #[test]
    fn more_lookups_narrow_the_estimate() {
        let mut rng = StdRng::seed_from_u64(10);
        let n = 3_000;
        let ids: Vec<Id> = (0..n).map(|_| Id::random(&mut rng)).collect();
        let mut est = SizeEstimator::new();
        for _ in 0..128 {
            let t = Id::random(&mut rng);
            est.add(&t, &closest(&ids, &t, 8));
        }
        let e = est.estimate().unwrap();
        // σ = 1/√1022 = 3.1%.
        assert!((e.nodes / n as f64 - 1.0).abs() < 0.1, "{e:?}");
    }

    #[test]
    fn nothing_to_estimate_from_empty_or_degenerate_lookups() {
        let mut est = SizeEstimator::new();
        assert!(!est.add(&Id([1; 20]), &[]));
        assert!(!est.add(&Id([1; 20]), &[Id([1; 20])]));
        assert_eq!(est.estimate(), None);
        assert_eq!(est.lookups(), 0);
    }
}
