//! Read-only views for persistence and monitoring: every entry, every candidate,
//! numbers per bucket.

use std::time::Instant;

use serde::Serialize;

use super::{NodeInfo, NodeState, RoutingTable};

/// Per-bucket numbers (for printing and monitoring). Serializes without
/// `last_changed` (an `Instant` means nothing outside the process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BucketStats {
    /// Bucket index (= CPL with our id, except the last bucket: `>=`).
    pub index: usize,
    /// Number of leading bits fixed in the bucket's range.
    pub prefix_bits: u32,
    /// Good nodes.
    pub good: usize,
    /// Questionable nodes.
    pub questionable: usize,
    /// Unverified nodes.
    pub unverified: usize,
    /// Bad nodes.
    pub bad: usize,
    /// Candidates in the replacement cache.
    pub cached: usize,
    /// When the bucket last changed.
    #[serde(skip)]
    pub last_changed: Instant,
}

impl BucketStats {
    /// Nodes in the bucket (all states).
    pub fn nodes(&self) -> usize {
        self.good + self.questionable + self.unverified + self.bad
    }
}

impl RoutingTable {
    /// Snapshots of every node in the buckets (for persistence and
    /// display), bucket by bucket.
    pub fn entries(&self, now: Instant) -> impl Iterator<Item = NodeInfo> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .map(move |e| e.info(&self.clock, self.ms(now), &self.cfg))
    }

    /// Snapshots of every replacement-cache candidate.
    pub fn cached_entries(&self, now: Instant) -> impl Iterator<Item = NodeInfo> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.cache.iter())
            .map(move |e| e.info(&self.clock, self.ms(now), &self.cfg))
    }

    /// Per-bucket numbers, bucket 0 (farthest) first.
    pub fn bucket_stats(&self, now: Instant) -> Vec<BucketStats> {
        let now = self.ms(now);
        (0..self.buckets.len())
            .map(|i| {
                let b = &self.buckets[i];
                let mut s = BucketStats {
                    index: i,
                    prefix_bits: self.bucket_range(i).map_or(0, |r| r.1),
                    good: 0,
                    questionable: 0,
                    unverified: 0,
                    bad: 0,
                    cached: b.cache.len(),
                    last_changed: self.clock.instant(b.last_changed),
                };
                for e in &b.nodes {
                    match e.state(now, &self.cfg) {
                        NodeState::Good => s.good += 1,
                        NodeState::Questionable => s.questionable += 1,
                        NodeState::Unverified => s.unverified += 1,
                        NodeState::Bad => s.bad += 1,
                    }
                }
                s
            })
            .collect()
    }

    /// Number of bucket nodes that are good at `now`.
    pub fn good_len(&self, now: Instant) -> usize {
        let now = self.ms(now);
        self.buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .filter(|e| e.state(now, &self.cfg) == NodeState::Good)
            .count()
    }
}
