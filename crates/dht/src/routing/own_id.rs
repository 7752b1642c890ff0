//! A change of our own id (BEP 42): the table is rebuilt around the new id.

use std::time::Instant;

use swarmlab_krpc::Id;

use super::{Bucket, Entry, RoutingTable};

impl RoutingTable {
    /// Changes our id (BEP 42 re-derivation) and rebuilds the table: every
    /// entry (bucket and cache) is re-inserted with its history, best first
    /// (bucket entries, then by state good → questionable → unverified →
    /// bad, then most recently seen). Entries that no longer fit are
    /// dropped; returns how many. Bucket timers restart at `now`; the
    /// caller should then look up its new id to fill the near buckets.
    pub fn set_our_id(&mut self, now: Instant, new_id: Id) -> usize {
        let stamp = self.stamp(now);
        self.pings_changed(stamp);
        let now_ms = stamp.ms();
        let cfg = self.cfg;
        let mut all: Vec<(bool, Entry)> = Vec::with_capacity(self.len + self.cached_len());
        for b in self.buckets.drain(..) {
            all.extend(b.nodes.into_iter().map(|e| (true, e)));
            all.extend(b.cache.into_iter().map(|e| (false, e)));
        }
        all.sort_by_key(|(in_bucket, e)| {
            (
                !*in_bucket,
                e.state(now_ms, &cfg),
                std::cmp::Reverse(e.last_seen()),
            )
        });
        self.our_id = new_id;
        self.buckets = vec![Bucket::new(stamp)];
        self.ips.clear();
        self.len = 0;
        self.latest_good = None;
        for (_, e) in &all {
            self.note_good(e.good_until(&cfg));
        }
        let total = all.len();
        for (_, e) in all {
            if e.id == new_id || self.find_ip(&e.addr.ip_key()).is_some() {
                continue;
            }
            self.place(stamp, e, false);
        }
        total - (self.len + self.cached_len())
    }
}
