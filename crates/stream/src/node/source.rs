//! The source: input bytes cut into pieces of [`super::NodeConfig::piece_size`]
//! (a short one after [`super::NodeConfig::flush_after`]), each signed, kept in the
//! window, pushed whole to [`super::NodeConfig::fanout`] viewers (a different few
//! each time) and announced to every other peer.

use std::sync::Arc;
use std::time::Instant;

use super::{Node, PeerKey};
use crate::announce::Announce;
use crate::wire::{encode_piece, Message};

impl Node {
    /// Source: bytes read from the input. Full pieces are made at once.
    pub fn push_input(&mut self, now: Instant, mut bytes: &[u8]) {
        let size = self.cfg.piece_size.clamp(1, crate::MAX_PIECE_SIZE);
        while !bytes.is_empty() {
            let Some(s) = self.source.as_mut() else {
                return;
            };
            if self.finished_at.is_some() {
                return;
            }
            let take = (size - s.buf.len()).min(bytes.len());
            s.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if s.buf.len() == size {
                let data = std::mem::take(&mut s.buf);
                s.flush_at = None;
                self.make_piece(now, data, false);
            } else if s.flush_at.is_none() {
                s.flush_at = Some(now + self.cfg.flush_after);
            }
        }
    }

    /// Source: the input ended; what is left becomes the last piece (possibly
    /// empty).
    pub fn finish_input(&mut self, now: Instant) {
        let Some(s) = self.source.as_mut() else {
            return;
        };
        if self.finished_at.is_some() {
            return;
        }
        let data = std::mem::take(&mut s.buf);
        s.flush_at = None;
        self.make_piece(now, data, true);
    }

    /// Source: flush a piece that waited long enough.
    pub(super) fn flush_due(&mut self, now: Instant) {
        let Some(s) = self.source.as_mut() else {
            return;
        };
        if s.flush_at.is_some_and(|t| t <= now) {
            s.flush_at = None;
            let data = std::mem::take(&mut s.buf);
            if !data.is_empty() {
                self.make_piece(now, data, false);
            }
        }
    }

    fn make_piece(&mut self, now: Instant, data: Vec<u8>, last: bool) {
        let Some(s) = self.source.as_mut() else {
            return;
        };
        let n = s.next;
        s.next += 1;
        let a = Announce::sign(&s.key, n, &data, last);
        let data: Arc<[u8]> = Arc::from(data);
        let viewers: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.source)
            .map(|(&k, _)| k)
            .collect();
        let pushes = self.cfg.fanout.min(viewers.len());
        let first = if viewers.is_empty() {
            0
        } else {
            s.rotation % viewers.len()
        };
        s.rotation = s.rotation.wrapping_add(pushes.max(1));
        self.window.note(a, now);
        self.window.store(n, data.clone());
        self.prune();
        self.stats.pieces_made += 1;
        if last {
            self.last = Some((n, now));
            self.finished(now);
        }
        let piece = encode_piece(&a, &data);
        let announce = Message::Announce(a).encode();
        let pushed: Vec<PeerKey> = (0..pushes)
            .map(|i| viewers[(first + i) % viewers.len()])
            .collect();
        let others: Vec<PeerKey> = self
            .peers
            .keys()
            .copied()
            .filter(|k| !pushed.contains(k))
            .collect();
        for k in pushed {
            if let Some(p) = self.peers.get_mut(&k) {
                p.has.insert(n);
            }
            self.stats.pushes += 1;
            self.stats.pieces_uploaded += 1;
            self.stats.piece_bytes_uploaded += data.len() as u64;
            self.send(k, piece.clone());
        }
        for k in others {
            self.send(k, announce.clone());
        }
    }
}
