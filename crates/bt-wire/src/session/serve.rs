//! The peer's requests, when we serve it. A request comes out as
//! [`Event::Request`] only after every check: in range (when the layout is known),
//! of length 1 to [`super::Limits::max_block`], while we unchoke the peer (or in a
//! piece we allowed fast), for a piece we announced, and with room in the bounded
//! queue of pending requests. A request that fails is counted and, under BEP 6,
//! rejected; too many invalid ones end the session. The driver answers a pending
//! request with [`Session::send_piece`] or [`Session::reject`].

use std::collections::VecDeque;

use super::{BlockRef, Event, Misbehaviour, Session};
use crate::error::{CommandError, SessionError};
use crate::wire::{piece_header, Message};

#[derive(Debug, Default)]
pub(super) struct Serving {
    /// Requests handed to the driver and not yet answered (bounded by the limits).
    pending: VecDeque<BlockRef>,
    /// Invalid requests so far.
    invalid: u32,
    /// Pieces we allowed fast (BEP 6): served even while we choke.
    allowed_fast: Vec<u32>,
}

impl Session {
    /// Whether `r` is a block anyone may ask for: length 1 to the block limit, and
    /// inside its piece when the layout is known.
    pub(super) fn block_in_range(&self, r: &BlockRef) -> bool {
        r.length > 0
            && r.length <= self.cfg.limits.max_block
            && self
                .layout()
                .is_none_or(|l| l.contains(r.index, r.begin, r.length))
    }

    pub(super) fn on_request(&mut self, r: BlockRef) -> Result<(), SessionError> {
        let refusal = if !self.block_in_range(&r) {
            self.serve.invalid += 1;
            if self.serve.invalid > self.cfg.limits.max_invalid_requests {
                return Err(SessionError::InvalidRequests(self.serve.invalid));
            }
            Misbehaviour::InvalidRequest(r)
        } else if self.choke.am_choking && !self.serve.allowed_fast.contains(&r.index) {
            Misbehaviour::RequestWhileChoked(r)
        } else if !self.have_piece(r.index) {
            Misbehaviour::RequestForMissingPiece(r)
        } else if self.serve.pending.contains(&r) {
            self.misbehaved(Misbehaviour::DuplicateRequest(r));
            return Ok(());
        } else if self.serve.pending.len() >= self.cfg.limits.max_pending_requests {
            Misbehaviour::RequestQueueFull(r)
        } else {
            self.serve.pending.push_back(r);
            self.event(Event::Request(r));
            return Ok(());
        };
        self.stats.requests_refused += 1;
        self.misbehaved(refusal);
        self.send_reject(r);
        Ok(())
    }

    pub(super) fn on_cancel(&mut self, r: BlockRef) {
        if let Some(pos) = self.serve.pending.iter().position(|p| *p == r) {
            self.serve.pending.remove(pos);
            self.event(Event::Cancel(r));
        }
    }

    fn send_reject(&mut self, r: BlockRef) {
        if self.fast {
            self.send(&Message::RejectRequest {
                index: r.index,
                begin: r.begin,
                length: r.length,
            });
            self.stats.rejects_sent += 1;
        }
    }

    fn take_pending(&mut self, r: &BlockRef) -> Result<(), CommandError> {
        let pos =
            self.serve
                .pending
                .iter()
                .position(|p| p == r)
                .ok_or(CommandError::NotRequested {
                    index: r.index,
                    begin: r.begin,
                    length: r.length,
                })?;
        self.serve.pending.remove(pos);
        Ok(())
    }

    /// Answer the pending request for `data.len()` bytes at `begin` of piece `index`.
    pub fn send_piece(&mut self, index: u32, begin: u32, data: &[u8]) -> Result<(), CommandError> {
        self.ready()?;
        let r = BlockRef {
            index,
            begin,
            length: data.len() as u32,
        };
        if !self.serve.pending.contains(&r) {
            return Err(CommandError::NotRequested {
                index,
                begin,
                length: r.length,
            });
        }
        self.out.reserve(13 + data.len())?;
        self.take_pending(&r)?;
        self.out.push_raw(&piece_header(index, begin, data.len()));
        self.out.push_raw(data);
        self.stats.messages_out += 1;
        self.stats.blocks_out += 1;
        self.timers.sent();
        Ok(())
    }

    /// Refuse a pending request: a BEP 6 reject when the peer speaks it, otherwise
    /// the request is just forgotten.
    pub fn reject(&mut self, r: BlockRef) -> Result<(), CommandError> {
        self.ready()?;
        self.take_pending(&r)?;
        self.send_reject(r);
        Ok(())
    }

    /// BEP 6: the peer may request piece `index` even while we choke it. At most
    /// [`super::Limits::max_allowed_fast`] pieces.
    pub fn allow_fast(&mut self, index: u32) -> Result<(), CommandError> {
        self.ready()?;
        if !self.fast {
            return Err(CommandError::Unsupported("the fast extension (BEP 6)"));
        }
        if self.serve.allowed_fast.contains(&index) {
            return Ok(());
        }
        if self.serve.allowed_fast.len() >= self.cfg.limits.max_allowed_fast {
            return Err(CommandError::TooManyRequests(self.serve.allowed_fast.len()));
        }
        if self
            .layout()
            .is_some_and(|l| index as usize >= l.num_pieces())
        {
            return Err(CommandError::OutOfRange {
                index,
                begin: 0,
                length: 0,
            });
        }
        self.send(&Message::AllowedFast(index));
        self.serve.allowed_fast.push(index);
        Ok(())
    }

    /// BEP 6: suggest piece `index` to the peer.
    pub fn suggest(&mut self, index: u32) -> Result<(), CommandError> {
        self.ready()?;
        if !self.fast {
            return Err(CommandError::Unsupported("the fast extension (BEP 6)"));
        }
        self.send(&Message::SuggestPiece(index));
        Ok(())
    }

    /// The peer's requests waiting for `send_piece` or `reject`, oldest first.
    pub fn pending_requests(&self) -> impl Iterator<Item = &BlockRef> + '_ {
        self.serve.pending.iter()
    }

    /// On our choke: pending requests outside allowed-fast pieces are rejected
    /// (BEP 6) or discarded (BEP 3).
    pub(super) fn drop_pending_on_choke(&mut self) {
        let pending = std::mem::take(&mut self.serve.pending);
        for r in pending {
            if self.serve.allowed_fast.contains(&r.index) {
                self.serve.pending.push_back(r);
            } else {
                self.send_reject(r);
            }
        }
    }
}
