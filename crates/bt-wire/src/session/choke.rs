//! Choke and interest, both directions (BEP 3).

use super::{Event, Session};
use crate::error::CommandError;
use crate::wire::Message;

/// Both sides start choked and not interested (BEP 3).
#[derive(Debug)]
pub(super) struct ChokeState {
    pub(super) am_choking: bool,
    pub(super) am_interested: bool,
    pub(super) peer_choking: bool,
    pub(super) peer_interested: bool,
}

impl Default for ChokeState {
    fn default() -> Self {
        ChokeState {
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
        }
    }
}

impl Session {
    /// Choke the peer. Its pending requests are dropped: with BEP 6 each is rejected
    /// (except in allowed-fast pieces, which stay), without it the choke discards
    /// them (BEP 3). A later `send_piece` for them fails with `NotRequested`.
    pub fn choke(&mut self) -> Result<(), CommandError> {
        self.ready()?;
        if self.choke.am_choking {
            return Ok(());
        }
        self.send(&Message::Choke);
        self.choke.am_choking = true;
        self.drop_pending_on_choke();
        Ok(())
    }

    /// Unchoke the peer: it may request blocks.
    pub fn unchoke(&mut self) -> Result<(), CommandError> {
        self.ready()?;
        if self.choke.am_choking {
            self.send(&Message::Unchoke);
            self.choke.am_choking = false;
        }
        Ok(())
    }

    /// Tell the peer we want its pieces.
    pub fn interested(&mut self) -> Result<(), CommandError> {
        self.ready()?;
        if !self.choke.am_interested {
            self.send(&Message::Interested);
            self.choke.am_interested = true;
        }
        Ok(())
    }

    /// Tell the peer we no longer want its pieces.
    pub fn not_interested(&mut self) -> Result<(), CommandError> {
        self.ready()?;
        if self.choke.am_interested {
            self.send(&Message::NotInterested);
            self.choke.am_interested = false;
        }
        Ok(())
    }

    /// We choke the peer.
    pub fn am_choking(&self) -> bool {
        self.choke.am_choking
    }

    /// We told the peer we are interested.
    pub fn am_interested(&self) -> bool {
        self.choke.am_interested
    }

    /// The peer chokes us.
    pub fn peer_choking(&self) -> bool {
        self.choke.peer_choking
    }

    /// The peer is interested in our pieces.
    pub fn peer_interested(&self) -> bool {
        self.choke.peer_interested
    }

    pub(super) fn on_choke(&mut self) {
        self.choke.peer_choking = true;
        let dropped = if self.fast {
            0
        } else {
            self.download.drop_all()
        };
        self.event(Event::Choke { dropped });
    }

    pub(super) fn on_unchoke(&mut self) {
        self.choke.peer_choking = false;
        self.event(Event::Unchoke);
    }

    pub(super) fn on_interest(&mut self, interested: bool) {
        self.choke.peer_interested = interested;
        self.event(if interested {
            Event::Interested
        } else {
            Event::NotInterested
        });
    }
}
