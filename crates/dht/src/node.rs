//! The DHT node: a deterministic, sans-IO state machine.
//!
//! Drive it with [`Node::handle`] for every datagram received, [`Node::handle_timeout`]
//! when [`Node::poll_timeout`] says so, and send what [`Node::poll_transmit`] returns.
//! Start lookups with [`Node::start_lookup`]; their results come out of
//! [`Node::poll_event`]. Nothing inside reads a clock, touches a socket or uses a
//! global RNG, so the same node runs on UDP (the tokio driver), in tests, and by the
//! thousand in a simulator with simulated time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use swarmlab_krpc::{
    Body, DecodeError, ErrorCode, Id, KrpcError, Message, Method, Node4, Node6, Query, Response,
    TransactionId, Want, SAFE_PAYLOAD,
};

use crate::limits::{LimitCounters, Limits, QueryVerdict, RateLimiter};
use crate::lookup::{Lookup, LookupId, LookupKind, LookupResult, Outcome, Planned};
use crate::peer_store::{AnnounceOutcome, PeerStore, PeerStoreConfig};
use crate::routing::{InsertOutcome, NodeInfo, RoutingConfig, RoutingTable, Seen};
use crate::token::TokenManager;
use crate::ConfigError;

/// The client version we send in `v`: "SL" and a 2-byte version.
pub const VERSION: [u8; 4] = *b"SL\x00\x01";

/// How a node behaves. `Default` is a normal public node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Our id; random (from `seed`) when `None`.
    pub id: Option<Id>,
    /// Seed of the node's RNG (ids, tokens, transaction ids, samples).
    pub seed: u64,
    /// Lookup width and bucket size (BEP 5: 8).
    pub k: usize,
    /// Requests a lookup keeps in flight.
    pub alpha: usize,
    /// A request unanswered this long has failed.
    pub request_timeout: Duration,
    /// A request unanswered this long stops holding a lookup slot.
    pub soft_timeout: Duration,
    /// BEP 43: we send `ro: 1` and others do not add us to their tables.
    pub read_only: bool,
    pub limits: Limits,
    pub routing: RoutingConfig,
    pub peer_store: PeerStoreConfig,
    /// Housekeeping period: pings the routing table asks for, refresh, expiry.
    pub tick: Duration,
    /// Longest wait between two bootstrap attempts while the table is empty.
    pub bootstrap_backoff_max: Duration,
    /// Lookups running at once (further ones are refused).
    pub max_lookups: usize,
    /// Adopt a BEP 42 id once enough nodes agree on our external address.
    pub secure_id: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            id: None,
            seed: 0,
            k: 8,
            alpha: 3,
            request_timeout: Duration::from_secs(2),
            soft_timeout: Duration::from_millis(500),
            read_only: false,
            limits: Limits::default(),
            routing: RoutingConfig::default(),
            peer_store: PeerStoreConfig::default(),
            tick: Duration::from_secs(1),
            bootstrap_backoff_max: Duration::from_secs(60),
            max_lookups: 256,
            secure_id: true,
        }
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub payload: Vec<u8>,
}

/// Something the node reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// A lookup started with [`Node::start_lookup`] ended.
    LookupDone(Box<LookupResult>),
    /// Enough nodes agree on our external address (BEP 42 `ip`).
    ExternalAddress(SocketAddr),
    /// Our id changed (BEP 42 secure id adopted).
    IdChanged(Id),
}

/// Why a lookup could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("too many lookups running ({0})")]
    TooMany(usize),
}

/// Counters per query method: ping, find_node, get_peers, announce_peer.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PerMethod {
    pub ping: u64,
    pub find_node: u64,
    pub get_peers: u64,
    pub announce_peer: u64,
}

impl PerMethod {
    fn bump(&mut self, m: &Method) {
        match m {
            Method::Ping => self.ping += 1,
            Method::FindNode { .. } => self.find_node += 1,
            Method::GetPeers { .. } => self.get_peers += 1,
            Method::AnnouncePeer { .. } => self.announce_peer += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.ping + self.find_node + self.get_peers + self.announce_peer
    }
}

/// What the node has done, for `swarmlab node`'s periodic stats.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Stats {
    pub datagrams_in: u64,
    pub datagrams_out: u64,
    pub queries_in: PerMethod,
    pub queries_out: PerMethod,
    pub replies_sent: u64,
    pub errors_sent: u64,
    pub responses_in: u64,
    pub errors_in: u64,
    pub timeouts: u64,
    /// Datagrams that were not KRPC at all (dropped silently).
    pub garbage: u64,
    /// Queries answered 203 (malformed) or 204 (unknown method).
    pub bad_queries: u64,
    /// Responses or errors that were malformed, unexpected, or from the wrong address.
    pub bad_responses: u64,
    pub rate_limited: u64,
    pub blocked: u64,
    pub replies_capped: u64,
    pub outgoing_capped: u64,
    pub announces_stored: u64,
    pub announces_bad_token: u64,
    pub lookups_started: u64,
    pub lookups_done: u64,
}

#[derive(Debug, Clone, Copy)]
enum Purpose {
    Ping,
    Lookup(LookupId),
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
    votes: HashMap<SocketAddr, u32>,
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
        let limiter = RateLimiter::new(now, cfg.limits)?;
        let next_tid = rng.gen();
        Ok(Node {
            id,
            rng,
            table,
            tokens,
            store,
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
            votes: HashMap::new(),
            external: None,
            stats: Stats::default(),
            cfg,
        })
    }

    /// Our node id.
    pub fn id(&self) -> Id {
        self.id
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn limit_counters(&self) -> LimitCounters {
        self.limiter.counters()
    }

    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    pub fn peer_store(&self) -> &PeerStore {
        &self.store
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

    /// Joins the network through these addresses (resolved by the driver): a lookup of
    /// our own id starting from them, retried with backoff (1 s doubling up to
    /// `bootstrap_backoff_max`) while the table holds fewer than k verified nodes; after
    /// each, one find_node for a random id in every non-full bucket farther than our
    /// neighbourhood (see `refresh_far_buckets`).
    pub fn bootstrap(&mut self, now: Instant, addrs: Vec<SocketAddr>) {
        self.bootstrap = addrs;
        self.bootstrap_backoff = Duration::from_secs(1);
        self.start_bootstrap(now);
    }

    fn start_bootstrap(&mut self, now: Instant) {
        if self.bootstrap_lookup.is_some() {
            return;
        }
        self.next_bootstrap = None;
        let mut l = self.new_lookup(now, LookupKind::FindNode, self.id);
        l.internal = true;
        for a in self.bootstrap.clone() {
            l.add_candidate(None, a, 1, &self.id);
        }
        let lid = l.id;
        self.bootstrap_lookup = Some(lid);
        self.run_lookup(now, l);
    }

    fn new_lookup(&mut self, now: Instant, kind: LookupKind, target: Id) -> Lookup {
        let lid = LookupId(self.next_lookup);
        self.next_lookup += 1;
        let mut l = Lookup::new(lid, kind, target, now, self.cfg.k, self.cfg.alpha);
        let seeds = self.table.closest(now, &target, self.cfg.k * 2);
        let seeds = if seeds.len() < self.cfg.k {
            self.table.closest_any(now, &target, self.cfg.k * 2)
        } else {
            seeds
        };
        for n in seeds {
            l.add_candidate(Some(n.id), n.addr, 1, &self.id);
        }
        l
    }

    /// Starts a lookup of `target`; its result comes as [`Event::LookupDone`].
    pub fn start_lookup(
        &mut self,
        now: Instant,
        kind: LookupKind,
        target: Id,
    ) -> Result<LookupId, LookupError> {
        if self.lookups.len() >= self.cfg.max_lookups {
            return Err(LookupError::TooMany(self.cfg.max_lookups));
        }
        let mut l = self.new_lookup(now, kind, target);
        if self.table.is_empty() {
            for a in self.bootstrap.clone() {
                l.add_candidate(None, a, 1, &self.id);
            }
        }
        let lid = l.id;
        self.stats.lookups_started += 1;
        self.run_lookup(now, l);
        Ok(lid)
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Node::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.next_tick;
        for x in [
            self.deadlines.peek().map(|r| r.0 .0),
            self.soft.peek().map(|r| r.0 .0),
            self.retry_at,
            self.next_bootstrap,
        ]
        .into_iter()
        .flatten()
        {
            t = t.min(x);
        }
        Some(t)
    }

    /// Processes every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&Reverse((t, tid))) = self.soft.peek() {
            if t > now {
                break;
            }
            self.soft.pop();
            if let Some(Request {
                purpose: Purpose::Lookup(lid),
                ..
            }) = self.requests.get(&tid)
            {
                let lid = *lid;
                if let Some(mut l) = self.lookups.remove(&lid) {
                    l.on_slow(tid);
                    self.run_lookup(now, l);
                }
            }
        }
        while let Some(&Reverse((t, tid))) = self.deadlines.peek() {
            if t > now {
                break;
            }
            self.deadlines.pop();
            if let Some(req) = self.requests.remove(&tid) {
                self.stats.timeouts += 1;
                self.on_request_failed(now, tid, req, Outcome::TimedOut, true);
            }
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            // In id order: a HashMap's order differs between runs, and the order in
            // which lookups send decides what the driver (or simulator) does next.
            let mut ids: Vec<LookupId> = self.lookups.keys().copied().collect();
            ids.sort_unstable();
            for lid in ids {
                if let Some(l) = self.lookups.remove(&lid) {
                    self.run_lookup(now, l);
                }
            }
        }
        if self.next_bootstrap.is_some_and(|t| t <= now) {
            self.start_bootstrap(now);
        }
        if self.next_tick <= now {
            self.next_tick = now + self.cfg.tick;
            self.tick(now);
        }
    }

    fn tick(&mut self, now: Instant) {
        for n in self.table.take_pings(now) {
            self.send_ping(now, n.id, n.addr);
        }
        if self.next_housekeeping <= now {
            self.next_housekeeping = now + Duration::from_secs(60);
            self.store.expire(now);
            self.limiter.cleanup(now);
        }
        if !self.table.is_empty() {
            let targets = self.table.buckets_needing_refresh(now, &mut self.rng);
            for t in targets {
                if self.lookups.len() >= self.cfg.max_lookups {
                    break;
                }
                let mut l = self.new_lookup(now, LookupKind::FindNode, t);
                l.internal = true;
                self.run_lookup(now, l);
            }
        }
        if self.table.is_empty()
            && !self.bootstrap.is_empty()
            && self.bootstrap_lookup.is_none()
            && self.next_bootstrap.is_none()
        {
            self.next_bootstrap = Some(now);
        }
    }

    // ------------------------------------------------------------- incoming

    /// Handles one datagram from `from`.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        self.stats.datagrams_in += 1;
        match Message::decode(bytes) {
            Ok(msg) => match msg.body {
                Body::Query(q) => self.on_query(now, from, msg.tid, q),
                Body::Response(r) => self.on_response(now, from, &msg.tid, r, msg.ip),
                Body::Error(e) => self.on_error(now, from, &msg.tid, e),
            },
            Err(e) => self.on_decode_error(now, from, e),
        }
    }

    fn on_decode_error(&mut self, now: Instant, from: SocketAddr, e: DecodeError) {
        match &e {
            DecodeError::Garbage { .. } => self.stats.garbage += 1,
            DecodeError::UnknownMethod { .. } | DecodeError::InvalidQuery { .. } => {
                self.stats.bad_queries += 1;
                if !self.admit_query(now, from) {
                    return;
                }
                if let Some(reply) = e.error_reply() {
                    self.stats.errors_sent += 1;
                    self.send(from, reply.with_ip(from).with_version(VERSION.to_vec()));
                }
            }
            DecodeError::InvalidResponse { tid, .. } | DecodeError::InvalidError { tid, .. } => {
                self.stats.bad_responses += 1;
                if let Some(t) = tid.to_u32() {
                    if self.requests.get(&t).is_some_and(|r| r.to == from) {
                        if let Some(req) = self.requests.remove(&t) {
                            let outcome = Outcome::Error {
                                code: 0,
                                message: e.to_string(),
                            };
                            self.on_request_failed(now, t, req, outcome, false);
                        }
                    }
                }
            }
        }
    }

    /// Rate limits for an incoming query; counts what it refuses.
    fn admit_query(&mut self, now: Instant, from: SocketAddr) -> bool {
        match self.limiter.check_query(now, from.ip()) {
            QueryVerdict::Allowed => {}
            QueryVerdict::RateLimited => {
                self.stats.rate_limited += 1;
                return false;
            }
            QueryVerdict::Blocked => {
                self.stats.blocked += 1;
                return false;
            }
        }
        if !self.limiter.allow_reply(now) {
            self.stats.replies_capped += 1;
            return false;
        }
        true
    }

    fn on_query(&mut self, now: Instant, from: SocketAddr, tid: TransactionId, q: Query) {
        self.stats.queries_in.bump(&q.method);
        if !self.admit_query(now, from) {
            return;
        }
        let reply = match &q.method {
            Method::Ping => Body::Response(Response::new(self.id)),
            Method::FindNode { target, want } => {
                let mut r = Response::new(self.id);
                self.fill_nodes(now, &mut r, target, *want, from);
                Body::Response(r)
            }
            Method::GetPeers { info_hash, want } => {
                let mut r = Response::new(self.id);
                r.token = Some(self.tokens.issue(now, from, info_hash).as_bytes().to_vec());
                self.fill_nodes(now, &mut r, info_hash, *want, from);
                let values = self.store.get_sample(
                    now,
                    info_hash,
                    swarmlab_krpc::GET_PEERS_SAFE_VALUES_V4,
                    &mut self.rng,
                );
                if !values.is_empty() {
                    r.values = Some(values);
                }
                Body::Response(r)
            }
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            } => {
                if self.tokens.verify(now, from, info_hash, token) {
                    let port = if *implied_port { from.port() } else { *port };
                    let peer = SocketAddr::new(from.ip(), port);
                    if self.store.announce(now, *info_hash, peer, false) == AnnounceOutcome::Invalid
                    {
                        Body::Error(KrpcError {
                            code: ErrorCode::Protocol,
                            message: "invalid port".into(),
                        })
                    } else {
                        self.stats.announces_stored += 1;
                        Body::Response(Response::new(self.id))
                    }
                } else {
                    self.stats.announces_bad_token += 1;
                    Body::Error(KrpcError {
                        code: ErrorCode::Protocol,
                        message: "bad token".into(),
                    })
                }
            }
        };
        if matches!(reply, Body::Error(_)) {
            self.stats.errors_sent += 1;
        } else {
            self.stats.replies_sent += 1;
        }
        let mut msg = Message {
            tid,
            version: Some(VERSION.to_vec()),
            ip: Some(from),
            body: reply,
        };
        msg.fit_values(SAFE_PAYLOAD);
        self.send(from, msg);
        if !q.read_only {
            let out = self.table.on_query(now, q.id, from);
            self.ping_if_asked(now, &out);
        }
    }

    /// `nodes` (and `nodes6` for an IPv6 table) closest to `target`.
    fn fill_nodes(
        &mut self,
        now: Instant,
        r: &mut Response,
        target: &Id,
        want: Want,
        from: SocketAddr,
    ) {
        let closest = self.table.closest(now, target, self.cfg.k);
        let v6_asker = from.is_ipv6() && !is_v4_mapped(&from);
        let want_v4 = want.n4 || (want.is_empty() && !v6_asker);
        let want_v6 = want.n6 || (want.is_empty() && v6_asker);
        let mut n4 = Vec::new();
        let mut n6 = Vec::new();
        for n in &closest {
            match canonical(n.addr) {
                SocketAddr::V4(a) => n4.push(Node4 { id: n.id, addr: a }),
                SocketAddr::V6(a) => n6.push(Node6 { id: n.id, addr: a }),
            }
        }
        if want_v4 || n6.is_empty() {
            r.nodes = Some(n4);
        }
        if want_v6 && !n6.is_empty() {
            r.nodes6 = Some(n6);
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        from: SocketAddr,
        tid: &TransactionId,
        r: Response,
        ip: Option<SocketAddr>,
    ) {
        let Some(t) = tid.to_u32() else {
            self.stats.bad_responses += 1;
            return;
        };
        match self.requests.get(&t) {
            Some(req) if canonical(req.to) == canonical(from) => {}
            _ => {
                self.stats.bad_responses += 1;
                return;
            }
        }
        let Some(req) = self.requests.remove(&t) else {
            return;
        };
        self.stats.responses_in += 1;
        if let Some(ip) = ip {
            self.vote_external(now, ip);
        }
        let out = self.table.on_response(now, r.id, from);
        self.ping_if_asked(now, &out);
        if let Purpose::Lookup(lid) = req.purpose {
            if let Some(mut l) = self.lookups.remove(&lid) {
                let mut nodes: Vec<(Id, SocketAddr)> = Vec::new();
                if let Some(ns) = &r.nodes {
                    nodes.extend(ns.iter().take(64).map(|n| (n.id, SocketAddr::V4(n.addr))));
                }
                if let Some(ns) = &r.nodes6 {
                    nodes.extend(ns.iter().take(64).map(|n| (n.id, SocketAddr::V6(n.addr))));
                }
                let values = r.values.as_deref().unwrap_or_default();
                l.on_response(t, now, r.id, &nodes, values, r.token.as_deref(), &self.id);
                self.run_lookup(now, l);
            }
        }
    }

    fn on_error(&mut self, now: Instant, from: SocketAddr, tid: &TransactionId, e: KrpcError) {
        self.stats.errors_in += 1;
        let Some(t) = tid.to_u32() else { return };
        if self
            .requests
            .get(&t)
            .is_none_or(|r| canonical(r.to) != canonical(from))
        {
            self.stats.bad_responses += 1;
            return;
        }
        if let Some(req) = self.requests.remove(&t) {
            let outcome = Outcome::Error {
                code: e.code.code(),
                message: e.message,
            };
            self.on_request_failed(now, t, req, outcome, false);
        }
    }

    fn on_request_failed(
        &mut self,
        now: Instant,
        tid: u32,
        req: Request,
        outcome: Outcome,
        timed_out: bool,
    ) {
        if timed_out {
            if let Some(id) = req.node {
                let out = self.table.on_timeout(now, &id, req.to);
                if let crate::routing::TimeoutOutcome::Evicted {
                    promoted: Some(p), ..
                } = out
                {
                    if p.state != crate::routing::NodeState::Good {
                        self.send_ping(now, p.id, p.addr);
                    }
                }
            }
        }
        if let Purpose::Lookup(lid) = req.purpose {
            if let Some(mut l) = self.lookups.remove(&lid) {
                l.on_failure(tid, outcome);
                self.run_lookup(now, l);
            }
        }
    }

    fn vote_external(&mut self, now: Instant, ip: SocketAddr) {
        if self.votes.len() > 64 {
            self.votes.clear();
        }
        let n = self.votes.entry(ip).or_default();
        *n += 1;
        if *n >= 4 && self.external != Some(ip) {
            self.external = Some(ip);
            self.events.push_back(Event::ExternalAddress(ip));
            if self.cfg.secure_id && !crate::bep42::is_valid(&self.id, ip.ip()) {
                let id = crate::bep42::derive_id(ip.ip(), &mut self.rng);
                self.id = id;
                self.table.set_our_id(now, id);
                self.events.push_back(Event::IdChanged(id));
                let mut l = self.new_lookup(now, LookupKind::FindNode, id);
                l.internal = true;
                self.run_lookup(now, l);
            }
        }
    }

    // ------------------------------------------------------------- outgoing

    fn send(&mut self, to: SocketAddr, msg: Message) {
        self.stats.datagrams_out += 1;
        self.transmits.push_back(Transmit {
            to,
            payload: msg.encode(),
        });
    }

    /// Sends a query if the outgoing cap allows; returns its transaction id.
    fn send_query(
        &mut self,
        now: Instant,
        to: SocketAddr,
        node: Option<Id>,
        method: Method,
        purpose: Purpose,
    ) -> Option<u32> {
        if !self.limiter.allow_outgoing(now) {
            self.stats.outgoing_capped += 1;
            let at = self.limiter.outgoing_ready_at(now);
            self.retry_at = Some(self.retry_at.map_or(at, |t| t.min(at)));
            return None;
        }
        let mut tid = self.next_tid;
        while self.requests.contains_key(&tid) {
            tid = tid.wrapping_add(1);
        }
        self.next_tid = tid.wrapping_add(1);
        self.stats.queries_out.bump(&method);
        let mut msg = Message::query(TransactionId::from_u32(tid), self.id, method);
        if let Body::Query(q) = &mut msg.body {
            q.read_only = self.cfg.read_only;
        }
        msg.version = Some(VERSION.to_vec());
        self.send(to, msg);
        self.requests.insert(tid, Request { to, node, purpose });
        self.deadlines
            .push(Reverse((now + self.cfg.request_timeout, tid)));
        if matches!(purpose, Purpose::Lookup(_)) {
            self.soft.push(Reverse((now + self.cfg.soft_timeout, tid)));
        }
        Some(tid)
    }

    fn send_ping(&mut self, now: Instant, id: Id, addr: SocketAddr) {
        // One ping at a time per node.
        if self
            .requests
            .values()
            .any(|r| r.to == addr && matches!(r.purpose, Purpose::Ping))
        {
            return;
        }
        self.send_query(now, addr, Some(id), Method::Ping, Purpose::Ping);
    }

    fn ping_if_asked(&mut self, now: Instant, out: &InsertOutcome) {
        if let Some(n) = out.ping().copied() {
            self.send_ping(now, n.id, n.addr);
        }
    }

    /// Sends what the lookup plans, then keeps it, or finishes it.
    fn run_lookup(&mut self, now: Instant, mut l: Lookup) {
        for p in l.plan() {
            match self.send_lookup_query(now, &l, &p) {
                Some(tid) => l.sent(&p, tid, now),
                None => break, // capped: the rest is planned again at retry_at
            }
        }
        if l.is_finished() {
            self.finish_lookup(now, l);
        } else {
            self.lookups.insert(l.id, l);
        }
    }

    fn send_lookup_query(&mut self, now: Instant, l: &Lookup, p: &Planned) -> Option<u32> {
        let method = match (&p.announce_token, l.kind) {
            (Some(token), LookupKind::Announce { port }) => Method::AnnouncePeer {
                info_hash: l.target,
                port: port.unwrap_or(0),
                implied_port: port.is_none(),
                token: token.clone(),
            },
            (_, LookupKind::FindNode) => Method::FindNode {
                target: l.target,
                want: Want::default(),
            },
            _ => Method::GetPeers {
                info_hash: l.target,
                want: Want::default(),
            },
        };
        self.send_query(now, p.addr, p.id, method, Purpose::Lookup(l.id))
    }

    fn finish_lookup(&mut self, now: Instant, l: Lookup) {
        for tid in l.pending_tids() {
            self.requests.remove(&tid);
        }
        let internal = l.internal;
        let lid = l.id;
        let result = l.result(now);
        if self.bootstrap_lookup == Some(lid) {
            self.bootstrap_lookup = None;
            // Joined once the table holds k verified nodes. With fewer (the network
            // is tiny, or replies were lost and the self-lookup met only the bootstrap
            // node), nobody knows us yet and we know nobody: look ourselves up again,
            // with the same backoff as for an empty table, instead of staying cut off
            // until the first bucket refresh 15 minutes later.
            let k = self.table.config().k;
            if self.table.closest(now, &self.id, k).len() < k {
                self.next_bootstrap = Some(now + self.bootstrap_backoff);
                self.bootstrap_backoff =
                    (self.bootstrap_backoff * 2).min(self.cfg.bootstrap_backoff_max);
            } else {
                self.bootstrap_backoff = Duration::from_secs(1);
            }
            if !self.table.is_empty() {
                self.refresh_far_buckets(now);
            }
        }
        if !internal {
            self.stats.lookups_done += 1;
            self.events.push_back(Event::LookupDone(Box::new(result)));
        }
    }

    /// After the self-lookup of a join: one find_node for a random id in each bucket
    /// farther than our own neighbourhood that is not full (Kademlia §2.3: "u
    /// refreshes all k-buckets further away than its closest neighbor").
    ///
    /// The self-lookup only meets nodes on the path towards our own id, so the far
    /// buckets (half of the id space for bucket 0) stay nearly empty until their first
    /// periodic refresh, 15 minutes later; until then our lookups of ids in those
    /// ranges start from the wrong half of the network and may never reach it.
    fn refresh_far_buckets(&mut self, now: Instant) {
        let stats = self.table.bucket_stats(now);
        let last = stats.len().saturating_sub(1);
        for s in &stats[..last] {
            if s.good + s.questionable >= self.table.config().k
                || self.lookups.len() >= self.cfg.max_lookups
            {
                continue;
            }
            if let Some(t) = self.table.random_id_in_bucket(s.index, &mut self.rng) {
                let mut l = self.new_lookup(now, LookupKind::FindNode, t);
                l.internal = true;
                self.run_lookup(now, l);
            }
        }
    }

    /// Routing-table entries, for persistence.
    pub fn nodes(&self, now: Instant) -> Vec<NodeInfo> {
        self.table.entries(now).collect()
    }
}

fn is_v4_mapped(a: &SocketAddr) -> bool {
    matches!(a.ip(), IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

fn canonical(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), a.port()),
            None => a,
        },
        IpAddr::V4(_) => a,
    }
}

#[cfg(test)]
mod tests;
