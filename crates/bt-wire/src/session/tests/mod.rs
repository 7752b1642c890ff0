//! Tests of the session without sockets: two sessions wired back to back
//! (`back_to_back.rs`), hostile bytes fed to one (`hostile.rs`), and random and
//! mutated input (`robustness.rs`), the driver's own extensions (`extensions.rs`).

mod back_to_back;
mod extensions;
mod hostile;
mod robustness;

use std::time::{Duration, Instant};

use super::{Event, Session, SessionConfig, Torrent};
use crate::bencode::{dict, Value};
use crate::error::SessionError;
use crate::metainfo::Info;
use crate::wire::{reserved, Handshake, Message};
use crate::InfoHash;

/// A torrent of `pieces` pieces of `piece_len` bytes (the last one a third
/// shorter) with real hashes: its info, and its payload.
pub(super) fn torrent(pieces: usize, piece_len: usize) -> (Info, Vec<u8>) {
    let len = pieces * piece_len - piece_len / 3;
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let mut hashes = Vec::new();
    for c in payload.chunks(piece_len) {
        use sha1::Digest;
        hashes.extend_from_slice(&sha1::Sha1::digest(c));
    }
    let raw = dict([
        ("length", Value::Int(len as i64)),
        ("name", Value::bytes("t.bin")),
        ("piece length", Value::Int(piece_len as i64)),
        ("pieces", Value::Bytes(hashes)),
    ])
    .encode();
    (Info::from_bytes(&raw).unwrap(), payload)
}

pub(super) fn cfg(id: u8) -> SessionConfig {
    SessionConfig::new([id; 20])
}

/// A session `a` that dialled a session `b`, and a clock.
pub(super) struct Pair {
    pub a: Session,
    pub b: Session,
    pub now: Instant,
    pub err_a: Option<SessionError>,
    pub err_b: Option<SessionError>,
}

impl Pair {
    /// `a` dials `b`; `b` accepts with `tb`. Events of the handshakes are left to drain.
    pub fn connect(ta: Torrent, tb: Torrent, ca: SessionConfig, cb: SessionConfig) -> Pair {
        let now = Instant::now();
        let mut p = Pair {
            a: Session::outgoing(now, ca, ta),
            b: Session::incoming(now, cb),
            now,
            err_a: None,
            err_b: None,
        };
        p.pump();
        match p.b.poll_event() {
            Some(Event::HandshakeReceived(h)) => assert_eq!(h.info_hash, tb.info_hash),
            other => panic!("expected HandshakeReceived, got {other:?}"),
        }
        p.b.accept(now, tb).unwrap();
        p.pump();
        p
    }

    /// Both sides know the same torrent.
    pub fn with(info: &Info) -> Pair {
        Pair::connect(
            Torrent::from_info(info),
            Torrent::from_info(info),
            cfg(1),
            cfg(2),
        )
    }

    /// Move bytes both ways until neither side has anything to send.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            if let Some(bytes) = self.a.poll_transmit() {
                moved = true;
                if let Err(e) = self.b.handle_input(self.now, &bytes) {
                    self.err_b.get_or_insert(e);
                }
            }
            if let Some(bytes) = self.b.poll_transmit() {
                moved = true;
                if let Err(e) = self.a.handle_input(self.now, &bytes) {
                    self.err_a.get_or_insert(e);
                }
            }
            if !moved {
                return;
            }
        }
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    pub fn events_a(&mut self) -> Vec<Event> {
        drain(&mut self.a)
    }

    pub fn events_b(&mut self) -> Vec<Event> {
        drain(&mut self.b)
    }
}

pub(super) fn drain(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// The bytes a peer sends first: its handshake for `ih` with `reserved`.
pub(super) fn peer_handshake(ih: InfoHash, reserved: [u8; 8]) -> Vec<u8> {
    Handshake {
        reserved,
        info_hash: ih,
        peer_id: *b"-XX0001-hostilehosti",
    }
    .encode()
    .to_vec()
}

/// An outgoing session for `torrent` that has received a hostile peer's handshake
/// (every feature bit set); its handshake events drained.
pub(super) fn dialled(torrent: Torrent, config: SessionConfig) -> (Session, Instant) {
    let now = Instant::now();
    let ih = torrent.info_hash;
    let mut s = Session::outgoing(now, config, torrent);
    s.handle_input(now, &peer_handshake(ih, reserved::ours()))
        .unwrap();
    let _ = s.poll_transmit();
    drain(&mut s);
    (s, now)
}

/// Encoded messages back to back.
pub(super) fn wire(msgs: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        m.encode_into(&mut out);
    }
    out
}

/// Decode what a session wrote (after the handshake) back into messages.
pub(super) fn sent(s: &mut Session) -> Vec<Message> {
    let mut d = crate::wire::Decoder::new(u32::MAX);
    while let Some(b) = s.poll_transmit() {
        d.extend(&b);
    }
    std::iter::from_fn(|| d.next_message().unwrap()).collect()
}
