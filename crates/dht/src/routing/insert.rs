//! Insertion: a node seen (a query, a response, a third party), the conflicts with
//! entries on the same id or IP, placement in a free slot, over a bad node, by a
//! split of the last bucket, or in the replacement cache.

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::Id;
use swarmlab_net::{canonical, is_valid_peer};

use super::clock::Stamp;
use super::node_addr::{ip_bytes, NodeAddr};
use super::{
    Bep42Policy, Bucket, Entry, InsertOutcome, Loc, NodeInfo, NodeState, Reject, RoutingTable,
    Seen, MAX_BUCKETS,
};
use crate::bep42;

impl RoutingTable {
    fn replaceable(&self, e: &Entry, now: u64, seen: Seen) -> bool {
        match e.state(now, &self.cfg) {
            NodeState::Bad => true,
            NodeState::Good => false,
            NodeState::Questionable | NodeState::Unverified => seen == Seen::Responded,
        }
    }

    /// Records that node `id` at `addr` was seen at `now` in the way `seen`
    /// says, inserting it if new. See the module docs for the policy.
    pub fn insert(&mut self, now: Instant, id: Id, addr: SocketAddr, seen: Seen) -> InsertOutcome {
        let stamp = self.stamp(now);
        self.pings_changed(stamp);
        if id == self.our_id {
            return InsertOutcome::Rejected(Reject::OwnId);
        }
        if !is_valid_peer(&addr) {
            return InsertOutcome::Rejected(Reject::InvalidAddress);
        }
        let addr = canonical(addr);
        if self.cfg.bep42 == Bep42Policy::Require && !bep42::is_valid(&id, addr.ip()) {
            return InsertOutcome::Rejected(Reject::Bep42);
        }
        let compact = NodeAddr::new(addr);
        let now_ms = stamp.ms();

        // Entries that conflict with the newcomer: same id elsewhere, and
        // another id on the same IP.
        let mut id_conflict = None;
        if let Some(loc) = self.find(&id) {
            if self.entry(loc).addr == compact {
                return self.touch_existing(stamp, loc, seen);
            }
            id_conflict = Some(id);
        }
        let ip_conflict = self
            .find_ip(&ip_bytes(addr.ip()))
            .map(|l| self.entry(l).id)
            .filter(|other| *other != id);
        // Check both before changing anything.
        for (victim, why) in [
            (id_conflict, Reject::IdConflict),
            (ip_conflict, Reject::IpConflict),
        ] {
            if let Some(loc) = victim.and_then(|v| self.find(&v)) {
                if !self.replaceable(self.entry(loc), now_ms, seen) {
                    return InsertOutcome::Rejected(why);
                }
            }
        }
        let mut freed = [None, None];
        for (slot, victim) in [id_conflict, ip_conflict].into_iter().enumerate() {
            if let Some(loc) = victim.and_then(|v| self.find(&v)) {
                self.take(loc);
                if !loc.in_cache {
                    freed[slot] = Some(loc.bucket);
                }
            }
        }

        let entry = Entry::new(stamp, id, addr, seen);
        self.note_good(entry.good_until(&self.cfg));
        let out = self.place(stamp, entry, true);
        for b in freed.into_iter().flatten() {
            self.refill(b, stamp);
        }
        out
    }

    /// `insert` of a node already stored at the same address.
    fn touch_existing(&mut self, now: Stamp, loc: Loc, seen: Seen) -> InsertOutcome {
        if !loc.in_cache {
            self.entry_mut(loc).touch(now, seen);
            self.note_good(self.entry(loc).good_until(&self.cfg));
            if seen == Seen::Responded {
                self.buckets[loc.bucket].last_changed = now;
            }
            return InsertOutcome::Updated;
        }
        if seen != Seen::Responded {
            self.entry_mut(loc).touch(now, seen);
            self.note_good(self.entry(loc).good_until(&self.cfg));
            let ping = self.pick_ping(loc.bucket, now);
            return InsertOutcome::Cached { ping };
        }
        // A cached candidate answered us: re-run placement, it may now take
        // a bad node's slot.
        let mut e = self.take(loc);
        e.touch(now, seen);
        self.note_good(e.good_until(&self.cfg));
        self.place(now, e, true)
    }

    /// Node `id` at `addr` answered one of our queries:
    /// `insert(now, id, addr, Seen::Responded)`.
    pub fn on_response(&mut self, now: Instant, id: Id, addr: SocketAddr) -> InsertOutcome {
        self.insert(now, id, addr, Seen::Responded)
    }

    /// Node `id` at `addr` sent us a query:
    /// `insert(now, id, addr, Seen::Queried)`.
    pub fn on_query(&mut self, now: Instant, id: Id, addr: SocketAddr) -> InsertOutcome {
        self.insert(now, id, addr, Seen::Queried)
    }

    /// Stores a new, unindexed entry: free slot, bad node, split, or cache.
    pub(super) fn place(&mut self, now: Stamp, mut entry: Entry, want_ping: bool) -> InsertOutcome {
        let now_ms = now.ms();
        loop {
            let bi = self.bucket_index(&entry.id);
            let k = self.cfg.k;
            let cfg = self.cfg;
            let clock = self.clock;
            let last = self.buckets.len() - 1;
            let b = &mut self.buckets[bi];

            let self_ping = |e: &mut Entry| -> Option<NodeInfo> {
                if want_ping && e.state(now_ms, &cfg) == NodeState::Unverified {
                    e.ping_sent = Some(now);
                    Some(e.info(&clock, now_ms, &cfg))
                } else {
                    None
                }
            };

            if b.nodes.len() < k {
                let ping = self_ping(&mut entry);
                b.nodes.push(entry.clone());
                b.last_changed = now;
                self.len += 1;
                self.index_ip(&entry);
                return InsertOutcome::Added { ping };
            }

            let worst_bad = b
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, e)| e.state(now_ms, &cfg) == NodeState::Bad)
                .min_by_key(|(_, e)| e.last_seen())
                .map(|(i, _)| i);
            if worst_bad.is_none() && bi == last && self.buckets.len() < MAX_BUCKETS {
                self.split(now);
                continue;
            }
            // With BEP 42 preferred, a secure newcomer that just answered takes the
            // place of the least recently seen node whose id is insecure.
            let secure = |e: &Entry| bep42::is_valid(&e.id, e.addr.socket().ip());
            let b = &mut self.buckets[bi];
            let victim = worst_bad.or_else(|| {
                (cfg.bep42 == Bep42Policy::Prefer
                    && entry.state(now_ms, &cfg) == NodeState::Good
                    && secure(&entry))
                .then(|| {
                    b.nodes
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| !secure(e))
                        .min_by_key(|(_, e)| e.last_seen())
                        .map(|(i, _)| i)
                })
                .flatten()
            });
            if let Some(pos) = victim {
                let ping = self_ping(&mut entry);
                let old = std::mem::replace(&mut b.nodes[pos], entry.clone());
                b.last_changed = now;
                let evicted = old.info(&clock, now_ms, &cfg);
                self.unindex_ip(&old);
                self.index_ip(&entry);
                return InsertOutcome::Replaced { evicted, ping };
            }

            if !self.cache_push(bi, entry) {
                return InsertOutcome::Rejected(Reject::Full);
            }
            let ping = if want_ping {
                self.pick_ping(bi, now)
            } else {
                None
            };
            return InsertOutcome::Cached { ping };
        }
    }

    /// Splits the last bucket (the one covering our id).
    fn split(&mut self, now: Stamp) {
        let last = self.buckets.len() - 1;
        let our = self.our_id;
        let deeper = |e: &Entry| our.common_prefix_len(&e.id) as usize > last;
        let mut newb = Bucket::new(now);
        let old = &mut self.buckets[last];
        let (stay, go): (Vec<Entry>, Vec<Entry>) = old.nodes.drain(..).partition(|e| !deeper(e));
        old.nodes = stay;
        newb.nodes = go;
        let (stay, go): (Vec<Entry>, Vec<Entry>) = old.cache.drain(..).partition(|e| !deeper(e));
        old.cache = stay;
        newb.cache = go;
        self.buckets.push(newb);
        self.refill(last, now);
        self.refill(last + 1, now);
    }
}
