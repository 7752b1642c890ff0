//! The DHT node: a deterministic, sans-IO state machine.
//!
//! Nothing inside reads a clock, touches a socket or uses a global RNG, so the same node
//! runs on UDP (the tokio driver), in tests, and by the thousand in a simulator with
//! simulated time.
//!
//! # Method families, in the order a driver calls them
//! 1. **Create** ([`Node::new`], with a [`NodeConfig`] from `config.rs`), then join:
//!    [`Node::bootstrap`] with resolved addresses, or [`Node::add_node`] for each node of
//!    a saved table (`timers.rs`, `mod.rs`).
//! 2. **Feed it**: every datagram received to [`Node::handle`] (`incoming.rs`; queries
//!    are served in `queries.rs`), and [`Node::handle_timeout`] once the instant that
//!    [`Node::poll_timeout`] gave has come (`timers.rs`: request deadlines, lookups
//!    waiting for the outgoing cap, bootstrap retries, the 1 s tick).
//! 3. **Drain it** after each call: [`Node::poll_transmit`] until `None` (send each
//!    datagram), then [`Node::poll_event`] until `None` (`events.rs`).
//! 4. **Ask it**: [`Node::start_lookup`] (`lookups.rs`), [`Node::start_get`] and
//!    [`Node::start_put`] (BEP 44, `items.rs`); the result comes out of
//!    [`Node::poll_event`] as [`Event::LookupDone`]. [`Node::query`] sends one query to
//!    one node (the BEP 51 crawl's `sample_infohashes`, `direct.rs`), answered as
//!    [`Event::QueryReply`]. Queries go out through `outgoing.rs`, which applies the
//!    outgoing cap and keeps the deadlines.
//! 5. **Watch it**: [`Node::stats`] (`stats.rs`), [`Node::table`], [`Node::peer_store`],
//!    [`Node::item_store`], [`Node::nodes`] (for a state file),
//!    [`Node::external_address`] (BEP 42 votes, `external.rs`); [`Node::set_id`] when
//!    the other family's node adopted a BEP 42 id.
//!
//! Queries are served in `queries.rs` (BEP 5), `items.rs` (BEP 44 `get` and `put`) and
//! `samples.rs` (BEP 51 `sample_infohashes`). A node of a dual-stack driver answers
//! `want` for the other family from that family's table, given to
//! [`Node::handle_with`].
//!
//! Every datagram is hostile until decoded: one longer than [`MAX_DATAGRAM_IN`] is
//! dropped unread and counted ([`Stats::oversized`]).

mod config;
mod direct;
mod events;
mod external;
mod incoming;
mod items;
mod lookups;
mod outgoing;
mod queries;
mod samples;
mod stats;
mod timers;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_krpc::Id;

use crate::bep44::ItemStore;
use crate::limits::{LimitCounters, RateLimiter};
use crate::lookup::{Lookup, LookupId};
use crate::peer_store::PeerStore;
use crate::routing::{NodeInfo, RoutingTable, Seen};
use crate::token::TokenManager;
use crate::ConfigError;

pub use config::{NodeConfig, MAX_DATAGRAM_IN, MAX_NODES_PER_REPLY, VERSION};
pub use direct::QueryId;
pub use events::{Event, Transmit};
pub use external::{MAX_CANDIDATES as MAX_VOTED_ADDRESSES, VOTES_NEEDED};
pub use stats::{ErrorCounts, LatencyHistogram, PerMethod, Stats};

#[derive(Debug, Clone, Copy)]
enum Purpose {
    Ping,
    Lookup(LookupId),
    /// A query sent with [`Node::query`], answered as [`Event::QueryReply`].
    Direct(QueryId),
}

#[derive(Debug, Clone)]
struct Request {
    to: SocketAddr,
    node: Option<Id>,
    purpose: Purpose,
}

/// A Mainline DHT node.
pub struct Node {
    cfg: NodeConfig,
    id: Id,
    rng: StdRng,
    table: RoutingTable,
    tokens: TokenManager,
    store: PeerStore,
    items: ItemStore,
    /// Get and put lookups: the salt to check items with, the item to put, the best
    /// item found.
    item_lookups: HashMap<LookupId, items::ItemLookup>,
    /// BEP 51: the sample we give, and when it was drawn.
    sample: Option<(Instant, Vec<Id>)>,
    next_query: u64,
    limiter: RateLimiter,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    requests: HashMap<u32, Request>,
    /// (hard deadline, tid) and (soft deadline, tid).
    deadlines: BinaryHeap<Reverse<(Instant, u32)>>,
    soft: BinaryHeap<Reverse<(Instant, u32)>>,
    next_tid: u32,
    lookups: HashMap<LookupId, Lookup>,
    next_lookup: u64,
    next_tick: Instant,
    next_housekeeping: Instant,
    /// Lookups waiting for the outgoing-query cap, and when to retry them.
    retry_at: Option<Instant>,
    bootstrap: Vec<SocketAddr>,
    bootstrap_lookup: Option<LookupId>,
    next_bootstrap: Option<Instant>,
    bootstrap_backoff: Duration,
    votes: external::Votes,
    external: Option<SocketAddr>,
    stats: Stats,
}

impl Node {
    /// A node starting at `now`.
    pub fn new(now: Instant, cfg: NodeConfig) -> Result<Node, ConfigError> {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let id = cfg.id.unwrap_or_else(|| Id::random(&mut rng));
        let table = RoutingTable::with_config(now, id, cfg.routing)?;
        let tokens = TokenManager::new(now, &mut rng);
        let store = PeerStore::new(cfg.peer_store)?;
        let items = ItemStore::new(cfg.item_store)?;
        let limiter = RateLimiter::new(now, cfg.limits)?;
        let next_tid = rng.gen();
        Ok(Node {
            id,
            rng,
            table,
            tokens,
            store,
            items,
            item_lookups: HashMap::new(),
            sample: None,
            next_query: 1,
            limiter,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            requests: HashMap::new(),
            deadlines: BinaryHeap::new(),
            soft: BinaryHeap::new(),
            next_tid,
            lookups: HashMap::new(),
            next_lookup: 1,
            next_tick: now + cfg.tick,
            next_housekeeping: now + Duration::from_secs(60),
            retry_at: None,
            bootstrap: Vec::new(),
            bootstrap_lookup: None,
            next_bootstrap: None,
            bootstrap_backoff: Duration::from_secs(1),
            votes: external::Votes::default(),
            external: None,
            stats: Stats::default(),
            cfg,
        })
    }

    /// Our node id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// What the node has counted so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What the rate limiter has decided so far.
    pub fn limit_counters(&self) -> LimitCounters {
        self.limiter.counters()
    }

    /// The routing table.
    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// The peers announced to us.
    pub fn peer_store(&self) -> &PeerStore {
        &self.store
    }

    /// The BEP 44 items put to us.
    pub fn item_store(&self) -> &ItemStore {
        &self.items
    }

    /// Our external address, once enough nodes agreed on it.
    pub fn external_address(&self) -> Option<SocketAddr> {
        self.external
    }

    /// Lookups running.
    pub fn lookups_running(&self) -> usize {
        self.lookups.len()
    }

    /// Adds a node we know from elsewhere (a saved state file): it is pinged to verify it.
    pub fn add_node(&mut self, now: Instant, id: Id, addr: SocketAddr) {
        let out = self.table.insert(now, id, addr, Seen::Heard);
        self.ping_if_asked(now, &out);
    }

    /// Adds a node known to be live without asking it, as if it had just answered
    /// one of our queries: for a simulator's initialiser that fills routing tables
    /// from global knowledge. Sends nothing. Returns whether it is now in a bucket.
    pub fn add_verified_node(&mut self, now: Instant, id: Id, addr: SocketAddr) -> bool {
        self.table
            .insert(now, id, addr, Seen::Responded)
            .in_bucket()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Routing-table entries, for persistence.
    pub fn nodes(&self, now: Instant) -> Vec<NodeInfo> {
        self.table.entries(now).collect()
    }
}

#[cfg(test)]
mod tests;
