//! The choking policy of a seed, sans-IO: who may download from us now.
//!
//! A seed has nothing to gain from tit-for-tat, so the policy is about sharing
//! upload slots fairly:
//!
//! - every interested peer is unchoked while fewer than
//!   [`ServerConfig::unchoke_slots`](super::ServerConfig::unchoke_slots) are;
//! - beyond that, interested peers wait in arrival order, and every
//!   [`ServerConfig::rotate`](super::ServerConfig::rotate) the peer unchoked the
//!   longest gives its slot to the peer waiting the longest (round robin, as
//!   libtorrent's seeds rotate by time since unchoke);
//! - a peer that is no longer interested, or leaves, frees its slot at once for the
//!   first waiting peer.
//!
//! The connections read their state with [`Choker::is_unchoked`] on each of their
//! ticks and choke or unchoke their session to match.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Identifies one connection of the server.
pub type ConnId = u64;

/// Upload slots shared by every connection of a server: every interested peer is
/// unchoked up to the slots, the others wait in arrival order, and the slots rotate
/// round robin every `rotate` while peers wait.
#[derive(Debug)]
pub struct Choker {
    slots: usize,
    rotate: Duration,
    /// Unchoked peers and when they were unchoked, oldest first.
    unchoked: VecDeque<(ConnId, Instant)>,
    /// Interested peers waiting for a slot, oldest first.
    waiting: VecDeque<ConnId>,
}

impl Choker {
    /// `slots` upload slots (at least 1), rotated every `rotate`.
    pub fn new(slots: usize, rotate: Duration) -> Choker {
        Choker {
            slots: slots.max(1),
            rotate,
            unchoked: VecDeque::new(),
            waiting: VecDeque::new(),
        }
    }

    /// Peer `id` is interested: unchoked if a slot is free, else it waits.
    pub fn interested(&mut self, id: ConnId, now: Instant) {
        if self.is_unchoked(id) || self.waiting.contains(&id) {
            return;
        }
        if self.unchoked.len() < self.slots {
            self.unchoked.push_back((id, now));
        } else {
            self.waiting.push_back(id);
        }
    }

    /// Peer `id` is no longer interested or has left: its slot goes to the first
    /// waiting peer.
    pub fn remove(&mut self, id: ConnId, now: Instant) {
        self.waiting.retain(|w| *w != id);
        let before = self.unchoked.len();
        self.unchoked.retain(|(u, _)| *u != id);
        if self.unchoked.len() < before {
            if let Some(next) = self.waiting.pop_front() {
                self.unchoked.push_back((next, now));
            }
        }
    }

    /// Rotates: while peers wait and the longest-unchoked peer has held its slot for
    /// `rotate`, it goes to the back of the queue and the first waiting peer takes
    /// its slot. At most one full turn per call.
    pub fn tick(&mut self, now: Instant) {
        for _ in 0..self.slots {
            let Some(&(oldest, since)) = self.unchoked.front() else {
                return;
            };
            if self.waiting.is_empty() || now.saturating_duration_since(since) < self.rotate {
                return;
            }
            self.unchoked.pop_front();
            if let Some(next) = self.waiting.pop_front() {
                self.unchoked.push_back((next, now));
            }
            self.waiting.push_back(oldest);
        }
    }

    /// Whether peer `id` holds a slot now.
    pub fn is_unchoked(&self, id: ConnId) -> bool {
        self.unchoked.iter().any(|(u, _)| *u == id)
    }

    /// Peers unchoked now.
    pub fn unchoked(&self) -> usize {
        self.unchoked.len()
    }

    /// Interested peers waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interested_peer_is_unchoked_up_to_the_slots() {
        let t0 = Instant::now();
        let mut c = Choker::new(2, Duration::from_secs(30));
        for id in 1..=3 {
            c.interested(id, t0);
        }
        assert!(c.is_unchoked(1) && c.is_unchoked(2) && !c.is_unchoked(3));
        assert_eq!((c.unchoked(), c.waiting()), (2, 1));
        // Interested twice changes nothing.
        c.interested(3, t0);
        assert_eq!(c.waiting(), 1);
        // A peer leaving gives its slot to the one waiting at once.
        c.remove(1, t0);
        assert!(c.is_unchoked(3) && !c.is_unchoked(1));
        // Removing a waiting or unknown peer is harmless.
        c.remove(9, t0);
        assert_eq!((c.unchoked(), c.waiting()), (2, 0));
    }

    #[test]
    fn slots_rotate_round_robin_after_the_interval() {
        let t0 = Instant::now();
        let rotate = Duration::from_secs(30);
        let mut c = Choker::new(2, rotate);
        for id in 1..=4 {
            c.interested(id, t0);
        }
        c.tick(t0 + rotate - Duration::from_millis(1));
        assert!(c.is_unchoked(1) && c.is_unchoked(2));
        c.tick(t0 + rotate);
        assert!(c.is_unchoked(3) && c.is_unchoked(4), "both slots turned");
        assert!(!c.is_unchoked(1) && !c.is_unchoked(2));
        c.tick(t0 + 2 * rotate);
        assert!(c.is_unchoked(1) && c.is_unchoked(2), "and back");
        // Nobody waiting: nobody is choked however long it holds a slot.
        let mut c = Choker::new(2, rotate);
        c.interested(1, t0);
        c.tick(t0 + 10 * rotate);
        assert!(c.is_unchoked(1));
    }
}
