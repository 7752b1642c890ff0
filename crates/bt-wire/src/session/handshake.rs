//! The BEP 3 handshake, both ways. Ours is queued at the start (outgoing) or at
//! [`Session::accept`] (incoming); the peer's is read as it arrives, its protocol
//! string checked byte by byte (an HTTP answer fails at its first byte, not after
//! 68), and its info-hash matched against the torrent or handed to the driver.

use std::time::Instant;

use super::{Event, PeerHandshake, Phase, Session, Torrent};
use crate::error::{CommandError, SessionError};
use crate::wire::{reserved, Handshake, HANDSHAKE_LEN, PROTOCOL};
use crate::InfoHash;

impl Session {
    pub(super) fn queue_handshake(&mut self, info_hash: InfoHash) {
        let h = Handshake {
            reserved: self.cfg.reserved,
            info_hash,
            peer_id: self.cfg.peer_id,
        };
        self.out.push_raw(&h.encode());
        self.timers.sent();
    }

    /// Takes handshake bytes from the front of `bytes`; returns how many it used.
    pub(super) fn read_handshake(
        &mut self,
        now: Instant,
        bytes: &[u8],
    ) -> Result<usize, SessionError> {
        let n = (HANDSHAKE_LEN - self.hs_buf.len()).min(bytes.len());
        self.hs_buf.extend_from_slice(&bytes[..n]);
        let mut prefix = [19u8; 20];
        prefix[1..].copy_from_slice(PROTOCOL);
        let seen = self.hs_buf.len().min(prefix.len());
        if self.hs_buf[..seen] != prefix[..seen] {
            return Err(SessionError::BadHandshake);
        }
        let Ok(raw) = <[u8; HANDSHAKE_LEN]>::try_from(self.hs_buf.as_slice()) else {
            return Ok(n);
        };
        let h = Handshake::decode(&raw).map_err(|_| SessionError::BadHandshake)?;
        let peer = PeerHandshake {
            info_hash: h.info_hash,
            peer_id: h.peer_id,
            reserved: h.reserved,
        };
        self.peer = Some(peer.clone());
        if self.outgoing {
            let expected = self.torrent.as_ref().map(|t| t.info_hash);
            if expected != Some(h.info_hash) {
                return Err(SessionError::WrongInfoHash {
                    expected: expected.unwrap_or(InfoHash([0; 20])),
                    got: h.info_hash,
                });
            }
            self.establish(now);
        } else {
            self.phase = Phase::AwaitAccept;
            self.event(Event::HandshakeReceived(peer));
        }
        Ok(n)
    }

    /// Incoming session: serve `torrent`, the one the peer's handshake named. Our
    /// handshake (and extension handshake) is queued, and the messages that arrived
    /// behind the peer's handshake are decoded; a protocol error among them closes
    /// the session (see [`Session::is_closed`] and [`Session::error`]).
    pub fn accept(&mut self, now: Instant, torrent: Torrent) -> Result<(), CommandError> {
        match self.phase {
            Phase::AwaitAccept => {}
            Phase::Closed => return Err(CommandError::Closed),
            _ => return Err(CommandError::WrongPhase),
        }
        if self.peer.as_ref().map(|p| p.info_hash) != Some(torrent.info_hash) {
            return Err(CommandError::WrongTorrent);
        }
        self.timers.tick(now);
        let info_hash = torrent.info_hash;
        self.torrent = Some(torrent);
        self.queue_handshake(info_hash);
        self.establish(now);
        if let Err(e) = self.decode_buffered(now) {
            self.fail(e);
        }
        Ok(())
    }

    /// Incoming session: refuse the torrent the peer asked for (unknown to us, or
    /// not served now). The session ends without sending anything.
    pub fn refuse(&mut self) -> Result<(), CommandError> {
        match (self.phase, &self.peer) {
            (Phase::AwaitAccept, Some(p)) => {
                let ih = p.info_hash;
                self.fail(SessionError::Refused(ih));
                Ok(())
            }
            (Phase::Closed, _) => Err(CommandError::Closed),
            _ => Err(CommandError::WrongPhase),
        }
    }

    fn establish(&mut self, now: Instant) {
        let Some(peer) = self.peer.clone() else {
            return;
        };
        let ours = &self.cfg.reserved;
        self.fast = reserved::has(ours, reserved::FAST) && peer.supports_fast();
        self.extended = reserved::has(ours, reserved::EXTENSION) && peer.supports_extensions();
        self.dht = reserved::has(ours, reserved::DHT) && peer.supports_dht();
        self.phase = Phase::Established;
        self.timers.established(now);
        self.event(Event::Established(peer));
        if self.extended {
            self.send_ext_handshake();
        }
    }
}
