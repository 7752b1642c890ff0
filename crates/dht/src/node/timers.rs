//! Time: when to wake the node, what is due then (request deadlines, lookups waiting
//! for the outgoing cap, bootstrap retries, the 1 s housekeeping tick), and the
//! bootstrap with its backoff and far-bucket refresh.

use std::cmp::Reverse;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::lookup::{LookupId, LookupKind, Outcome};

use super::{Node, Purpose, Request};

impl Node {
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

    pub(super) fn start_bootstrap(&mut self, now: Instant) {
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

    /// After the self-lookup of a join: one find_node for a random id in each bucket
    /// farther than our own neighbourhood that is not full (Kademlia §2.3: "u
    /// refreshes all k-buckets further away than its closest neighbor").
    ///
    /// The self-lookup only meets nodes on the path towards our own id, so the far
    /// buckets (half of the id space for bucket 0) stay nearly empty until their first
    /// periodic refresh, 15 minutes later; until then our lookups of ids in those
    /// ranges start from the wrong half of the network and may never reach it.
    pub(super) fn refresh_far_buckets(&mut self, now: Instant) {
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
}
