//! The viewer's side: which piece to ask whom for, request timeouts, the ordered
//! output and its gaps.
//!
//! Pieces are asked oldest first, from `next_out` on. A piece goes to the peer that
//! announced it with the fewest requests in flight, other viewers first: the source
//! is asked only when no other peer has announced the piece
//! [`super::NodeConfig::source_grace`] after its first announcement (at once when
//! the source is our only peer), so the source's upload does not grow with the
//! number of viewers. A request unanswered after
//! [`super::NodeConfig::request_timeout`], or answered `dont_have`, is asked of
//! another peer.

use std::sync::Arc;
use std::time::Instant;

use super::{Fetch, Node, NodeEvent, PeerKey};
use crate::wire::Message;

impl Node {
    /// Time passed: flushes, request timeouts, the end, new requests.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.flush_due(now);
        let timeout = self.cfg.request_timeout;
        let mut expired = Vec::new();
        for (&n, f) in self.fetches.iter_mut() {
            if let Some(k) = f.peer.filter(|_| f.at + timeout <= now) {
                f.peer = None;
                f.tried.push(k);
                expired.push(k);
                let _ = n;
            }
        }
        for k in expired {
            self.stats.request_timeouts += 1;
            if let Some(p) = self.peers.get_mut(&k) {
                p.inflight = p.inflight.saturating_sub(1);
            }
        }
        if let (Some((_, seen)), None, None) = (self.last, self.finished_at, &self.source) {
            if now >= seen + self.cfg.end_linger {
                self.skip_missing = true;
            }
        }
        self.schedule(now);
    }

    /// Viewer: the next piece of the stream to write, in order, once it is held
    /// (or a gap is skipped). Call when the output can take it.
    pub fn poll_output(&mut self, now: Instant) -> Option<Arc<[u8]>> {
        if self.source.is_some() || self.finished_at.is_some() {
            return None;
        }
        let mut next = self.next_out?;
        let low = self.window.low();
        if !self.started {
            next = next.max(self.join_point());
        }
        if next < low {
            self.gap(next, low);
            next = low;
        }
        if self.skip_missing {
            let held = self.window.held().map(|a| a.number).find(|&n| n >= next);
            if let Some(h) = held.filter(|&h| h > next) {
                self.gap(next, h);
                next = h;
            }
        }
        self.next_out = Some(next);
        let data = self.piece_data(next)?;
        let last = self.window.get(next).is_some_and(|e| e.announce.is_last());
        self.started = true;
        self.next_out = Some(next + 1);
        self.stats.pieces_written += 1;
        self.stats.bytes_written += data.len() as u64;
        if last {
            self.finished(now);
        }
        Some(data)
    }

    /// Viewer: whether [`Node::poll_output`] has something now.
    pub fn has_output(&self) -> bool {
        match self.next_out {
            Some(n) if self.source.is_none() && self.finished_at.is_none() => {
                n < self.window.low() || self.window.data(n).is_some() || self.skip_missing
            }
            _ => false,
        }
    }

    /// Where a viewer that has written nothing yet starts at the earliest: half a
    /// window behind the newest piece once its peers offer a full window (it joined
    /// late: starting at the window's edge, it would lose the next pieces to the
    /// window before fetching them), else anywhere.
    fn join_point(&self) -> u64 {
        match (self.window.newest(), self.next_out) {
            (Some(newest), Some(oldest)) if newest - oldest + 1 >= self.window.size() => {
                newest.saturating_sub(self.window.size() / 2)
            }
            _ => 0,
        }
    }

    fn gap(&mut self, from: u64, to: u64) {
        self.stats.pieces_skipped += to - from;
        self.events.push_back(NodeEvent::Gap { from, to });
    }

    /// The earliest time a piece only the source has may be asked of it.
    pub(super) fn grace_deadline(&self) -> Option<Instant> {
        let start = self.next_out?;
        if self.source.is_some() || self.fetches.len() >= self.cfg.max_requests {
            return None;
        }
        self.window
            .missing_from(start)
            .filter(|e| {
                let n = e.announce.number;
                self.fetches.get(&n).is_none_or(|f| f.peer.is_none())
                    && self.peers.values().all(|p| p.source || !p.has.contains(&n))
            })
            .map(|e| e.seen + self.cfg.source_grace)
            .min()
    }

    /// Ask for what is missing, oldest first.
    pub(super) fn schedule(&mut self, now: Instant) {
        let Some(start) = self.next_out else {
            return;
        };
        if self.source.is_some() {
            return;
        }
        let others = self.peers.values().any(|p| !p.source);
        let mut inflight = self.fetches.values().filter(|f| f.peer.is_some()).count();
        let wanted: Vec<(u64, Instant)> = self
            .window
            .missing_from(start)
            .map(|e| (e.announce.number, e.seen))
            .filter(|(n, _)| self.fetches.get(n).is_none_or(|f| f.peer.is_none()))
            .collect();
        for (n, seen) in wanted {
            if inflight >= self.cfg.max_requests {
                break;
            }
            let Some(k) = self.choose(n, seen, now, others) else {
                continue;
            };
            inflight += 1;
            if let Some(p) = self.peers.get_mut(&k) {
                p.inflight += 1;
            }
            let f = self.fetches.entry(n).or_insert(Fetch {
                peer: None,
                at: now,
                tried: Vec::new(),
            });
            f.peer = Some(k);
            f.at = now;
            self.stats.requests_sent += 1;
            self.send(k, Message::Request(n).encode());
        }
    }

    /// Whom to ask for `n`: a viewer that has it with the fewest requests in flight;
    /// the source only after the grace (or when it is our only peer).
    fn choose(&self, n: u64, seen: Instant, now: Instant, others: bool) -> Option<PeerKey> {
        let tried: &[PeerKey] = self.fetches.get(&n).map_or(&[], |f| &f.tried);
        let mut best: Option<(bool, usize, PeerKey)> = None;
        for (&k, p) in &self.peers {
            if !p.has.contains(&n) || p.inflight >= self.cfg.max_requests_per_peer {
                continue;
            }
            // Tried peers again only when every holder was tried.
            let rank = (
                p.source,
                p.inflight + tried.iter().filter(|&&t| t == k).count() * 1000,
                k,
            );
            if best.is_none_or(|b| rank < b) {
                best = Some(rank);
            }
        }
        let (source, _, k) = best?;
        if source && others && now < seen + self.cfg.source_grace {
            return None;
        }
        Some(k)
    }
}
