//! Our requests, when we download from the peer. [`Session::request`] checks the
//! block and the limits and remembers it; a `piece` message comes out as
//! [`Event::Block`] only when it matches a request in flight (index, offset and
//! length), any other is counted as unrequested and dropped. A reject (BEP 6) or,
//! without BEP 6, a choke ends a request.

use std::collections::HashSet;

use super::{BlockRef, Event, Misbehaviour, Session};
use crate::error::CommandError;
use crate::wire::Message;

#[derive(Debug, Default)]
pub(super) struct Downloads {
    in_flight: HashSet<BlockRef>,
    /// Pieces the peer allowed fast (BEP 6): requested even while it chokes us.
    allowed_fast: Vec<u32>,
}

impl Downloads {
    /// Forget every request (the peer choked us without BEP 6); returns how many.
    pub(super) fn drop_all(&mut self) -> usize {
        let n = self.in_flight.len();
        self.in_flight.clear();
        n
    }
}

impl Session {
    /// Ask the peer for a block. Refused when it is out of range or over the block
    /// limit, when the peer chokes us (unless the piece is allowed-fast), and when
    /// as many requests are in flight as our limit or the peer's `reqq` allows.
    /// Asking again for a block in flight does nothing.
    pub fn request(&mut self, r: BlockRef) -> Result<(), CommandError> {
        self.ready()?;
        if !self.block_in_range(&r) {
            return Err(CommandError::OutOfRange {
                index: r.index,
                begin: r.begin,
                length: r.length,
            });
        }
        if self.choke.peer_choking && !self.download.allowed_fast.contains(&r.index) {
            return Err(CommandError::Choked);
        }
        if self.download.in_flight.contains(&r) {
            return Ok(());
        }
        let peer_reqq = self
            .ext
            .peer
            .as_ref()
            .and_then(|h| h.reqq)
            .and_then(|q| usize::try_from(q).ok())
            .filter(|&q| q > 0)
            .unwrap_or(usize::MAX);
        let limit = self.cfg.limits.max_outstanding_requests.min(peer_reqq);
        if self.download.in_flight.len() >= limit {
            return Err(CommandError::TooManyRequests(self.download.in_flight.len()));
        }
        self.out.reserve(17)?;
        self.send(&Message::Request {
            index: r.index,
            begin: r.begin,
            length: r.length,
        });
        self.download.in_flight.insert(r);
        Ok(())
    }

    /// Withdraw a request in flight. A block that was already on its way arrives
    /// afterwards as unrequested.
    pub fn cancel(&mut self, r: BlockRef) -> Result<(), CommandError> {
        self.ready()?;
        if !self.download.in_flight.remove(&r) {
            return Err(CommandError::NotRequested {
                index: r.index,
                begin: r.begin,
                length: r.length,
            });
        }
        self.send(&Message::Cancel {
            index: r.index,
            begin: r.begin,
            length: r.length,
        });
        Ok(())
    }

    /// Our requests in flight.
    pub fn requests_in_flight(&self) -> usize {
        self.download.in_flight.len()
    }

    pub(super) fn on_block(&mut self, index: u32, begin: u32, data: Vec<u8>) {
        let r = BlockRef {
            index,
            begin,
            length: u32::try_from(data.len()).unwrap_or(u32::MAX),
        };
        if self.download.in_flight.remove(&r) {
            self.stats.blocks_in += 1;
            self.event(Event::Block { index, begin, data });
        } else {
            self.stats.unrequested_blocks += 1;
            self.misbehaved(Misbehaviour::UnrequestedBlock(r));
        }
    }

    pub(super) fn on_reject(&mut self, r: BlockRef) {
        if self.download.in_flight.remove(&r) {
            self.event(Event::Rejected(r));
        } else {
            self.misbehaved(Misbehaviour::UnexpectedReject(r));
        }
    }

    pub(super) fn on_allowed_fast(&mut self, index: u32) {
        let in_range = self
            .layout()
            .is_none_or(|l| (index as usize) < l.num_pieces());
        if in_range
            && !self.download.allowed_fast.contains(&index)
            && self.download.allowed_fast.len() < self.cfg.limits.max_allowed_fast
        {
            self.download.allowed_fast.push(index);
            self.event(Event::AllowedFast(index));
        }
    }
}
