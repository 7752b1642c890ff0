//! Serving queries: ping, find_node, get_peers and announce_peer here, BEP 44's get
//! and put in `items.rs`, BEP 51's sample_infohashes in `samples.rs`; each reply fitted
//! in one datagram. `want` (BEP 32) is answered from both families' tables when the
//! driver gives the other family's table.

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::{
    Body, ErrorCode, Id, KrpcError, Message, Method, Node4, Node6, Query, Response, TransactionId,
    Want, SAFE_PAYLOAD,
};
use swarmlab_net::{canonical, is_v4_mapped};

use crate::peer_store::AnnounceOutcome;
use crate::routing::RoutingTable;

use super::{Node, VERSION};

impl Node {
    pub(super) fn on_query(
        &mut self,
        now: Instant,
        from: SocketAddr,
        tid: TransactionId,
        q: Query,
        other: Option<&RoutingTable>,
    ) {
        self.stats.queries_in.bump(&q.method);
        // BEP 43: a read-only node answers no query (and so lands in no table).
        if self.cfg.read_only {
            self.stats.read_only_unanswered += 1;
            return;
        }
        if !self.admit_query(now, from) {
            return;
        }
        let reply = match &q.method {
            Method::Ping => Body::Response(Response::new(self.id)),
            Method::FindNode { target, want } => {
                let mut r = Response::new(self.id);
                self.fill_nodes(now, &mut r, target, *want, from, other);
                Body::Response(r)
            }
            Method::Get { target, seq, want } => {
                self.serve_get(now, from, target, *seq, *want, other)
            }
            Method::Put(p) => self.serve_put(now, from, p),
            Method::SampleInfohashes { target, want } => {
                self.serve_samples(now, from, target, *want, other)
            }
            Method::GetPeers { info_hash, want } => {
                let mut r = Response::new(self.id);
                r.token = Some(self.tokens.issue(now, from, info_hash).as_bytes().to_vec());
                self.fill_nodes(now, &mut r, info_hash, *want, from, other);
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
        if let Body::Error(e) = &reply {
            self.stats.errors_sent += 1;
            self.stats.errors_sent_by_code.bump(e.code.code());
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

    /// `nodes` and `nodes6` closest to `target`: the asker's family unless `want` names
    /// families (BEP 32); a family this node's table does not hold is taken from
    /// `other`, the other family's table when the driver runs both.
    pub(super) fn fill_nodes(
        &mut self,
        now: Instant,
        r: &mut Response,
        target: &Id,
        want: Want,
        from: SocketAddr,
        other: Option<&RoutingTable>,
    ) {
        let mut closest = self.table.closest(now, target, self.cfg.k);
        if let Some(other) = other.filter(|_| !want.is_empty()) {
            closest.extend(other.closest(now, target, self.cfg.k));
        }
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
}
