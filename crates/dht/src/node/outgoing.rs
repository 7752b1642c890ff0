//! Datagrams out: encoding, queries under the outgoing cap with their deadlines,
//! and the pings the routing table asks for.

use std::cmp::Reverse;
use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::{Body, Id, Message, Method, TransactionId};

use crate::routing::InsertOutcome;

use super::{Node, Purpose, Request, Transmit, VERSION};

impl Node {
    pub(super) fn send(&mut self, to: SocketAddr, msg: Message) {
        self.stats.datagrams_out += 1;
        self.transmits.push_back(Transmit {
            to,
            payload: msg.encode(),
        });
    }

    /// Sends a query if the outgoing cap allows; returns its transaction id.
    pub(super) fn send_query(
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

    pub(super) fn send_ping(&mut self, now: Instant, id: Id, addr: SocketAddr) {
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

    pub(super) fn ping_if_asked(&mut self, now: Instant, out: &InsertOutcome) {
        if let Some(n) = out.ping().copied() {
            self.send_ping(now, n.id, n.addr);
        }
    }
}
