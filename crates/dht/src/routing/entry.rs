//! One entry of the table, its history, and the states derived from it: good,
//! questionable, unverified, bad (the rules are in the module docs of `routing`).

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::Id;

use super::RoutingConfig;

/// How we came to know about a node being inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seen {
    /// It answered one of our queries (verified).
    Responded,
    /// It sent us a query (unverified unless it has responded before).
    Queried,
    /// Learned from a third party or from disk: unverified, no activity.
    Heard,
}

/// State of a node at some instant (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeState {
    /// Responsive recently.
    Good,
    /// Responded before but not recently, or timed out once.
    Questionable,
    /// Never responded to us.
    Unverified,
    /// Failed repeatedly.
    Bad,
}

/// A snapshot of one routing-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node id.
    pub id: Id,
    /// Its address (canonical: IPv4-mapped IPv6 becomes IPv4).
    pub addr: SocketAddr,
    /// State at the instant the snapshot was taken.
    pub state: NodeState,
    /// Last time it answered one of our queries.
    pub last_response: Option<Instant>,
    /// Last time it queried us.
    pub last_query: Option<Instant>,
    /// Consecutive timeouts since its last response.
    pub failures: u32,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) id: Id,
    pub(super) addr: SocketAddr,
    pub(super) added: Instant,
    pub(super) last_response: Option<Instant>,
    pub(super) last_query: Option<Instant>,
    pub(super) failures: u32,
    pub(super) ping_sent: Option<Instant>,
    /// Cached from the fields above: until when the node is good.
    pub(super) good_until: GoodUntil,
}

/// Until when an entry is good (derived, so `closest` compares one instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GoodUntil {
    Not,
    Until(Instant),
    Forever,
}

fn later(a: Option<Instant>, b: Instant) -> Option<Instant> {
    Some(a.map_or(b, |a| a.max(b)))
}

impl Entry {
    pub(super) fn new(
        now: Instant,
        id: Id,
        addr: SocketAddr,
        seen: Seen,
        cfg: &RoutingConfig,
    ) -> Self {
        let mut e = Entry {
            id,
            addr,
            added: now,
            last_response: None,
            last_query: None,
            failures: 0,
            ping_sent: None,
            good_until: GoodUntil::Not,
        };
        e.touch(now, seen, cfg);
        e
    }

    pub(super) fn touch(&mut self, now: Instant, seen: Seen, cfg: &RoutingConfig) {
        match seen {
            Seen::Responded => {
                self.last_response = later(self.last_response, now);
                self.failures = 0;
                self.ping_sent = None;
            }
            Seen::Queried => self.last_query = later(self.last_query, now),
            Seen::Heard => {}
        }
        self.update_good_until(cfg);
    }

    pub(super) fn fail(&mut self, cfg: &RoutingConfig) {
        self.failures = self.failures.saturating_add(1);
        self.ping_sent = None;
        self.update_good_until(cfg);
    }

    /// Good = no failure since the last response, and the last response (or
    /// a query after having responded once) is within `good_window`.
    pub(super) fn update_good_until(&mut self, cfg: &RoutingConfig) {
        self.good_until = match self.last_response {
            Some(r) if self.failures == 0 => {
                let anchor = self.last_query.map_or(r, |q| q.max(r));
                match anchor.checked_add(cfg.good_window) {
                    Some(t) => GoodUntil::Until(t),
                    None => GoodUntil::Forever,
                }
            }
            _ => GoodUntil::Not,
        };
    }

    pub(super) fn last_seen(&self) -> Instant {
        let mut t = self.added;
        if let Some(r) = self.last_response {
            t = t.max(r);
        }
        if let Some(q) = self.last_query {
            t = t.max(q);
        }
        t
    }

    #[inline]
    pub(super) fn state(&self, now: Instant, cfg: &RoutingConfig) -> NodeState {
        match self.good_until {
            GoodUntil::Forever => return NodeState::Good,
            GoodUntil::Until(t) if now < t => return NodeState::Good,
            _ => {}
        }
        if self.failures >= cfg.max_failures {
            NodeState::Bad
        } else if self.last_response.is_none() {
            if self.failures > 0 {
                NodeState::Bad
            } else {
                NodeState::Unverified
            }
        } else {
            NodeState::Questionable
        }
    }

    pub(super) fn ping_in_flight(&self, now: Instant, cfg: &RoutingConfig) -> bool {
        self.ping_sent
            .is_some_and(|t| now.saturating_duration_since(t) < cfg.ping_retry)
    }

    /// Ordering key for replacement-cache quality: verified first, then
    /// most recently seen.
    pub(super) fn cache_key(&self) -> (bool, Instant) {
        (self.last_response.is_some(), self.last_seen())
    }

    pub(super) fn info(&self, now: Instant, cfg: &RoutingConfig) -> NodeInfo {
        NodeInfo {
            id: self.id,
            addr: self.addr,
            state: self.state(now, cfg),
            last_response: self.last_response,
            last_query: self.last_query,
            failures: self.failures,
        }
    }
}
