//! Datagrams in: the size cap, decoding, responses and errors matched to our
//! requests, and what a failed request does to the table and its lookup. Queries go on
//! to `queries.rs`.

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::{Body, DecodeError, Id, KrpcError, Message, Response, TransactionId};
use swarmlab_net::canonical;

use crate::limits::QueryVerdict;
use crate::lookup::{LookupKind, Outcome};
use crate::routing::{NodeState, RoutingTable, TimeoutOutcome};

use super::{Node, Purpose, Request, MAX_DATAGRAM_IN, MAX_NODES_PER_REPLY, VERSION};

impl Node {
    /// Handles one datagram from `from`.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        self.handle_with(now, from, bytes, None);
    }

    /// [`Node::handle`] for a node of a dual-stack driver: `other` is the other address
    /// family's routing table, from which a query's `want` for that family is answered
    /// (an IPv4 query with `want: ["n6"]` gets `nodes6`).
    pub fn handle_with(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
        other: Option<&RoutingTable>,
    ) {
        self.stats.datagrams_in += 1;
        if bytes.len() > MAX_DATAGRAM_IN {
            self.stats.oversized += 1;
            return;
        }
        match Message::decode(bytes) {
            Ok(msg) => match msg.body {
                Body::Query(q) => self.on_query(now, from, msg.tid, q, other),
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
                if self.cfg.read_only {
                    self.stats.read_only_unanswered += 1;
                    return;
                }
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
            // A class added to swarmlab-krpc later: not answered, counted as garbage.
            _ => self.stats.garbage += 1,
        }
    }

    /// Rate limits for an incoming query; counts what it refuses.
    pub(super) fn admit_query(&mut self, now: Instant, from: SocketAddr) -> bool {
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

    pub(super) fn on_response(
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
            self.vote_external(now, from.ip(), ip);
        }
        let out = self.table.on_response(now, r.id, from);
        self.ping_if_asked(now, &out);
        if let Purpose::Direct(id) = req.purpose {
            self.direct_reply(id, from, r);
            return;
        }
        if let Purpose::Lookup(lid) = req.purpose {
            if let Some(mut l) = self.lookups.remove(&lid) {
                if matches!(l.kind, LookupKind::GetItem | LookupKind::PutItem) {
                    let target = l.target;
                    self.on_item_reply(lid, &target, &r);
                }
                let mut nodes: Vec<(Id, SocketAddr)> = Vec::new();
                if let Some(ns) = &r.nodes {
                    nodes.extend(
                        ns.iter()
                            .take(MAX_NODES_PER_REPLY)
                            .map(|n| (n.id, SocketAddr::V4(n.addr))),
                    );
                }
                if let Some(ns) = &r.nodes6 {
                    nodes.extend(
                        ns.iter()
                            .take(MAX_NODES_PER_REPLY)
                            .map(|n| (n.id, SocketAddr::V6(n.addr))),
                    );
                }
                let values = r.values.as_deref().unwrap_or_default();
                l.on_response(t, now, r.id, &nodes, values, r.token.as_deref(), &self.id);
                self.run_lookup(now, l);
            }
        }
    }

    fn on_error(&mut self, now: Instant, from: SocketAddr, tid: &TransactionId, e: KrpcError) {
        self.stats.errors_in += 1;
        self.stats.errors_in_by_code.bump(e.code.code());
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

    pub(super) fn on_request_failed(
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
                if let TimeoutOutcome::Evicted {
                    promoted: Some(p), ..
                } = out
                {
                    if p.state != NodeState::Good {
                        self.send_ping(now, p.id, p.addr);
                    }
                }
            }
        }
        match req.purpose {
            Purpose::Lookup(lid) => {
                if let Some(mut l) = self.lookups.remove(&lid) {
                    l.on_failure(tid, outcome);
                    self.run_lookup(now, l);
                }
            }
            Purpose::Direct(id) => self.direct_failed(id, req.to, outcome),
            Purpose::Ping => {}
        }
    }
}
