//! The replacement cache of each bucket: candidates waiting for a slot, the best one
//! promoted when a slot frees.

use super::clock::Stamp;
use super::{Entry, NodeInfo, RoutingTable};

impl RoutingTable {
    /// Puts `entry` (unindexed) into bucket `bi`'s cache; false if dropped.
    pub(super) fn cache_push(&mut self, bi: usize, entry: Entry) -> bool {
        let cap = self.cfg.replacement_cache;
        if cap == 0 {
            return false;
        }
        let b = &mut self.buckets[bi];
        if b.cache.len() < cap {
            b.cache.push(entry.clone());
            self.index_ip(&entry);
            return true;
        }
        let worst = b
            .cache
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.cache_key())
            .map(|(i, _)| i);
        match worst {
            Some(i) if entry.cache_key() >= b.cache[i].cache_key() => {
                let old = std::mem::replace(&mut b.cache[i], entry.clone());
                self.unindex_ip(&old);
                self.index_ip(&entry);
                true
            }
            _ => false,
        }
    }

    /// Moves the best cached candidates into free slots of bucket `bi`.
    pub(super) fn refill(&mut self, bi: usize, now: Stamp) -> Option<NodeInfo> {
        let k = self.cfg.k;
        let cfg = self.cfg;
        let clock = self.clock;
        let b = self.buckets.get_mut(bi)?;
        let mut last_promoted = None;
        while b.nodes.len() < k {
            let best = b
                .cache
                .iter()
                .enumerate()
                .max_by_key(|(_, e)| e.cache_key())
                .map(|(i, _)| i);
            let Some(i) = best else { break };
            let e = b.cache.swap_remove(i);
            last_promoted = Some(e.info(&clock, now.ms(), &cfg));
            b.nodes.push(e);
            b.last_changed = now;
            self.len += 1;
        }
        last_promoted
    }
}
