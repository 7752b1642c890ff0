//! Nodes leaving the table: a timeout (a failure recorded, or an eviction with the
//! best candidate promoted) and an explicit removal.

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::Id;
use swarmlab_net::canonical;

use super::node_addr::NodeAddr;
use super::{NodeInfo, NodeState, RoutingTable, TimeoutOutcome};

impl RoutingTable {
    /// Node `id` at `addr` did not answer one of our queries in time.
    /// Ignored unless both id and address match an entry.
    pub fn on_timeout(&mut self, now: Instant, id: &Id, addr: SocketAddr) -> TimeoutOutcome {
        let stamp = self.stamp(now);
        self.pings_changed(stamp);
        let now_ms = stamp.ms();
        let addr = NodeAddr::new(canonical(addr));
        let Some(loc) = self.find(id) else {
            return TimeoutOutcome::Unknown;
        };
        if self.entry(loc).addr != addr {
            return TimeoutOutcome::Unknown;
        }
        let cfg = self.cfg;
        let clock = self.clock;
        let e = self.entry_mut(loc);
        let before = e.state(now_ms, &cfg);
        e.fail();
        let after = e.state(now_ms, &cfg);

        if loc.in_cache {
            if after == NodeState::Bad {
                let evicted = self.take(loc).info(&clock, now_ms, &cfg);
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
        let evicted = self.take(loc).info(&clock, now_ms, &cfg);
        let promoted = self.refill(loc.bucket, stamp);
        TimeoutOutcome::Evicted { evicted, promoted }
    }

    /// Removes node `id` (bucket or cache); a cached candidate takes a freed
    /// bucket slot.
    pub fn remove(&mut self, now: Instant, id: &Id) -> Option<NodeInfo> {
        let stamp = self.stamp(now);
        self.pings_changed(stamp);
        let loc = self.find(id)?;
        let e = self.take(loc);
        if !loc.in_cache {
            self.refill(loc.bucket, stamp);
        }
        Some(e.info(&self.clock, stamp.ms(), &self.cfg))
    }
}
