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
//! # Refresh
//! Each bucket records when it last changed (a node added or replaced, or a
//! node in it responded). [`RoutingTable::buckets_needing_refresh`] returns
//! a random target id in the range of each bucket unchanged for
//! [`RoutingConfig::refresh_interval`] and marks the bucket as refreshed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::Rng;
use swarmlab_krpc::Id;

use crate::error::check_len;
use crate::{bep42, ConfigError};

/// Maximum number of buckets (one per bit of the id space).
pub const MAX_BUCKETS: usize = 160;

/// Routing table settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingConfig {
    /// Bucket size *k*. Default 8.
    pub k: usize,
    /// Replacement-cache size per bucket (0 disables it). Default 8.
    pub replacement_cache: usize,
    /// Consecutive timeouts after which a verified node is bad. Default 2.
    pub max_failures: u32,
    /// Activity window of a good node. Default 15 minutes.
    pub good_window: Duration,
    /// A bucket unchanged this long needs a refresh. Default 15 minutes.
    pub refresh_interval: Duration,
    /// A ping the table asked for and that got neither
    /// [`RoutingTable::on_response`] nor [`RoutingTable::on_timeout`] within
    /// this is considered lost and may be asked for again. Default 60 s.
    pub ping_retry: Duration,
    /// Reject nodes whose id does not satisfy BEP 42 for their IP (local
    /// addresses exempt). Default `false`.
    pub enforce_bep42: bool,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            k: 8,
            replacement_cache: 8,
            max_failures: 2,
            good_window: Duration::from_secs(15 * 60),
            refresh_interval: Duration::from_secs(15 * 60),
            ping_retry: Duration::from_secs(60),
            enforce_bep42: false,
        }
    }
}

impl RoutingConfig {
    /// Checks `k >= 1`, `max_failures >= 1` and positive durations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.k == 0 {
            return Err(ConfigError::Zero("k"));
        }
        if self.max_failures == 0 {
            return Err(ConfigError::Zero("max_failures"));
        }
        if self.good_window.is_zero() {
            return Err(ConfigError::ZeroDuration("good_window"));
        }
        if self.refresh_interval.is_zero() {
            return Err(ConfigError::ZeroDuration("refresh_interval"));
        }
        if self.ping_retry.is_zero() {
            return Err(ConfigError::ZeroDuration("ping_retry"));
        }
        check_len("good_window", self.good_window)?;
        check_len("refresh_interval", self.refresh_interval)?;
        check_len("ping_retry", self.ping_retry)?;
        Ok(())
    }
}

/// How we came to know about a node being inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seen {
    /// It answered one of our queries (verified).
    Responded,
    /// It sent us a query (unverified unless it has responded before).
    Queried,
    /// Learned from a third party or from disk: unverified, no activity.
    Heard,
}

/// State of a node at some instant (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeState {
    /// Responsive recently.
    Good,
    /// Responded before but not recently, or timed out once.
    Questionable,
    /// Never responded to us.
    Unverified,
    /// Failed repeatedly.
    Bad,
}

/// A snapshot of one routing-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node id.
    pub id: Id,
    /// Its address (canonical: IPv4-mapped IPv6 becomes IPv4).
    pub addr: SocketAddr,
    /// State at the instant the snapshot was taken.
    pub state: NodeState,
    /// Last time it answered one of our queries.
    pub last_response: Option<Instant>,
    /// Last time it queried us.
    pub last_query: Option<Instant>,
    /// Consecutive timeouts since its last response.
    pub failures: u32,
}

/// Why an insertion was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// The id is our own.
    OwnId,
    /// Port 0, or an unspecified, multicast or broadcast IP.
    InvalidAddress,
    /// The id violates BEP 42 for its IP ([`RoutingConfig::enforce_bep42`]).
    Bep42,
    /// The id is in the table with another address that may not be replaced.
    IdConflict,
    /// The IP is in the table (other id or port) and may not be replaced.
    IpConflict,
    /// The bucket is full and the candidate was not kept in its cache.
    Full,
}

/// Result of [`RoutingTable::insert`] / [`RoutingTable::on_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored in a bucket. `ping` is the node itself when it is unverified:
    /// send it a query (ping or find_node) to verify it.
    Added {
        /// Node to query now, if any.
        ping: Option<NodeInfo>,
    },
    /// Already in a bucket at this address; its timestamps were refreshed.
    Updated,
    /// Took the place of `evicted` (bad, or conflicting and replaceable).
    Replaced {
        /// The entry that left the table.
        evicted: NodeInfo,
        /// The new node itself when it is unverified.
        ping: Option<NodeInfo>,
    },
    /// Bucket full: the node waits in the replacement cache. `ping`, if set,
    /// is a questionable node of that bucket to ping now; if that ping times
    /// out the best candidate is promoted.
    Cached {
        /// Node to ping now, if any.
        ping: Option<NodeInfo>,
    },
    /// Not stored.
    Rejected(Reject),
}

impl InsertOutcome {
    /// The node the caller should ping now, if any.
    pub fn ping(&self) -> Option<&NodeInfo> {
        match self {
            InsertOutcome::Added { ping }
            | InsertOutcome::Replaced { ping, .. }
            | InsertOutcome::Cached { ping } => ping.as_ref(),
            InsertOutcome::Updated | InsertOutcome::Rejected(_) => None,
        }
    }

    /// True when the node is now in a bucket (not cache, not rejected).
    pub fn in_bucket(&self) -> bool {
        matches!(
            self,
            InsertOutcome::Added { .. } | InsertOutcome::Updated | InsertOutcome::Replaced { .. }
        )
    }
}

/// Result of [`RoutingTable::on_timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutOutcome {
    /// No entry with that id and address: nothing changed.
    Unknown,
    /// Failure recorded; the entry stays with the given state.
    Failed {
        /// Its state after the failure.
        state: NodeState,
    },
    /// The entry was removed; `promoted` took its bucket slot.
    Evicted {
        /// The removed entry.
        evicted: NodeInfo,
        /// The replacement-cache candidate moved into the bucket, if any.
        promoted: Option<NodeInfo>,
    },
}

/// Per-bucket numbers (for printing and monitoring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub last_changed: Instant,
}

impl BucketStats {
    /// Nodes in the bucket (all states).
    pub fn nodes(&self) -> usize {
        self.good + self.questionable + self.unverified + self.bad
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: Id,
    addr: SocketAddr,
    added: Instant,
    last_response: Option<Instant>,
    last_query: Option<Instant>,
    failures: u32,
    ping_sent: Option<Instant>,
    /// Cached from the fields above: until when the node is good.
    good_until: GoodUntil,
}

/// Until when an entry is good (derived, so `closest` compares one instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoodUntil {
    Not,
    Until(Instant),
    Forever,
}

fn later(a: Option<Instant>, b: Instant) -> Option<Instant> {
    Some(a.map_or(b, |a| a.max(b)))
}

impl Entry {
    fn new(now: Instant, id: Id, addr: SocketAddr, seen: Seen, cfg: &RoutingConfig) -> Self {
        let mut e = Entry {
            id,
            addr,
            added: now,
            last_response: None,
            last_query: None,
            failures: 0,
            ping_sent: None,
            good_until: GoodUntil::Not,
        };
        e.touch(now, seen, cfg);
        e
    }

    fn touch(&mut self, now: Instant, seen: Seen, cfg: &RoutingConfig) {
        match seen {
            Seen::Responded => {
                self.last_response = later(self.last_response, now);
                self.failures = 0;
                self.ping_sent = None;
            }
            Seen::Queried => self.last_query = later(self.last_query, now),
            Seen::Heard => {}
        }
        self.update_good_until(cfg);
    }

    fn fail(&mut self, cfg: &RoutingConfig) {
        self.failures = self.failures.saturating_add(1);
        self.ping_sent = None;
        self.update_good_until(cfg);
    }

    /// Good = no failure since the last response, and the last response (or
    /// a query after having responded once) is within `good_window`.
    fn update_good_until(&mut self, cfg: &RoutingConfig) {
        self.good_until = match self.last_response {
            Some(r) if self.failures == 0 => {
                let anchor = self.last_query.map_or(r, |q| q.max(r));
                match anchor.checked_add(cfg.good_window) {
                    Some(t) => GoodUntil::Until(t),
                    None => GoodUntil::Forever,
                }
            }
            _ => GoodUntil::Not,
        };
    }

    fn last_seen(&self) -> Instant {
        let mut t = self.added;
        if let Some(r) = self.last_response {
            t = t.max(r);
        }
        if let Some(q) = self.last_query {
            t = t.max(q);
        }
        t
    }

    #[inline]
    fn state(&self, now: Instant, cfg: &RoutingConfig) -> NodeState {
        match self.good_until {
            GoodUntil::Forever => return NodeState::Good,
            GoodUntil::Until(t) if now < t => return NodeState::Good,
            _ => {}
        }
        if self.failures >= cfg.max_failures {
            NodeState::Bad
        } else if self.last_response.is_none() {
            if self.failures > 0 {
                NodeState::Bad
            } else {
                NodeState::Unverified
            }
        } else {
            NodeState::Questionable
        }
    }

    fn ping_in_flight(&self, now: Instant, cfg: &RoutingConfig) -> bool {
        self.ping_sent
            .is_some_and(|t| now.saturating_duration_since(t) < cfg.ping_retry)
    }

    /// Ordering key for replacement-cache quality: verified first, then
    /// most recently seen.
    fn cache_key(&self) -> (bool, Instant) {
        (self.last_response.is_some(), self.last_seen())
    }

    fn info(&self, now: Instant, cfg: &RoutingConfig) -> NodeInfo {
        NodeInfo {
            id: self.id,
            addr: self.addr,
            state: self.state(now, cfg),
            last_response: self.last_response,
            last_query: self.last_query,
            failures: self.failures,
        }
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    nodes: Vec<Entry>,
    cache: Vec<Entry>,
    last_changed: Instant,
    last_refresh: Option<Instant>,
}

impl Bucket {
    fn new(now: Instant) -> Self {
        Bucket {
            nodes: Vec::new(),
            cache: Vec::new(),
            last_changed: now,
            last_refresh: None,
        }
    }

    fn refresh_base(&self) -> Instant {
        match self.last_refresh {
            Some(r) => r.max(self.last_changed),
            None => self.last_changed,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    bucket: usize,
    in_cache: bool,
    pos: usize,
}

fn valid_addr(addr: &SocketAddr) -> bool {
    let ip = addr.ip();
    addr.port() != 0
        && !ip.is_unspecified()
        && !ip.is_multicast()
        && !matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// Copies the first `bits` bits of `from` into `into`.
fn copy_prefix(into: &mut Id, from: &Id, bits: usize) {
    let bits = bits.min(160);
    let full = bits / 8;
    into.0[..full].copy_from_slice(&from.0[..full]);
    let rem = bits % 8;
    if rem > 0 {
        let mask = 0xffu8 << (8 - rem);
        into.0[full] = (from.0[full] & mask) | (into.0[full] & !mask);
    }
}

fn flip_bit(id: &mut Id, bit: usize) {
    if bit < 160 {
        id.0[bit / 8] ^= 0x80 >> (bit % 8);
    }
}

/// Bit `i` of `id` (0 = most significant); false past the end.
fn bit(id: &Id, i: usize) -> bool {
    i < 160 && (id.0[i / 8] >> (7 - (i % 8))) & 1 == 1
}

/// An id as two big-endian integers: orders exactly like the bytes, but
/// compares and xors in a few instructions (hot path of `closest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct DistKey(u128, u32);

impl DistKey {
    fn of(id: &Id) -> Self {
        let mut hi = [0u8; 16];
        hi.copy_from_slice(&id.0[..16]);
        let mut lo = [0u8; 4];
        lo.copy_from_slice(&id.0[16..]);
        DistKey(u128::from_be_bytes(hi), u32::from_be_bytes(lo))
    }

    fn xor(self, o: &DistKey) -> Self {
        DistKey(self.0 ^ o.0, self.1 ^ o.1)
    }
}

/// Keeps the `m` entries with the smallest distance (unordered).
fn keep_closest<T>(v: &mut Vec<(DistKey, T)>, m: usize) {
    if v.len() > m {
        if m > 0 {
            v.select_nth_unstable_by_key(m - 1, |x| x.0);
        }
        v.truncate(m);
    }
}

/// The BEP 5 routing table. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    our_id: Id,
    cfg: RoutingConfig,
    buckets: Vec<Bucket>,
    /// IP → id of the single entry (bucket or cache) with that IP.
    by_ip: HashMap<IpAddr, Id>,
    /// Nodes in buckets (not counting caches).
    len: usize,
    /// Upper bound of every entry's `good_until` (never lowered except on
    /// rebuild): when `now` is past it no node is good.
    latest_good: GoodUntil,
    /// Until when [`take_pings`](Self::take_pings) certainly has nothing to
    /// return (no change since its last scan, and no ping retry or good
    /// node expiring before then). `None`: scan on the next call.
    pings_quiet_until: Option<Instant>,
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
        RoutingTable {
            our_id,
            cfg,
            buckets: vec![Bucket::new(now)],
            by_ip: HashMap::new(),
            len: 0,
            latest_good: GoodUntil::Not,
            pings_quiet_until: None,
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

    fn note_good(&mut self, g: GoodUntil) {
        self.latest_good = match (self.latest_good, g) {
            (GoodUntil::Forever, _) | (_, GoodUntil::Forever) => GoodUntil::Forever,
            (GoodUntil::Until(a), GoodUntil::Until(b)) => GoodUntil::Until(a.max(b)),
            (GoodUntil::Not, x) | (x, GoodUntil::Not) => x,
        };
    }

    fn index_ip(&mut self, e: &Entry) {
        self.by_ip.insert(e.addr.ip(), e.id);
    }

    fn unindex_ip(&mut self, e: &Entry) {
        if self.by_ip.get(&e.addr.ip()) == Some(&e.id) {
            self.by_ip.remove(&e.addr.ip());
        }
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
        self.find(id).map(|l| self.entry(l).info(now, &self.cfg))
    }

    /// True when `id` is in a bucket (not just cached).
    pub fn contains(&self, id: &Id) -> bool {
        self.find(id).is_some_and(|l| !l.in_cache)
    }

    /// The id of the entry holding `ip`, if any.
    pub fn id_for_ip(&self, ip: IpAddr) -> Option<Id> {
        self.by_ip.get(&ip.to_canonical()).copied()
    }

    fn replaceable(&self, e: &Entry, now: Instant, seen: Seen) -> bool {
        match e.state(now, &self.cfg) {
            NodeState::Bad => true,
            NodeState::Good => false,
            NodeState::Questionable | NodeState::Unverified => seen == Seen::Responded,
        }
    }

    /// Records that node `id` at `addr` was seen at `now` in the way `seen`
    /// says, inserting it if new. See the module docs for the policy.
    pub fn insert(&mut self, now: Instant, id: Id, addr: SocketAddr, seen: Seen) -> InsertOutcome {
        self.pings_quiet_until = None;
        if id == self.our_id {
            return InsertOutcome::Rejected(Reject::OwnId);
        }
        if !valid_addr(&addr) {
            return InsertOutcome::Rejected(Reject::InvalidAddress);
        }
        let addr = canonical(addr);
        if self.cfg.enforce_bep42 && !bep42::is_valid(&id, addr.ip()) {
            return InsertOutcome::Rejected(Reject::Bep42);
        }

        // Entries that conflict with the newcomer: same id elsewhere, and
        // another id on the same IP.
        let mut id_conflict = None;
        if let Some(loc) = self.find(&id) {
            if self.entry(loc).addr == addr {
                return self.touch_existing(now, loc, seen);
            }
            id_conflict = Some(id);
        }
        let ip = addr.ip();
        let mut ip_conflict = None;
        if let Some(other) = self.by_ip.get(&ip).copied() {
            if other != id {
                if self.find(&other).is_some() {
                    ip_conflict = Some(other);
                } else {
                    // Stale index entry (should not happen): drop it.
                    self.by_ip.remove(&ip);
                }
            }
        }
        // Check both before changing anything.
        for (victim, why) in [
            (id_conflict, Reject::IdConflict),
            (ip_conflict, Reject::IpConflict),
        ] {
            if let Some(loc) = victim.and_then(|v| self.find(&v)) {
                if !self.replaceable(self.entry(loc), now, seen) {
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

        let entry = Entry::new(now, id, addr, seen, &self.cfg);
        self.note_good(entry.good_until);
        let out = self.place(now, entry, true);
        for b in freed.into_iter().flatten() {
            self.refill(b, now);
        }
        out
    }

    /// `insert` of a node already stored at the same address.
    fn touch_existing(&mut self, now: Instant, loc: Loc, seen: Seen) -> InsertOutcome {
        let cfg = self.cfg;
        if !loc.in_cache {
            self.entry_mut(loc).touch(now, seen, &cfg);
            self.note_good(self.entry(loc).good_until);
            if seen == Seen::Responded {
                self.buckets[loc.bucket].last_changed = now;
            }
            return InsertOutcome::Updated;
        }
        if seen != Seen::Responded {
            self.entry_mut(loc).touch(now, seen, &cfg);
            self.note_good(self.entry(loc).good_until);
            let ping = self.pick_ping(loc.bucket, now);
            return InsertOutcome::Cached { ping };
        }
        // A cached candidate answered us: re-run placement, it may now take
        // a bad node's slot.
        let mut e = self.take(loc);
        e.touch(now, seen, &cfg);
        self.note_good(e.good_until);
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
    fn place(&mut self, now: Instant, mut entry: Entry, want_ping: bool) -> InsertOutcome {
        loop {
            let bi = self.bucket_index(&entry.id);
            let k = self.cfg.k;
            let cfg = self.cfg;
            let last = self.buckets.len() - 1;
            let b = &mut self.buckets[bi];

            let self_ping = |e: &mut Entry| -> Option<NodeInfo> {
                if want_ping && e.state(now, &cfg) == NodeState::Unverified {
                    e.ping_sent = Some(now);
                    Some(e.info(now, &cfg))
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
                .filter(|(_, e)| e.state(now, &cfg) == NodeState::Bad)
                .min_by_key(|(_, e)| e.last_seen())
                .map(|(i, _)| i);
            if let Some(pos) = worst_bad {
                let ping = self_ping(&mut entry);
                let old = std::mem::replace(&mut b.nodes[pos], entry.clone());
                b.last_changed = now;
                let evicted = old.info(now, &cfg);
                self.unindex_ip(&old);
                self.index_ip(&entry);
                return InsertOutcome::Replaced { evicted, ping };
            }

            if bi == last && self.buckets.len() < MAX_BUCKETS {
                self.split(now);
                continue;
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

    /// Puts `entry` (unindexed) into bucket `bi`'s cache; false if dropped.
    fn cache_push(&mut self, bi: usize, entry: Entry) -> bool {
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

    /// Splits the last bucket (the one covering our id).
    fn split(&mut self, now: Instant) {
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

    /// Moves the best cached candidates into free slots of bucket `bi`.
    fn refill(&mut self, bi: usize, now: Instant) -> Option<NodeInfo> {
        let k = self.cfg.k;
        let cfg = self.cfg;
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
            last_promoted = Some(e.info(now, &cfg));
            b.nodes.push(e);
            b.last_changed = now;
            self.len += 1;
        }
        last_promoted
    }

    /// Picks the least recently seen not-good node of bucket `bi` to ping,
    /// if the bucket has more waiting candidates than pings in flight.
    fn pick_ping(&mut self, bi: usize, now: Instant) -> Option<NodeInfo> {
        let cfg = self.cfg;
        let b = self.buckets.get_mut(bi)?;
        if b.cache.is_empty() {
            return None; // no candidate waits: nothing to ping for
        }
        // One pass (this runs on every tick for every bucket with candidates):
        // count the pings in flight and find the least recently seen
        // questionable or unverified node without one.
        let mut in_flight = 0;
        let mut pick: Option<(usize, Instant)> = None;
        for (i, e) in b.nodes.iter().enumerate() {
            if e.ping_in_flight(now, &cfg) {
                in_flight += 1;
                continue;
            }
            if !matches!(
                e.state(now, &cfg),
                NodeState::Questionable | NodeState::Unverified
            ) {
                continue;
            }
            let seen = e.last_seen();
            if pick.is_none_or(|(_, s)| seen < s) {
                pick = Some((i, seen));
            }
        }
        if in_flight >= b.cache.len() {
            return None;
        }
        let e = &mut b.nodes[pick?.0];
        e.ping_sent = Some(now);
        Some(e.info(now, &cfg))
    }

    /// Every ping the table wants sent now: unverified bucket nodes not yet
    /// pinged, and questionable nodes of full buckets with waiting
    /// candidates. Returned nodes are marked as pinged; report the result
    /// with [`on_response`](Self::on_response) /
    /// [`on_timeout`](Self::on_timeout). Call after handling events or on a
    /// timer (e.g. every few seconds).
    pub fn take_pings(&mut self, now: Instant) -> Vec<NodeInfo> {
        // Nodes call this on every tick: skip the scan while nothing can have
        // changed (no insert/timeout/removal since the last scan, and no ping
        // retry or good node's expiry has come).
        if self.pings_quiet_until.is_some_and(|t| now < t) {
            return Vec::new();
        }
        let cfg = self.cfg;
        let mut out = Vec::new();
        for bi in 0..self.buckets.len() {
            for e in &mut self.buckets[bi].nodes {
                // Unverified: never responded and never failed.
                if e.last_response.is_none() && e.failures == 0 && !e.ping_in_flight(now, &cfg) {
                    e.ping_sent = Some(now);
                    out.push(e.info(now, &cfg));
                }
            }
            while let Some(p) = self.pick_ping(bi, now) {
                out.push(p);
            }
        }
        // Without a change, the next scan can only find something once a ping
        // in flight may be retried or a good node turns questionable.
        let mut quiet: Option<Instant> = None;
        let mut bound = |t: Option<Instant>| {
            if let Some(t) = t {
                quiet = Some(quiet.map_or(t, |q| q.min(t)));
            }
        };
        for e in self.buckets.iter().flat_map(|b| b.nodes.iter()) {
            if let Some(p) = e.ping_sent.and_then(|p| p.checked_add(cfg.ping_retry)) {
                if p > now {
                    bound(Some(p));
                }
            }
            if let GoodUntil::Until(t) = e.good_until {
                if t > now {
                    bound(Some(t));
                }
            }
        }
        // Nothing that time alone can change: quiet until the next change.
        self.pings_quiet_until = Some(quiet.unwrap_or_else(|| {
            now.checked_add(Duration::from_secs(365 * 86_400))
                .unwrap_or(now)
        }));
        out
    }

    /// Node `id` at `addr` did not answer one of our queries in time.
    /// Ignored unless both id and address match an entry.
    pub fn on_timeout(&mut self, now: Instant, id: &Id, addr: SocketAddr) -> TimeoutOutcome {
        self.pings_quiet_until = None;
        let addr = canonical(addr);
        let Some(loc) = self.find(id) else {
            return TimeoutOutcome::Unknown;
        };
        if self.entry(loc).addr != addr {
            return TimeoutOutcome::Unknown;
        }
        let cfg = self.cfg;
        let e = self.entry_mut(loc);
        let before = e.state(now, &cfg);
        e.fail(&cfg);
        let after = e.state(now, &cfg);

        if loc.in_cache {
            if after == NodeState::Bad {
                let evicted = self.take(loc).info(now, &cfg);
                return TimeoutOutcome::Evicted {
                    evicted,
                    promoted: None,
                };
            }
            return TimeoutOutcome::Failed { state: after };
        }

        let has_candidate = !self.buckets[loc.bucket].cache.is_empty();
        let evict = has_candidate && (after == NodeState::Bad || before != NodeState::Good);
        if !evict {
            return TimeoutOutcome::Failed { state: after };
        }
        let evicted = self.take(loc).info(now, &cfg);
        let promoted = self.refill(loc.bucket, now);
        TimeoutOutcome::Evicted { evicted, promoted }
    }

    /// Removes node `id` (bucket or cache); a cached candidate takes a freed
    /// bucket slot.
    pub fn remove(&mut self, now: Instant, id: &Id) -> Option<NodeInfo> {
        self.pings_quiet_until = None;
        let loc = self.find(id)?;
        let e = self.take(loc);
        if !loc.in_cache {
            self.refill(loc.bucket, now);
        }
        Some(e.info(now, &self.cfg))
    }

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
        let tkey = DistKey::of(target);
        // `prime`: good (or any non-bad when `any`); `fill`: questionable.
        let mut prime: Vec<(DistKey, (&Entry, NodeState))> = Vec::with_capacity(n.min(64) + cfg.k);
        let mut fill: Vec<(DistKey, (&Entry, NodeState))> = Vec::new();
        // If no node can be good now, questionable nodes are prime at once
        // (lets the walk stop early instead of scanning the whole table).
        let none_good = match self.latest_good {
            GoodUntil::Forever => false,
            GoodUntil::Until(t) => now >= t,
            GoodUntil::Not => true,
        };
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
            .map(|(_, (e, st))| NodeInfo {
                id: e.id,
                addr: e.addr,
                state: st,
                last_response: e.last_response,
                last_query: e.last_query,
                failures: e.failures,
            })
            .collect()
    }

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
        let interval = self.cfg.refresh_interval;
        let mut out = Vec::new();
        for i in 0..self.buckets.len() {
            let due = now.saturating_duration_since(self.buckets[i].refresh_base()) >= interval;
            if due {
                if let Some(id) = self.random_id_in_bucket(i, rng) {
                    out.push(id);
                }
                self.buckets[i].last_refresh = Some(now);
            }
        }
        out
    }

    /// When the next bucket becomes due for refresh (for `poll_timeout`).
    pub fn next_refresh_at(&self) -> Option<Instant> {
        self.buckets
            .iter()
            .filter_map(|b| b.refresh_base().checked_add(self.cfg.refresh_interval))
            .min()
    }

    /// Snapshots of every node in the buckets (for persistence and
    /// display), bucket by bucket.
    pub fn entries(&self, now: Instant) -> impl Iterator<Item = NodeInfo> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .map(move |e| e.info(now, &self.cfg))
    }

    /// Snapshots of every replacement-cache candidate.
    pub fn cached_entries(&self, now: Instant) -> impl Iterator<Item = NodeInfo> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.cache.iter())
            .map(move |e| e.info(now, &self.cfg))
    }

    /// Per-bucket numbers, bucket 0 (farthest) first.
    pub fn bucket_stats(&self, now: Instant) -> Vec<BucketStats> {
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
                    last_changed: b.last_changed,
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
        self.buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .filter(|e| e.state(now, &self.cfg) == NodeState::Good)
            .count()
    }

    /// Changes our id (BEP 42 re-derivation) and rebuilds the table: every
    /// entry (bucket and cache) is re-inserted with its history, best first
    /// (bucket entries, then by state good → questionable → unverified →
    /// bad, then most recently seen). Entries that no longer fit are
    /// dropped; returns how many. Bucket timers restart at `now`; the
    /// caller should then look up its new id to fill the near buckets.
    pub fn set_our_id(&mut self, now: Instant, new_id: Id) -> usize {
        self.pings_quiet_until = None;
        let cfg = self.cfg;
        let mut all: Vec<(bool, Entry)> = Vec::with_capacity(self.len + self.cached_len());
        for b in self.buckets.drain(..) {
            all.extend(b.nodes.into_iter().map(|e| (true, e)));
            all.extend(b.cache.into_iter().map(|e| (false, e)));
        }
        all.sort_by_key(|(in_bucket, e)| {
            (
                !*in_bucket,
                e.state(now, &cfg),
                std::cmp::Reverse(e.last_seen()),
            )
        });
        self.our_id = new_id;
        self.buckets = vec![Bucket::new(now)];
        self.by_ip.clear();
        self.len = 0;
        self.latest_good = GoodUntil::Not;
        for (_, e) in &all {
            self.note_good(e.good_until);
        }
        let total = all.len();
        for (_, e) in all {
            if e.id == new_id || self.by_ip.contains_key(&e.addr.ip()) {
                continue;
            }
            self.place(now, e, false);
        }
        total - (self.len + self.cached_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use std::collections::HashSet;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const MIN: Duration = Duration::from_secs(60);

    fn addr(n: u32) -> SocketAddr {
        // Distinct public-looking IPv4 per n.
        SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + n)), 6881)
    }

    /// An id with the given first byte and `n` in the tail.
    fn id_with(first: u8, n: u32) -> Id {
        let mut b = [0u8; 20];
        b[0] = first;
        b[16..].copy_from_slice(&n.to_be_bytes());
        Id(b)
    }

    fn check_invariants(t: &RoutingTable) {
        let mut ips = HashSet::new();
        let mut ids = HashSet::new();
        let mut len = 0;
        let last = t.buckets.len() - 1;
        assert!(t.buckets.len() <= MAX_BUCKETS);
        for (i, b) in t.buckets.iter().enumerate() {
            assert!(b.nodes.len() <= t.cfg.k, "bucket {i} over k");
            assert!(b.cache.len() <= t.cfg.replacement_cache);
            len += b.nodes.len();
            for e in b.nodes.iter().chain(b.cache.iter()) {
                let cpl = t.our_id.common_prefix_len(&e.id) as usize;
                if i < last {
                    assert_eq!(cpl, i, "node in wrong bucket");
                } else {
                    assert!(cpl >= last);
                }
                assert_ne!(e.id, t.our_id);
                assert!(ips.insert(e.addr.ip()), "duplicate ip {}", e.addr);
                assert!(ids.insert(e.id), "duplicate id");
                assert_eq!(t.by_ip.get(&e.addr.ip()), Some(&e.id));
            }
        }
        assert_eq!(t.by_ip.len(), ips.len());
        assert_eq!(len, t.len);
    }

    fn table(now: Instant, our: Id) -> RoutingTable {
        RoutingTable::new(now, our)
    }

    #[test]
    fn own_bucket_splits_others_do_not() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        // 8 nodes with first bit 1 (far half): fill the single bucket.
        for n in 0..8 {
            assert!(matches!(
                t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded),
                InsertOutcome::Added { ping: None }
            ));
        }
        assert_eq!(t.bucket_count(), 1);
        // A 9th far node: the bucket covers our id → split; the far half is
        // bucket 0 (full), so it goes to bucket 0's cache.
        let out = t.insert(t0, id_with(0x80, 8), addr(8), Seen::Responded);
        assert!(
            matches!(out, InsertOutcome::Cached { ping: None }),
            "{out:?}"
        );
        assert_eq!(t.bucket_count(), 2);
        // More far nodes never split bucket 0 again.
        for n in 9..40 {
            t.insert(t0, id_with(0xc0, n), addr(n), Seen::Responded);
        }
        assert_eq!(t.bucket_count(), 2);
        assert_eq!(t.bucket_stats(t0)[0].nodes(), 8);
        assert_eq!(t.cached_len(), 8);
        // Near nodes (first bit 0) go to the own bucket, which splits again
        // when full.
        for n in 0..9 {
            t.insert(
                t0,
                id_with(0x40 >> (n % 3), 100 + n),
                addr(100 + n),
                Seen::Responded,
            );
        }
        assert!(t.bucket_count() > 2);
        assert_eq!(t.len(), 17);
        check_invariants(&t);
    }

    #[test]
    fn many_random_ids_give_log_sized_table() {
        let t0 = Instant::now();
        let mut rng = StdRng::seed_from_u64(1);
        let our = Id::random(&mut rng);
        let mut t = table(t0, our);
        let n = 20_000u32;
        for i in 0..n {
            t.insert(t0, Id::random(&mut rng), addr(i), Seen::Responded);
        }
        check_invariants(&t);
        // ~k per bucket down to depth log2(N/k) ≈ 11.3.
        let depth = (n as f64 / 8.0).log2();
        let expected = 8.0 * depth;
        let len = t.len() as f64;
        assert!(
            len > expected - 16.0 && len < expected + 24.0,
            "len {len} expected ~{expected}"
        );
        let stats = t.bucket_stats(t0);
        assert!(stats.iter().all(|s| s.nodes() <= 8));
        // All far buckets are full.
        let b = t.bucket_count();
        assert!(
            (depth as usize - 1..=depth as usize + 3).contains(&(b - 1)),
            "{b} buckets"
        );
        assert!(stats[..b - 3].iter().all(|s| s.nodes() == 8));
        assert!(stats[..b - 5].iter().all(|s| s.cached == 8));
    }

    #[test]
    fn questionable_ping_then_failed_ping_promotes_candidate() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        // Bucket 0 after one split: 8 far nodes.
        for n in 0..8 {
            t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
        }
        t.insert(t0, id_with(0x01, 99), addr(99), Seen::Responded); // force split? no: near
                                                                    // 16 minutes later all are questionable.
        let t1 = t0 + 16 * MIN;
        assert_eq!(
            t.get(t1, &id_with(0x80, 3)).unwrap().state,
            NodeState::Questionable
        );
        // Node 5 queried us at t0+10min: still good at t1 (responded before,
        // queried within 15 min) and so never pinged.
        t.insert(t0 + 10 * MIN, id_with(0x80, 5), addr(5), Seen::Queried);
        assert_eq!(t.get(t1, &id_with(0x80, 5)).unwrap().state, NodeState::Good);
        // Node 2 is the least recently seen: make the others newer.
        for n in 0..8 {
            if n != 2 {
                t.insert(t0 + MIN, id_with(0x80, n), addr(n), Seen::Queried);
            }
        }
        let cand = id_with(0x90, 1);
        let out = t.insert(t1, cand, addr(1000), Seen::Responded);
        let InsertOutcome::Cached { ping: Some(p) } = out else {
            panic!("{out:?}")
        };
        // The least recently seen questionable node is pinged.
        assert_eq!(p.state, NodeState::Questionable);
        assert_eq!(p.id, id_with(0x80, 2));
        assert!(!t.contains(&cand));
        // A second candidate triggers a ping of another node.
        let cand2 = id_with(0x90, 2);
        let p2 = *t
            .insert(t1, cand2, addr(1001), Seen::Responded)
            .ping()
            .unwrap();
        assert_ne!(p2.id, p.id);
        // Same candidate again: no extra ping while pings are in flight.
        assert!(t
            .insert(t1, cand2, addr(1001), Seen::Queried)
            .ping()
            .is_none());

        // The first ping fails: node evicted, best candidate promoted.
        let out = t.on_timeout(t1 + Duration::from_secs(5), &p.id, p.addr);
        let TimeoutOutcome::Evicted { evicted, promoted } = out else {
            panic!("{out:?}")
        };
        assert_eq!(evicted.id, p.id);
        assert!(promoted.is_some());
        assert!(!t.contains(&p.id));
        assert_eq!(t.id_for_ip(p.addr.ip()), None);
        // The second ping succeeds: node good again, candidate stays cached.
        let out = t.on_response(t1 + Duration::from_secs(6), p2.id, p2.addr);
        assert_eq!(out, InsertOutcome::Updated);
        assert_eq!(t.get(t1, &p2.id).unwrap().state, NodeState::Good);
        assert_eq!(t.bucket_stats(t1)[0].cached, 1);
        // The table asks for the next questionable node.
        let pings = t.take_pings(t1 + Duration::from_secs(7));
        assert_eq!(pings.len(), 1);
        assert_eq!(pings[0].state, NodeState::Questionable);
        check_invariants(&t);
    }

    #[test]
    fn good_node_is_not_evicted_by_single_timeout_but_bad_after_two() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        let a = id_with(0x80, 1);
        t.insert(t0, a, addr(1), Seen::Responded);
        assert_eq!(
            t.on_timeout(t0, &a, addr(1)),
            TimeoutOutcome::Failed {
                state: NodeState::Questionable
            }
        );
        assert_eq!(
            t.on_timeout(t0, &a, addr(1)),
            TimeoutOutcome::Failed {
                state: NodeState::Bad
            }
        );
        // Bad but no candidate: kept (excluded from closest).
        assert!(t.contains(&a));
        assert!(t.closest(t0, &a, 8).is_empty());
        // Responding resets it.
        t.on_response(t0, a, addr(1));
        assert_eq!(t.get(t0, &a).unwrap().state, NodeState::Good);
        // Timeouts for a wrong address or unknown id are ignored.
        assert_eq!(t.on_timeout(t0, &a, addr(2)), TimeoutOutcome::Unknown);
        assert_eq!(
            t.on_timeout(t0, &id_with(1, 1), addr(1)),
            TimeoutOutcome::Unknown
        );
        assert_eq!(t.get(t0, &a).unwrap().failures, 0);
    }

    #[test]
    fn bad_node_replaced_at_once() {
        let t0 = Instant::now();
        let cfg = RoutingConfig {
            max_failures: 3,
            ..Default::default()
        };
        let mut t = RoutingTable::with_config(t0, Id::ZERO, cfg).unwrap();
        for n in 0..8 {
            t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
        }
        t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded); // split
        let victim = id_with(0x80, 4);
        for _ in 0..3 {
            t.on_timeout(t0, &victim, addr(4));
        }
        assert_eq!(t.get(t0, &victim).unwrap().state, NodeState::Bad);
        let out = t.insert(t0, id_with(0xa0, 1), addr(77), Seen::Queried);
        let InsertOutcome::Replaced { evicted, ping } = out else {
            panic!("{out:?}")
        };
        assert_eq!(evicted.id, victim);
        // The newcomer is unverified: ping it.
        assert_eq!(ping.unwrap().id, id_with(0xa0, 1));
        assert!(!t.contains(&victim));
        check_invariants(&t);
    }

    #[test]
    fn querying_node_is_unverified_candidate_until_it_responds() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        let a = id_with(0x80, 1);
        let out = t.on_query(t0, a, addr(1));
        let InsertOutcome::Added { ping: Some(p) } = out else {
            panic!("{out:?}")
        };
        assert_eq!(p.id, a);
        assert_eq!(p.state, NodeState::Unverified);
        assert!(t.closest(t0, &a, 8).is_empty());
        assert_eq!(t.closest_any(t0, &a, 8).len(), 1);
        // Already pinged: take_pings does not repeat it until ping_retry.
        assert!(t.take_pings(t0 + Duration::from_secs(10)).is_empty());
        assert_eq!(t.take_pings(t0 + 2 * MIN).len(), 1);
        // It answers: good.
        t.on_response(t0 + 2 * MIN, a, addr(1));
        assert_eq!(t.closest(t0 + 2 * MIN, &a, 8)[0].state, NodeState::Good);

        // Another unverified node times out once: bad.
        let b = id_with(0x81, 2);
        t.on_query(t0, b, addr(2));
        assert_eq!(
            t.on_timeout(t0, &b, addr(2)),
            TimeoutOutcome::Failed {
                state: NodeState::Bad
            }
        );
        check_invariants(&t);
    }

    #[test]
    fn one_entry_per_ip() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        let a = id_with(0x80, 1);
        let b = id_with(0x40, 2);
        let ip_port = addr(1);
        let same_ip_other_port = SocketAddr::new(ip_port.ip(), 7000);
        t.insert(t0, a, ip_port, Seen::Responded);
        // Good holder: a different id on the same IP is rejected, however seen.
        assert_eq!(
            t.insert(t0, b, ip_port, Seen::Responded),
            InsertOutcome::Rejected(Reject::IpConflict)
        );
        assert_eq!(
            t.insert(t0, b, same_ip_other_port, Seen::Queried),
            InsertOutcome::Rejected(Reject::IpConflict)
        );
        // Same id on another port while good: rejected.
        assert_eq!(
            t.insert(t0, a, same_ip_other_port, Seen::Queried),
            InsertOutcome::Rejected(Reject::IdConflict)
        );
        // Same id from another IP while good: rejected.
        assert_eq!(
            t.insert(t0, a, addr(2), Seen::Responded),
            InsertOutcome::Rejected(Reject::IdConflict)
        );
        // IPv4-mapped IPv6 is the same IP.
        let mapped = SocketAddr::new(
            IpAddr::V6(Ipv4Addr::from(0x0b00_0001).to_ipv6_mapped()),
            6881,
        );
        assert_eq!(
            t.insert(t0, b, mapped, Seen::Responded),
            InsertOutcome::Rejected(Reject::IpConflict)
        );

        // Once questionable: a query from the new id is still not enough...
        let t1 = t0 + 20 * MIN;
        assert_eq!(
            t.insert(t1, b, same_ip_other_port, Seen::Queried),
            InsertOutcome::Rejected(Reject::IpConflict)
        );
        // ...but a response is (restarted node with a new id and port).
        assert!(t
            .insert(t1, b, same_ip_other_port, Seen::Responded)
            .in_bucket());
        assert!(!t.contains(&a));
        assert_eq!(t.id_for_ip(ip_port.ip()), Some(b));

        // A bad holder is replaced even by a mere query.
        t.on_timeout(t1, &b, same_ip_other_port);
        t.on_timeout(t1, &b, same_ip_other_port);
        assert!(t.insert(t1, a, ip_port, Seen::Queried).in_bucket());
        assert!(!t.contains(&b));
        assert_eq!(t.len(), 1);
        check_invariants(&t);
    }

    #[test]
    fn ip_rule_covers_replacement_cache() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        for n in 0..8 {
            t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
        }
        t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded);
        assert!(matches!(
            t.insert(t0, id_with(0x90, 0), addr(600), Seen::Responded),
            InsertOutcome::Cached { .. }
        ));
        // Another id from the cached candidate's IP is rejected (it is good).
        assert_eq!(
            t.insert(t0, id_with(0x91, 0), addr(600), Seen::Queried),
            InsertOutcome::Rejected(Reject::IpConflict)
        );
        check_invariants(&t);
    }

    #[test]
    fn replacement_cache_bounded_prefers_verified_and_promotes_unverified_for_ping() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        for n in 0..8 {
            t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
        }
        t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded); // split
                                                                    // 8 verified candidates fill the cache.
        for n in 0..8 {
            let out = t.insert(t0 + MIN, id_with(0x90, n), addr(100 + n), Seen::Responded);
            assert!(
                matches!(out, InsertOutcome::Cached { ping: None }),
                "{out:?}"
            );
        }
        // An unverified newcomer does not displace verified candidates.
        let out = t.insert(t0 + 2 * MIN, id_with(0x91, 0), addr(200), Seen::Queried);
        assert_eq!(out, InsertOutcome::Rejected(Reject::Full));
        assert_eq!(t.id_for_ip(addr(200).ip()), None);
        // A verified newcomer displaces the least recently seen candidate.
        t.insert(t0 + 3 * MIN, id_with(0x90, 3), addr(103), Seen::Queried); // 3 is fresher now
        let out = t.insert(t0 + 3 * MIN, id_with(0x92, 0), addr(300), Seen::Responded);
        assert!(matches!(out, InsertOutcome::Cached { .. }));
        assert_eq!(t.cached_len(), 8);
        assert!(t.get(t0, &id_with(0x90, 0)).is_none());
        assert!(t.get(t0, &id_with(0x90, 3)).is_some());
        check_invariants(&t);

        // A table whose bucket holds an unverified candidate: after eviction
        // the promoted node is offered for a ping.
        let mut t = table(t0, Id::ZERO);
        for n in 0..8 {
            t.insert(t0, id_with(0x80, n), addr(n), Seen::Responded);
        }
        t.insert(t0, id_with(0x01, 0), addr(500), Seen::Responded);
        let cand = id_with(0xa0, 0);
        let t1 = t0 + 20 * MIN;
        let ping = *t.insert(t1, cand, addr(600), Seen::Queried).ping().unwrap();
        let out = t.on_timeout(t1, &ping.id, ping.addr);
        assert!(matches!(out, TimeoutOutcome::Evicted { promoted: Some(p), .. } if p.id == cand));
        let pings = t.take_pings(t1);
        assert!(pings
            .iter()
            .any(|p| p.id == cand && p.state == NodeState::Unverified));
        check_invariants(&t);
    }

    fn brute_closest(nodes: &[(Id, SocketAddr)], target: &Id, n: usize) -> Vec<Id> {
        let mut v: Vec<Id> = nodes.iter().map(|x| x.0).collect();
        v.sort_by_cached_key(|id| id.distance(target));
        v.truncate(n);
        v
    }

    #[test]
    fn closest_matches_brute_force() {
        let t0 = Instant::now();
        let mut rng = StdRng::seed_from_u64(5);
        for round in 0..4 {
            let our = Id::random(&mut rng);
            let mut t = table(t0, our);
            let mut i = 0u32;
            // Mix of uniformly random ids and ids near our own (deep buckets).
            while t.len() < 300 && i < 50_000 {
                let mut id = Id::random(&mut rng);
                if i % 3 == 0 {
                    copy_prefix(&mut id, &our, (i as usize % 40) + 1);
                }
                t.insert(t0, id, addr(i + round * 100_000), Seen::Responded);
                i += 1;
            }
            check_invariants(&t);
            let nodes: Vec<(Id, SocketAddr)> = t.entries(t0).map(|e| (e.id, e.addr)).collect();
            let mut targets: Vec<Id> = (0..100).map(|_| Id::random(&mut rng)).collect();
            targets.push(our);
            for bits in [1usize, 5, 9, 15, 30, 159] {
                let mut x = Id::random(&mut rng);
                copy_prefix(&mut x, &our, bits);
                targets.push(x);
            }
            for target in &targets {
                for n in [1usize, 8, 20, 1000] {
                    let got: Vec<Id> = t.closest(t0, target, n).iter().map(|x| x.id).collect();
                    assert_eq!(got, brute_closest(&nodes, target, n), "round {round} n {n}");
                }
            }
        }
    }

    #[test]
    fn closest_prefers_good_nodes() {
        let t0 = Instant::now();
        let mut rng = StdRng::seed_from_u64(11);
        let our = Id::random(&mut rng);
        let mut t = table(t0, our);
        let mut all = Vec::new();
        for i in 0..2000u32 {
            let id = Id::random(&mut rng);
            if t.insert(t0, id, addr(i), Seen::Responded).in_bucket() {
                all.push(id);
            }
        }
        // Refresh half of them 20 minutes later: the rest are questionable.
        let t1 = t0 + 20 * MIN;
        let good: Vec<Id> = all.iter().copied().step_by(2).collect();
        for id in &good {
            let a = t.get(t0, id).unwrap().addr;
            t.on_response(t1, *id, a);
        }
        let all_entries: Vec<(Id, SocketAddr)> = t.entries(t1).map(|e| (e.id, e.addr)).collect();
        let good_entries: Vec<(Id, SocketAddr)> = t
            .entries(t1)
            .filter(|e| e.state == NodeState::Good)
            .map(|e| (e.id, e.addr))
            .collect();
        for _ in 0..50 {
            let target = Id::random(&mut rng);
            let got = t.closest(t1, &target, 8);
            assert_eq!(
                got.iter().map(|x| x.id).collect::<Vec<_>>(),
                brute_closest(&good_entries, &target, 8)
            );
            assert!(got.iter().all(|x| x.state == NodeState::Good));
            // Asking for more than there are good nodes tops up with
            // questionable ones, and returns everything sorted.
            let got = t.closest(t1, &target, all_entries.len());
            assert_eq!(got.len(), all_entries.len());
            assert!(got
                .windows(2)
                .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target)));
        }
        assert!(t.closest(t1, &our, 0).is_empty());

        // Nobody good (everything stale): the n closest questionable nodes.
        let t2 = t0 + 60 * MIN;
        for _ in 0..30 {
            let target = Id::random(&mut rng);
            let got: Vec<Id> = t.closest(t2, &target, 8).iter().map(|x| x.id).collect();
            assert_eq!(got, brute_closest(&all_entries, &target, 8));
        }
        // Exactly three good nodes: all three, plus the 5 closest others.
        let three: Vec<(Id, SocketAddr)> = all_entries.iter().copied().take(3).collect();
        for (id, a) in &three {
            t.on_response(t2, *id, *a);
        }
        let rest: Vec<(Id, SocketAddr)> = all_entries.iter().copied().skip(3).collect();
        for _ in 0..30 {
            let target = Id::random(&mut rng);
            let got = t.closest(t2, &target, 8);
            let got_good: HashSet<Id> = got
                .iter()
                .filter(|x| x.state == NodeState::Good)
                .map(|x| x.id)
                .collect();
            assert_eq!(got_good, three.iter().map(|x| x.0).collect::<HashSet<_>>());
            let got_rest: HashSet<Id> = got
                .iter()
                .filter(|x| x.state != NodeState::Good)
                .map(|x| x.id)
                .collect();
            assert_eq!(
                got_rest,
                brute_closest(&rest, &target, 5)
                    .into_iter()
                    .collect::<HashSet<_>>()
            );
        }
    }

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

    #[test]
    fn rejects_own_id_bad_addresses_and_bep42_when_enforced() {
        let t0 = Instant::now();
        let mut t = table(t0, Id([7; 20]));
        assert_eq!(
            t.insert(t0, Id([7; 20]), addr(1), Seen::Responded),
            InsertOutcome::Rejected(Reject::OwnId)
        );
        for a in [
            "1.2.3.4:0",
            "0.0.0.0:5",
            "255.255.255.255:5",
            "239.1.1.1:5",
            "[::]:5",
            "[ff02::1]:5",
        ] {
            assert_eq!(
                t.insert(t0, Id([1; 20]), a.parse().unwrap(), Seen::Responded),
                InsertOutcome::Rejected(Reject::InvalidAddress),
                "{a}"
            );
        }
        let cfg = RoutingConfig {
            enforce_bep42: true,
            ..Default::default()
        };
        let mut t = RoutingTable::with_config(t0, Id([7; 20]), cfg).unwrap();
        let ip: IpAddr = "124.31.75.21".parse().unwrap();
        let sa = SocketAddr::new(ip, 1);
        assert_eq!(
            t.insert(t0, Id([1; 20]), sa, Seen::Responded),
            InsertOutcome::Rejected(Reject::Bep42)
        );
        let good = Id::from_hex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401").unwrap();
        assert!(t.insert(t0, good, sa, Seen::Responded).in_bucket());
        // Local addresses are exempt.
        assert!(t
            .insert(
                t0,
                Id([1; 20]),
                "192.168.1.2:1".parse().unwrap(),
                Seen::Responded
            )
            .in_bucket());
        assert!(RoutingTable::with_config(
            t0,
            Id::ZERO,
            RoutingConfig {
                k: 0,
                ..Default::default()
            }
        )
        .is_err());
    }

    #[test]
    fn ipv6_and_state_transitions() {
        let t0 = Instant::now();
        let mut t = table(t0, Id::ZERO);
        let a = id_with(0x80, 1);
        let sa = SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            6881,
        );
        t.insert(t0, a, sa, Seen::Responded);
        assert_eq!(t.get(t0 + 14 * MIN, &a).unwrap().state, NodeState::Good);
        assert_eq!(
            t.get(t0 + 15 * MIN, &a).unwrap().state,
            NodeState::Questionable
        );
        // It queries us: good again (it has responded before).
        t.on_query(t0 + 20 * MIN, a, sa);
        assert_eq!(t.get(t0 + 21 * MIN, &a).unwrap().state, NodeState::Good);
        assert_eq!(
            t.get(t0 + 35 * MIN, &a).unwrap().state,
            NodeState::Questionable
        );
        let e: Vec<NodeInfo> = t.entries(t0).collect();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].last_query, Some(t0 + 20 * MIN));
        assert_eq!(e[0].last_response, Some(t0));
        assert_eq!(t.remove(t0, &a).unwrap().id, a);
        assert!(t.is_empty());
        check_invariants(&t);
    }

    #[test]
    fn random_operations_keep_invariants() {
        let t0 = Instant::now();
        let mut rng = StdRng::seed_from_u64(99);
        let our = Id::random(&mut rng);
        let mut t = table(t0, our);
        let pool: Vec<Id> = (0..600).map(|_| Id::random(&mut rng)).collect();
        let mut now = t0;
        for step in 0..20_000u32 {
            now += Duration::from_millis(rng.gen_range(0..2000));
            let id = pool[rng.gen_range(0..pool.len())];
            // Few IPs so conflicts happen often.
            let a = addr(rng.gen_range(0..300));
            match rng.gen_range(0..10) {
                0..=3 => {
                    t.on_response(now, id, a);
                }
                4..=5 => {
                    t.on_query(now, id, a);
                }
                6 => {
                    t.insert(now, id, a, Seen::Heard);
                }
                7 => {
                    t.on_timeout(now, &id, a);
                    if let Some(e) = t.get(now, &id) {
                        t.on_timeout(now, &id, e.addr);
                    }
                }
                8 => {
                    for p in t.take_pings(now) {
                        if rng.gen_bool(0.5) {
                            t.on_response(now, p.id, p.addr);
                        } else {
                            t.on_timeout(now, &p.id, p.addr);
                        }
                    }
                }
                _ => {
                    if step % 50 == 0 {
                        t.set_our_id(now, Id::random(&mut rng));
                    } else if step % 7 == 0 {
                        t.remove(now, &id);
                    } else {
                        t.buckets_needing_refresh(now, &mut rng);
                    }
                }
            }
            if step % 97 == 0 {
                check_invariants(&t);
                let target = Id::random(&mut rng);
                let got = t.closest_any(now, &target, 8);
                assert!(got
                    .windows(2)
                    .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target)));
            }
        }
        check_invariants(&t);
    }
}
