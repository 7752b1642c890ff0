//! Bucket ranges and refresh: a random id in a bucket's range, the buckets unchanged
//! for `refresh_interval`, and when the next one becomes due.

use std::time::Instant;

use rand::Rng;
use swarmlab_krpc::Id;

use super::clock::ms_of;
use super::distance::{copy_prefix, flip_bit};
use super::RoutingTable;

impl RoutingTable {
    /// The id range of bucket `index`: `(prefix, bits)` meaning "ids whose
    /// first `bits` bits equal those of `prefix`". `None` if out of range.
    pub fn bucket_range(&self, index: usize) -> Option<(Id, u32)> {
        let last = self.buckets.len().checked_sub(1)?;
        if index > last {
            return None;
        }
        let mut prefix = self.our_id;
        if index < last {
            flip_bit(&mut prefix, index);
            Some((prefix, index as u32 + 1))
        } else {
            Some((prefix, last as u32))
        }
    }

    /// A uniformly random id inside bucket `index`'s range.
    pub fn random_id_in_bucket<R: Rng + ?Sized>(&self, index: usize, rng: &mut R) -> Option<Id> {
        let (prefix, bits) = self.bucket_range(index)?;
        let mut id = Id::random(rng);
        copy_prefix(&mut id, &prefix, bits as usize);
        Some(id)
    }

    /// Target ids to look up (`find_node`) to refresh every bucket unchanged
    /// for `refresh_interval`: one random id in each such bucket's range.
    /// Those buckets are marked refreshed at `now`, so they are returned
    /// again only after another interval without change.
    pub fn buckets_needing_refresh<R: Rng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
    ) -> Vec<Id> {
        let stamp = self.stamp(now);
        let interval = ms_of(self.cfg.refresh_interval);
        let mut out = Vec::new();
        for i in 0..self.buckets.len() {
            let due = stamp
                .ms()
                .saturating_sub(self.buckets[i].refresh_base().ms())
                >= interval;
            if due {
                if let Some(id) = self.random_id_in_bucket(i, rng) {
                    out.push(id);
                }
                self.buckets[i].last_refresh = Some(stamp);
            }
        }
        out
    }

    /// When the next bucket becomes due for refresh (for `poll_timeout`).
    pub fn next_refresh_at(&self) -> Option<Instant> {
        let interval = ms_of(self.cfg.refresh_interval);
        self.buckets
            .iter()
            .map(|b| b.refresh_base().ms().saturating_add(interval))
            .min()
            .map(|ms| self.clock.at_ms(ms))
    }
}
