//! The pings the table asks for: unverified nodes, and questionable nodes of full
//! buckets that candidates wait to replace. At most as many pings per bucket as it has
//! candidates.

use std::time::{Duration, Instant};

use super::{GoodUntil, NodeInfo, NodeState, RoutingTable};

impl RoutingTable {
    /// Picks the least recently seen not-good node of bucket `bi` to ping,
    /// if the bucket has more waiting candidates than pings in flight.
    pub(super) fn pick_ping(&mut self, bi: usize, now: Instant) -> Option<NodeInfo> {
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
}
