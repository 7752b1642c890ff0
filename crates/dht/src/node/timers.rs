//! Time: when to wake the node, what is due then (request deadlines, lookups waiting
//! for the outgoing cap, bootstrap retries, the housekeeping tick), and the
//! bootstrap with its backoff and far-bucket refresh.
//!
//! # The tick costs nothing when nothing is due
//! The tick (`NodeConfig::tick`, 1 s) does four things: the pings the routing table
//! asks for, expiry of the peer store and the rate limiter (every 60 s), bucket
//! refresh (a bucket unchanged for 15 minutes), and a new bootstrap when the table
//! has emptied. Each of them knows when it can next have work:
//! [`RoutingTable::next_ping_scan_at`](crate::routing::RoutingTable::next_ping_scan_at),
//! the housekeeping instant (only while the store or the limiter holds something),
//! [`RoutingTable::next_refresh_at`](crate::routing::RoutingTable::next_refresh_at),
//! and an empty table with bootstrap addresses. [`Node::poll_timeout`] returns the
//! first tick at or after the earliest of them, on the same grid of ticks as a node
//! that ticked every second (the last tick plus whole ticks), so the node does
//! exactly what it did when it woke every second, and an idle node of a simulated
//! network sleeps until its next bucket refresh.

use std::cmp::Reverse;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::lookup::{LookupId, LookupKind, Outcome};

use super::{Node, Purpose, Request};

impl Node {
    /// When [`Node::handle_timeout`] must be called next: the earliest request
    /// deadline (hard or soft), retry of lookups held by the outgoing cap, bootstrap
    /// retry, or tick with something to do (see the module docs).
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.deadlines.peek().map(|r| r.0 .0),
            self.soft.peek().map(|r| r.0 .0),
            self.retry_at,
            self.next_bootstrap,
            self.tick_due().map(|t| self.tick_at_or_after(t)),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The earliest instant from which the tick has something to do.
    fn tick_due(&self) -> Option<Instant> {
        let housekeeping = (self.store.peer_count() > 0 || self.limiter.tracked_ips() > 0)
            .then_some(self.next_housekeeping);
        let refresh = (!self.table.is_empty())
            .then(|| self.table.next_refresh_at())
            .flatten();
        let bootstrap = (self.table.is_empty()
            && !self.bootstrap.is_empty()
            && self.bootstrap_lookup.is_none()
            && self.next_bootstrap.is_none())
        .then_some(self.next_tick);
        [
            self.table.next_ping_scan_at(),
            housekeeping,
            refresh,
            bootstrap,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The first tick at or after `t`: the next tick, or a whole number of ticks
    /// after it.
    fn tick_at_or_after(&self, t: Instant) -> Instant {
        if t <= self.next_tick {
            return self.next_tick;
        }
        let tick = self.cfg.tick.as_nanos().max(1);
        let n = (t - self.next_tick).as_nanos().div_ceil(tick);
        let d = u64::try_from(n.saturating_mul(tick)).unwrap_or(u64::MAX);
        self.next_tick
            .checked_add(std::time::Duration::from_nanos(d))
            .unwrap_or(t)
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
            if self.tick_due().is_some_and(|t| t <= now) {
                self.next_tick = now + self.cfg.tick;
                self.tick(now);
            } else {
                // Nothing to do: keep the grid of ticks, skipping the idle ones (the
                // first tick after `now`).
                self.next_tick = self.tick_at_or_after(now + Duration::from_nanos(1));
            }
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
