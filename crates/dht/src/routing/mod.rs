//! The BEP 5 routing table.
//!
//! # Layout
//! Buckets are indexed by the length of the common prefix (CPL) of a node id
//! with our id: bucket `i < last` holds nodes whose CPL with us is exactly
//! `i`; the last bucket holds every node with CPL `>= last` and is the only
//! one whose range covers our id. Only that bucket splits (BEP 5): when it
//! is full and a node for it arrives, a new last bucket is appended and the
//! nodes with CPL `> last` move into it. A full bucket that does not cover
//! our id never splits. At most 160 buckets exist.
//!
//! # Node states
//! * **Good**: responded to one of our queries within
//!   [`RoutingConfig::good_window`] (15 min), or has responded at some point
//!   and queried us within that window; and no timeout since its last
//!   response.
//! * **Questionable**: has responded at some point, but is not good.
//! * **Unverified**: never responded to us (it only queried us, or we heard
//!   of it from elsewhere / from disk). It is a candidate: it stays out of
//!   [`RoutingTable::closest`] until it answers a ping.
//! * **Bad**: [`RoutingConfig::max_failures`] consecutive timeouts (2 by
//!   default), or an unverified node that failed once.
//!
//! # Insertion into a full bucket
//! 1. a bad node is replaced at once;
//! 2. else the last bucket (our range) splits;
//! 3. else the candidate waits in the bucket's replacement cache
//!    ([`RoutingConfig::replacement_cache`] entries; when that is full the
//!    worst entry — unverified before verified, then least recently seen —
//!    is dropped unless the newcomer is worse), and the table asks the
//!    caller to ping the least recently seen questionable/unverified node
//!    of the bucket ([`InsertOutcome::ping`], [`RoutingTable::take_pings`]).
//!    At most as many pings are in flight per bucket as it has waiting
//!    candidates. When such a node (not good) times out, it is evicted and
//!    the best candidate (verified first, then most recently seen) is
//!    promoted; when it responds it becomes good and the next questionable
//!    node is offered for pinging.
//!
//! # One entry per IP
//! At most one entry (bucket or replacement cache) per IP address
//! (IPv4-mapped IPv6 counts as IPv4). The same rule settles a newcomer that
//! conflicts with an existing entry on the IP (another id or port) or on the
//! id (another address): the old entry is replaced only if it is **bad**, or
//! if it is **not good and the newcomer just responded** to one of our
//! queries (a response to our transaction proves the new address is live,
//! e.g. a node that restarted with a new id or a new port). Otherwise the
//! newcomer is rejected ([`Reject::IpConflict`] / [`Reject::IdConflict`]).
//!
//! # BEP 42 ids
//! [`RoutingConfig::bep42`]: with [`Bep42Policy::Prefer`] (the default) a full bucket
//! with no bad node makes room for a node whose id is secure for its IP and that just
//! answered us, by evicting the least recently seen node whose id is not; with
//! [`Bep42Policy::Require`] insecure ids are refused; [`Bep42Policy::Off`] ignores ids.
//! Local addresses are exempt (every id is secure there).
//!
//! # Refresh
//! Each bucket records when it last changed (a node added or replaced, or a
//! node in it responded). [`RoutingTable::buckets_needing_refresh`] returns
//! a random target id in the range of each bucket unchanged for
//! [`RoutingConfig::refresh_interval`] and marks the bucket as refreshed.
//!
//! # Method families, in the order a node calls them
//! 1. **Build**: [`RoutingTable::new`] / [`RoutingTable::with_config`]
//!    (`config.rs`), and [`RoutingTable::set_our_id`] when BEP 42 gives us a new id
//!    (`own_id.rs`).
//! 2. **Record what the network did** (`insert.rs`, `evict.rs`): for every query
//!    received [`RoutingTable::on_query`], for every response to one of ours
//!    [`RoutingTable::on_response`], for every query of ours that timed out
//!    [`RoutingTable::on_timeout`]; [`RoutingTable::insert`] with [`Seen::Heard`] for
//!    nodes from a state file. Each returns an outcome whose
//!    [`ping`](InsertOutcome::ping) the node must send.
//! 3. **Answer and search** (`closest.rs`): [`RoutingTable::closest`] for `nodes` in
//!    replies and lookup seeds, [`RoutingTable::closest_any`] when few nodes are
//!    verified yet.
//! 4. **Timers** (`pings.rs`, `refresh.rs`): on every tick
//!    [`RoutingTable::take_pings`] (nodes to verify or to check before a candidate
//!    replaces them) and [`RoutingTable::buckets_needing_refresh`] (one find_node
//!    target per stale bucket); [`RoutingTable::next_refresh_at`] for
//!    `poll_timeout`.
//! 5. **Inspect** (`inspect.rs`): [`RoutingTable::entries`] (persistence),
//!    [`RoutingTable::bucket_stats`], [`RoutingTable::good_len`], and the accessors
//!    below.
//!
//! 4. **Timers** also ask [`RoutingTable::next_ping_scan_at`]: when `take_pings` may
//!    have something to return, so that an idle node sleeps until then.
//!
//! # Storage
//! Compact, so that a million simulated nodes fit in memory: an entry takes 56 bytes
//! (`entry.rs`): the 20-byte id, the address in 18 bytes (`node_addr.rs`), and its
//! times as 4-byte offsets from the table's epoch (`clock.rs`, millisecond
//! resolution). The one-entry-per-IP rule is checked against a sorted vector of
//! 4-byte fingerprints of the entries' IPs (`node_addr.rs`), searched only when the
//! fingerprint is present.
//!
//! The rest of the folder: `entry.rs` (an entry and its states), `bucket.rs` (a
//! bucket), `cache.rs` (the replacement cache), `distance.rs` (XOR distance
//! helpers), `outcome.rs` (what the mutating calls return), `tests/`.

mod bucket;
mod cache;
mod clock;
mod closest;
mod config;
mod distance;
mod entry;
mod evict;
mod insert;
mod inspect;
mod node_addr;
mod outcome;
mod own_id;
mod pings;
mod refresh;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::time::Instant;

use swarmlab_krpc::Id;

use crate::ConfigError;
use bucket::{Bucket, Loc};
use clock::{Clock, Stamp};
use entry::Entry;
use node_addr::{ip_bytes, IpIndex};

pub use config::{Bep42Policy, RoutingConfig, MAX_BUCKETS};
pub use entry::{NodeInfo, NodeState, Seen};
pub use inspect::BucketStats;
pub use outcome::{InsertOutcome, Reject, TimeoutOutcome};

/// `pings_due` when nothing time can change is waiting.
const NEVER: u64 = u64::MAX;

/// The BEP 5 routing table. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    our_id: Id,
    cfg: RoutingConfig,
    clock: Clock,
    buckets: Vec<Bucket>,
    /// Fingerprints of the IP of every entry (bucket or cache).
    ips: IpIndex,
    /// Nodes in buckets (not counting caches).
    len: usize,
    /// Upper bound (ms since the epoch) of every entry's good-until (never lowered
    /// except on rebuild): when `now` is past it no node is good. `None`: no entry
    /// was ever good.
    latest_good: Option<u64>,
    /// From when (ms since the epoch) [`take_pings`](Self::take_pings) may have
    /// something to return: the first change since its last scan, or the first ping
    /// retry or good node expiring after it. [`NEVER`] when nothing is waiting.
    pings_due: u64,
}

impl RoutingTable {
    /// An empty table for `our_id` with the default config.
    pub fn new(now: Instant, our_id: Id) -> Self {
        Self::build(now, our_id, RoutingConfig::default())
    }

    /// An empty table with `cfg` (validated).
    pub fn with_config(now: Instant, our_id: Id, cfg: RoutingConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self::build(now, our_id, cfg))
    }

    fn build(now: Instant, our_id: Id, cfg: RoutingConfig) -> Self {
        let clock = Clock::new(now);
        RoutingTable {
            our_id,
            cfg,
            buckets: vec![Bucket::new(clock.stamp(now))],
            clock,
            ips: IpIndex::default(),
            len: 0,
            latest_good: None,
            pings_due: 0,
        }
    }

    /// Our node id.
    pub fn our_id(&self) -> Id {
        self.our_id
    }

    /// The configuration in use.
    pub fn config(&self) -> &RoutingConfig {
        &self.cfg
    }

    /// Nodes in buckets (all states, not counting replacement caches).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no bucket holds a node.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Candidates waiting in replacement caches.
    pub fn cached_len(&self) -> usize {
        self.buckets.iter().map(|b| b.cache.len()).sum()
    }

    /// Number of buckets (1..=160).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// `now` in milliseconds since the table's epoch.
    fn ms(&self, now: Instant) -> u64 {
        self.clock.ms(now)
    }

    /// The stamp of `now`, after moving the epoch forward if stamps would overflow
    /// (every mutating call starts here).
    fn stamp(&mut self, now: Instant) -> Stamp {
        if self.clock.needs_rebase(now) {
            let shift = self.clock.rebase(now);
            for b in &mut self.buckets {
                b.shift(shift);
            }
            self.latest_good = self.latest_good.map(|g| g.saturating_sub(shift));
            if self.pings_due != NEVER {
                self.pings_due = self.pings_due.saturating_sub(shift);
            }
        }
        self.clock.stamp(now)
    }

    /// Something changed at `now`: the next `take_pings` scans.
    fn pings_changed(&mut self, now: Stamp) {
        self.pings_due = self.pings_due.min(now.ms());
    }

    fn bucket_index(&self, id: &Id) -> usize {
        let cpl = self.our_id.common_prefix_len(id) as usize;
        cpl.min(self.buckets.len() - 1)
    }

    fn find(&self, id: &Id) -> Option<Loc> {
        let bi = self.bucket_index(id);
        let b = &self.buckets[bi];
        if let Some(pos) = b.nodes.iter().position(|e| e.id == *id) {
            return Some(Loc {
                bucket: bi,
                in_cache: false,
                pos,
            });
        }
        b.cache.iter().position(|e| e.id == *id).map(|pos| Loc {
            bucket: bi,
            in_cache: true,
            pos,
        })
    }

    /// Where the entry with IP `ip` (16-byte form) is, if any.
    fn find_ip(&self, ip: &[u8; 16]) -> Option<Loc> {
        if !self.ips.may_contain(ip) {
            return None;
        }
        for (bi, b) in self.buckets.iter().enumerate() {
            for (in_cache, list) in [(false, &b.nodes), (true, &b.cache)] {
                if let Some(pos) = list.iter().position(|e| e.addr.has_ip(ip)) {
                    return Some(Loc {
                        bucket: bi,
                        in_cache,
                        pos,
                    });
                }
            }
        }
        None
    }

    fn entry(&self, loc: Loc) -> &Entry {
        let b = &self.buckets[loc.bucket];
        if loc.in_cache {
            &b.cache[loc.pos]
        } else {
            &b.nodes[loc.pos]
        }
    }

    fn entry_mut(&mut self, loc: Loc) -> &mut Entry {
        let b = &mut self.buckets[loc.bucket];
        if loc.in_cache {
            &mut b.cache[loc.pos]
        } else {
            &mut b.nodes[loc.pos]
        }
    }

    /// Records that an entry may be good until `g` (ms).
    fn note_good(&mut self, g: Option<u64>) {
        if let Some(g) = g {
            self.latest_good = Some(self.latest_good.map_or(g, |l| l.max(g)));
        }
    }

    fn index_ip(&mut self, e: &Entry) {
        self.ips.insert(&e.addr.ip_key());
    }

    fn unindex_ip(&mut self, e: &Entry) {
        self.ips.remove(&e.addr.ip_key());
    }

    /// Removes the entry at `loc` from storage and the IP index (no refill).
    fn take(&mut self, loc: Loc) -> Entry {
        let b = &mut self.buckets[loc.bucket];
        let e = if loc.in_cache {
            b.cache.swap_remove(loc.pos)
        } else {
            self.len -= 1;
            b.nodes.swap_remove(loc.pos)
        };
        self.unindex_ip(&e);
        e
    }

    /// The snapshot of node `id`, if it is in a bucket or a cache.
    pub fn get(&self, now: Instant, id: &Id) -> Option<NodeInfo> {
        let now = self.ms(now);
        self.find(id)
            .map(|l| self.entry(l).info(&self.clock, now, &self.cfg))
    }

    /// True when `id` is in a bucket (not just cached).
    pub fn contains(&self, id: &Id) -> bool {
        self.find(id).is_some_and(|l| !l.in_cache)
    }

    /// The id of the entry holding `ip`, if any.
    pub fn id_for_ip(&self, ip: IpAddr) -> Option<Id> {
        self.find_ip(&ip_bytes(ip)).map(|l| self.entry(l).id)
    }

    /// When [`take_pings`](Self::take_pings) may next have something to return (a
    /// change since its last scan, a ping that may be retried, a good node turning
    /// questionable); `None` when nothing but a change can make it return anything.
    /// The node sleeps until then instead of scanning on every tick.
    pub fn next_ping_scan_at(&self) -> Option<Instant> {
        (self.pings_due != NEVER).then(|| self.clock.at_ms(self.pings_due))
    }
}
