//! The pings the table asks for: unverified nodes, and questionable nodes of full
//! buckets that candidates wait to replace. At most as many pings per bucket as it has
//! candidates.

use std::time::Instant;

use super::clock::{ms_of, Stamp};
use super::{NodeInfo, NodeState, RoutingTable, NEVER};

impl RoutingTable {
    /// Picks the least recently seen not-good node of bucket `bi` to ping,
    /// if the bucket has more waiting candidates than pings in flight.
    pub(super) fn pick_ping(&mut self, bi: usize, now: Stamp) -> Option<NodeInfo> {
        let cfg = self.cfg;
        let clock = self.clock;
        let now_ms = now.ms();
        let b = self.buckets.get_mut(bi)?;
        if b.cache.is_empty() {
            return None; // no candidate waits: nothing to ping for
        }
        // One pass (this runs on every tick for every bucket with candidates):
        // count the pings in flight and find the least recently seen
        // questionable or unverified node without one.
        let mut in_flight = 0;
        let mut pick: Option<(usize, Stamp)> = None;
        for (i, e) in b.nodes.iter().enumerate() {
            if e.ping_in_flight(now_ms, &cfg) {
                in_flight += 1;
                continue;
            }
            if !matches!(
                e.state(now_ms, &cfg),
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
        Some(e.info(&clock, now_ms, &cfg))
    }

    /// Every ping the table wants sent now: unverified bucket nodes not yet
    /// pinged, and questionable nodes of full buckets with waiting
    /// candidates. Returned nodes are marked as pinged; report the result
    /// with [`on_response`](Self::on_response) /
    /// [`on_timeout`](Self::on_timeout). Call after handling events or on a
    /// timer (e.g. every few seconds); [`next_ping_scan_at`](Self::next_ping_scan_at)
    /// tells when a call can next return something.
    pub fn take_pings(&mut self, now: Instant) -> Vec<NodeInfo> {
        let stamp = self.stamp(now);
        let now_ms = stamp.ms();
        // Nodes call this on every tick: skip the scan while nothing can have
        // changed (no insert/timeout/removal since the last scan, and no ping
        // retry or good node's expiry has come).
        if now_ms < self.pings_due {
            return Vec::new();
        }
        let cfg = self.cfg;
        let clock = self.clock;
        let mut out = Vec::new();
        for bi in 0..self.buckets.len() {
            for e in &mut self.buckets[bi].nodes {
                // Unverified: never responded and never failed.
                if e.last_response.is_none() && e.failures == 0 && !e.ping_in_flight(now_ms, &cfg) {
                    e.ping_sent = Some(stamp);
                    out.push(e.info(&clock, now_ms, &cfg));
                }
            }
            while let Some(p) = self.pick_ping(bi, stamp) {
                out.push(p);
            }
        }
        // Without a change, the next scan can only find something once a ping
        // in flight may be retried or a good node turns questionable.
        let retry = ms_of(cfg.ping_retry);
        let mut quiet = NEVER;
        for e in self.buckets.iter().flat_map(|b| b.nodes.iter()) {
            if let Some(p) = e.ping_sent.map(|p| p.ms().saturating_add(retry)) {
                if p > now_ms {
                    quiet = quiet.min(p);
                }
            }
            if let Some(t) = e.good_until(&cfg) {
                if t > now_ms {
                    quiet = quiet.min(t);
                }
            }
        }
        self.pings_due = quiet;
        out
    }
}
