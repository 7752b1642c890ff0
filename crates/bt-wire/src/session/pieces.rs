//! Which pieces each side has: the bitfield (only as the first piece announcement,
//! and of the right length once the layout is known), `have`, and BEP 6's
//! `have_all`/`have_none`, both directions.

use super::{Event, Misbehaviour, Session};
use crate::error::{CommandError, SessionError};
use crate::wire::{Bitfield, Message};

/// The pieces we told the peer we have.
#[derive(Debug, Default)]
pub(super) enum Ours {
    /// Nothing announced: we have nothing.
    #[default]
    Nothing,
    /// `have_all`.
    All,
    /// A bitfield, plus the haves since.
    Bits(Bitfield),
}

#[derive(Debug, Default)]
pub(super) struct PieceState {
    /// The peer sent a bitfield, have_all, have_none or a have.
    peer_announced: bool,
    /// We did.
    ours_announced: bool,
    pub(super) ours: Ours,
}

impl Session {
    /// Announce our pieces with a bitfield. Only as the first announcement, and of
    /// the torrent's piece count when the layout is known.
    pub fn send_bitfield(&mut self, bits: &Bitfield) -> Result<(), CommandError> {
        self.ready()?;
        if self.pieces.ours_announced {
            return Err(CommandError::AlreadyAnnounced);
        }
        if let Some(l) = self.layout() {
            if bits.len() != l.num_pieces() {
                return Err(CommandError::BitfieldLength {
                    got: bits.len(),
                    want: l.num_pieces(),
                });
            }
        }
        self.out.reserve(5 + bits.as_bytes().len())?;
        self.send(&Message::Bitfield(bits.as_bytes().to_vec()));
        self.pieces.ours_announced = true;
        self.pieces.ours = Ours::Bits(bits.clone());
        Ok(())
    }

    /// BEP 6: we have every piece.
    pub fn send_have_all(&mut self) -> Result<(), CommandError> {
        self.announce_all(true)
    }

    /// BEP 6: we have no piece.
    pub fn send_have_none(&mut self) -> Result<(), CommandError> {
        self.announce_all(false)
    }

    fn announce_all(&mut self, all: bool) -> Result<(), CommandError> {
        self.ready()?;
        if !self.fast {
            return Err(CommandError::Unsupported("the fast extension (BEP 6)"));
        }
        if self.pieces.ours_announced {
            return Err(CommandError::AlreadyAnnounced);
        }
        self.send(if all {
            &Message::HaveAll
        } else {
            &Message::HaveNone
        });
        self.pieces.ours_announced = true;
        self.pieces.ours = if all { Ours::All } else { Ours::Nothing };
        Ok(())
    }

    /// We completed piece `index`. Needs the layout (to know the piece exists).
    pub fn send_have(&mut self, index: u32) -> Result<(), CommandError> {
        self.ready()?;
        let layout = self.layout().ok_or(CommandError::NoLayout)?;
        let n = layout.num_pieces();
        if index as usize >= n {
            return Err(CommandError::OutOfRange {
                index,
                begin: 0,
                length: 0,
            });
        }
        self.send(&Message::Have(index));
        self.pieces.ours_announced = true;
        match &mut self.pieces.ours {
            Ours::All => {}
            Ours::Bits(b) => {
                b.set(index as usize);
            }
            ours @ Ours::Nothing => {
                let mut b = Bitfield::new(n);
                b.set(index as usize);
                *ours = Ours::Bits(b);
            }
        }
        Ok(())
    }

    /// Whether we told the peer we have piece `index`.
    pub fn have_piece(&self, index: u32) -> bool {
        match &self.pieces.ours {
            Ours::Nothing => false,
            Ours::All => self
                .layout()
                .is_none_or(|l| (index as usize) < l.num_pieces()),
            Ours::Bits(b) => b.has(index as usize),
        }
    }

    pub(super) fn on_bitfield(&mut self, bits: Vec<u8>) -> Result<(), SessionError> {
        if self.pieces.peer_announced {
            self.misbehaved(Misbehaviour::LateBitfield);
            return Ok(());
        }
        if let Some(l) = self.layout() {
            if Bitfield::from_bytes(&bits, l.num_pieces()).is_none() {
                return Err(SessionError::BitfieldLength {
                    got: bits.len(),
                    pieces: l.num_pieces(),
                });
            }
        }
        self.pieces.peer_announced = true;
        self.event(Event::Bitfield(bits));
        Ok(())
    }

    pub(super) fn on_have_all(&mut self, all: bool) {
        if self.pieces.peer_announced {
            self.misbehaved(Misbehaviour::LateBitfield);
            return;
        }
        self.pieces.peer_announced = true;
        self.event(if all { Event::HaveAll } else { Event::HaveNone });
    }

    pub(super) fn on_have(&mut self, index: u32) {
        self.pieces.peer_announced = true;
        match self.layout() {
            Some(l) if index as usize >= l.num_pieces() => {
                self.misbehaved(Misbehaviour::HaveOutOfRange(index))
            }
            _ => self.event(Event::Have(index)),
        }
    }
}
