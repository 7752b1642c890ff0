//! A peer's `sl_stream` messages: decoded, every number checked before any
//! signature, every announcement verified once (a known one is compared instead),
//! every piece hashed against its announcement; requests served from the window.

use std::sync::Arc;
use std::time::Instant;

use super::{Node, NodeEvent, PeerKey, MAX_AHEAD, MAX_NUMBER, MAX_SERVES_PER_PIECE};
use crate::announce::Announce;
use crate::error::Hostile;
use crate::window::Noted;
use crate::wire::{encode_piece, Message};

impl Node {
    pub(super) fn on_message(
        &mut self,
        now: Instant,
        peer: PeerKey,
        bytes: &[u8],
    ) -> Result<(), Hostile> {
        match Message::decode(bytes)? {
            Message::Announce(a) => {
                if self.check(&a)? {
                    self.on_announce(now, peer, a, None);
                }
            }
            Message::Piece(a, data) => {
                if self.check(&a)? {
                    if !a.matches(&data) {
                        return Err(Hostile::WrongData(a.number));
                    }
                    self.on_announce(now, peer, a, Some(data));
                }
            }
            Message::Request(n) => self.on_request(peer, n)?,
            Message::DontHave(n) => self.on_dont_have(now, peer, n),
        }
        Ok(())
    }

    /// Whether the announcement is for the window (false: older, ignored); an
    /// error for an absurd number or a forged signature.
    fn check(&self, a: &Announce) -> Result<bool, Hostile> {
        let n = a.number;
        if n > MAX_NUMBER {
            return Err(Hostile::AbsurdNumber(n));
        }
        if let Some(newest) = self.window.newest() {
            if n > newest.saturating_add(MAX_AHEAD) {
                return Err(Hostile::AbsurdNumber(n));
            }
            if n < self.window.low() {
                return Ok(false);
            }
        }
        if self.last.is_some_and(|(last, _)| n > last) {
            return Err(Hostile::AbsurdNumber(n));
        }
        if self.window.is_known(a) || a.verify(&self.id) {
            Ok(true)
        } else {
            Err(Hostile::BadSignature(n))
        }
    }

    /// A verified announcement from `peer`, with the piece's checked bytes when it
    /// sent them.
    fn on_announce(&mut self, now: Instant, peer: PeerKey, a: Announce, data: Option<Vec<u8>>) {
        let n = a.number;
        let newest = self.window.newest();
        match self.window.note(a, now) {
            Noted::Old => return,
            Noted::Conflict => {
                self.stats.conflicts += 1;
                return;
            }
            Noted::Known => {}
            Noted::New => {
                if self.window.newest() != newest {
                    self.prune();
                }
                if a.is_last() {
                    self.last = Some((n, now));
                }
                self.start_at(n);
            }
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.has.insert(n);
            p.has_last |= a.is_last();
        }
        if let Some(data) = data {
            self.on_piece(now, peer, a, data);
        }
        self.schedule(now);
    }

    fn on_piece(&mut self, _now: Instant, peer: PeerKey, a: Announce, data: Vec<u8>) {
        let n = a.number;
        if let Some(f) = self.fetches.remove(&n) {
            if let Some(p) = f.peer.and_then(|k| self.peers.get_mut(&k)) {
                p.inflight = p.inflight.saturating_sub(1);
            }
        }
        if !self.window.store(n, Arc::from(data)) {
            self.stats.duplicates += 1;
            return;
        }
        self.stats.pieces_received += 1;
        // Tell the others we have it; the last piece goes to everyone (its sender
        // too), so each knows when nobody needs it any more.
        let msg = Message::Announce(a).encode();
        let to: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(&k, p)| a.is_last() || (k != peer && !p.has.contains(&n)))
            .map(|(&k, _)| k)
            .collect();
        for k in to {
            self.send(k, msg.clone());
        }
    }

    fn on_request(&mut self, peer: PeerKey, n: u64) -> Result<(), Hostile> {
        if self.window.newest().is_none_or(|newest| n > newest) {
            return Err(Hostile::AbsurdNumber(n));
        }
        let data = self.piece_data(n);
        let Some(p) = self.peers.get_mut(&peer) else {
            return Ok(());
        };
        let count = p.served.entry(n).or_insert(0);
        *count += 1;
        if *count > MAX_SERVES_PER_PIECE {
            return Err(Hostile::RepeatedRequest(n));
        }
        match (data, self.window.get(n)) {
            (Some(data), Some(e)) => {
                p.has.insert(n);
                let msg = encode_piece(&e.announce, &data);
                self.stats.pieces_uploaded += 1;
                self.stats.piece_bytes_uploaded += data.len() as u64;
                self.send(peer, msg);
            }
            _ => self.send(peer, Message::DontHave(n).encode()),
        }
        Ok(())
    }

    fn on_dont_have(&mut self, now: Instant, peer: PeerKey, n: u64) {
        let Some(f) = self.fetches.get_mut(&n).filter(|f| f.peer == Some(peer)) else {
            return;
        };
        f.peer = None;
        f.tried.push(peer);
        self.stats.dont_haves += 1;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.inflight = p.inflight.saturating_sub(1);
            p.has.remove(&n);
        }
        self.schedule(now);
    }

    /// Viewer: where writing starts — the first piece announced, or an older one
    /// announced before anything was written.
    fn start_at(&mut self, n: u64) {
        if self.source.is_some() || self.started {
            return;
        }
        match self.next_out {
            Some(s) if s <= n => {}
            _ => self.next_out = Some(n),
        }
    }

    pub(super) fn finished(&mut self, now: Instant) {
        if self.finished_at.is_none() {
            self.finished_at = Some(now);
            self.events.push_back(NodeEvent::Finished);
        }
    }
}
