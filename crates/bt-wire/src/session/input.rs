//! The peer's bytes after the handshake: decoded by the length-capped
//! [`crate::wire::Decoder`] and dispatched to the file of their concern.

use std::time::Instant;

use super::{BlockRef, Event, Misbehaviour, Phase, Session};
use crate::error::SessionError;
use crate::wire::Message;

impl Session {
    pub(super) fn input(&mut self, now: Instant, mut bytes: &[u8]) -> Result<(), SessionError> {
        if self.phase == Phase::Handshake {
            let used = self.read_handshake(now, bytes)?;
            bytes = &bytes[used..];
        }
        match self.phase {
            Phase::AwaitAccept => {
                // At most a handshake and one message before the driver decides.
                self.decoder.extend(bytes);
                let limit = self.cfg.limits.max_message as usize + 4;
                if self.decoder.buffered() > limit {
                    return Err(SessionError::InputBeforeAccept(self.decoder.buffered()));
                }
                Ok(())
            }
            Phase::Established => {
                self.decoder.extend(bytes);
                self.decode_buffered(now)
            }
            Phase::Handshake | Phase::Closed => Ok(()),
        }
    }

    pub(super) fn decode_buffered(&mut self, now: Instant) -> Result<(), SessionError> {
        while self.phase == Phase::Established {
            let Some(msg) = self.decoder.next_message()? else {
                break;
            };
            self.stats.messages_in += 1;
            self.on_message(now, msg)?;
        }
        Ok(())
    }

    fn on_message(&mut self, now: Instant, msg: Message) -> Result<(), SessionError> {
        if let Some(id @ 0x0D..=0x11) = msg.id() {
            if !self.fast {
                return Err(SessionError::FastNotNegotiated(id));
            }
        }
        let block = |index, begin, length| BlockRef {
            index,
            begin,
            length,
        };
        match msg {
            Message::KeepAlive => {}
            Message::Choke => self.on_choke(),
            Message::Unchoke => self.on_unchoke(),
            Message::Interested => self.on_interest(true),
            Message::NotInterested => self.on_interest(false),
            Message::Have(i) => self.on_have(i),
            Message::Bitfield(b) => self.on_bitfield(b)?,
            Message::HaveAll => self.on_have_all(true),
            Message::HaveNone => self.on_have_all(false),
            Message::Request {
                index,
                begin,
                length,
            } => self.on_request(block(index, begin, length))?,
            Message::Cancel {
                index,
                begin,
                length,
            } => self.on_cancel(block(index, begin, length)),
            Message::Piece { index, begin, data } => self.on_block(index, begin, data),
            Message::RejectRequest {
                index,
                begin,
                length,
            } => self.on_reject(block(index, begin, length)),
            Message::AllowedFast(i) => self.on_allowed_fast(i),
            Message::SuggestPiece(i) => self.event(Event::Suggest(i)),
            Message::Port(p) => self.event(Event::DhtPort(p)),
            Message::Extended { id, payload } => self.on_extended(now, id, &payload)?,
            Message::Unknown { id, .. } => self.misbehaved(Misbehaviour::UnknownMessage(id)),
        }
        Ok(())
    }
}
