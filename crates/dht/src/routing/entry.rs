//! One entry of the table, its history, and the states derived from it: good,
//! questionable, unverified, bad (the rules are in the module docs of `routing`).
//!
//! An entry takes 56 bytes: the 20-byte id, the address in 18 bytes (`node_addr.rs`),
//! its consecutive failures, and four times as 4-byte stamps (`clock.rs`).

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::Id;

use super::clock::{ms_of, Clock, Stamp};
use super::node_addr::NodeAddr;
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
    /// Last time it answered one of our queries (to the millisecond).
    pub last_response: Option<Instant>,
    /// Last time it queried us (to the millisecond).
    pub last_query: Option<Instant>,
    /// Consecutive timeouts since its last response.
    pub failures: u32,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) id: Id,
    pub(super) addr: NodeAddr,
    /// Consecutive timeouts since the last response (saturating).
    pub(super) failures: u16,
    pub(super) added: Stamp,
    pub(super) last_response: Option<Stamp>,
    pub(super) last_query: Option<Stamp>,
    pub(super) ping_sent: Option<Stamp>,
}

fn later(a: Option<Stamp>, b: Stamp) -> Option<Stamp> {
    Some(a.map_or(b, |a| a.max(b)))
}

impl Entry {
    pub(super) fn new(now: Stamp, id: Id, addr: SocketAddr, seen: Seen) -> Self {
        let mut e = Entry {
            id,
            addr: NodeAddr::new(addr),
            failures: 0,
            added: now,
            last_response: None,
            last_query: None,
            ping_sent: None,
        };
        e.touch(now, seen);
        e
    }

    pub(super) fn touch(&mut self, now: Stamp, seen: Seen) {
        match seen {
            Seen::Responded => {
                self.last_response = later(self.last_response, now);
                self.failures = 0;
                self.ping_sent = None;
            }
            Seen::Queried => self.last_query = later(self.last_query, now),
            Seen::Heard => {}
        }
    }

    pub(super) fn fail(&mut self) {
        self.failures = self.failures.saturating_add(1);
        self.ping_sent = None;
    }

    /// Until when (ms since the epoch) the node is good: no failure since the last
    /// response, and the last response (or a query after having responded once) is
    /// within `good_window`. `None`: not good.
    pub(super) fn good_until(&self, cfg: &RoutingConfig) -> Option<u64> {
        match self.last_response {
            Some(r) if self.failures == 0 => {
                let anchor = self.last_query.map_or(r, |q| q.max(r));
                Some(anchor.ms().saturating_add(ms_of(cfg.good_window)))
            }
            _ => None,
        }
    }

    pub(super) fn last_seen(&self) -> Stamp {
        let mut t = self.added;
        if let Some(r) = self.last_response {
            t = t.max(r);
        }
        if let Some(q) = self.last_query {
            t = t.max(q);
        }
        t
    }

    /// The state at `now` (milliseconds since the table's epoch).
    #[inline]
    pub(super) fn state(&self, now: u64, cfg: &RoutingConfig) -> NodeState {
        if self.good_until(cfg).is_some_and(|t| now < t) {
            return NodeState::Good;
        }
        if u32::from(self.failures) >= cfg.max_failures.min(u32::from(u16::MAX)) {
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

    pub(super) fn ping_in_flight(&self, now: u64, cfg: &RoutingConfig) -> bool {
        self.ping_sent
            .is_some_and(|t| now.saturating_sub(t.ms()) < ms_of(cfg.ping_retry))
    }

    /// Ordering key for replacement-cache quality: verified first, then
    /// most recently seen.
    pub(super) fn cache_key(&self) -> (bool, Stamp) {
        (self.last_response.is_some(), self.last_seen())
    }

    pub(super) fn info(&self, clock: &Clock, now: u64, cfg: &RoutingConfig) -> NodeInfo {
        self.info_in(clock, self.state(now, cfg))
    }

    /// The snapshot with a state already computed.
    pub(super) fn info_in(&self, clock: &Clock, state: NodeState) -> NodeInfo {
        NodeInfo {
            id: self.id,
            addr: self.addr.socket(),
            state,
            last_response: self.last_response.map(|s| clock.instant(s)),
            last_query: self.last_query.map(|s| clock.instant(s)),
            failures: u32::from(self.failures),
        }
    }

    /// Every stamp read against an epoch moved `shift` ms forward.
    pub(super) fn shift(&mut self, shift: u64) {
        self.added = Clock::shift(self.added, shift);
        for s in [
            &mut self.last_response,
            &mut self.last_query,
            &mut self.ping_sent,
        ] {
            *s = s.map(|t| Clock::shift(t, shift));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_takes_56_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 56);
    }
}
