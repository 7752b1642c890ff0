//! The peer-wire protocol: handshake (BEP 3), messages (BEP 3, the BEP 5 `port`
//! message, BEP 6 fast extension, BEP 10 extended) and an incremental decoder.
//!
//! [`Decoder`] reads the 4-byte length prefix first and refuses any prefix over
//! its cap before buffering the body, so a hostile 4 GiB prefix is an error and
//! never an allocation.

use crate::error::WireError;
use crate::{InfoHash, PeerId};

/// The protocol string of the BEP 3 handshake.
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// Length of a handshake on the wire.
pub const HANDSHAKE_LEN: usize = 68;
/// Largest block size clients request.
pub const BLOCK_SIZE: u32 = 16 * 1024;
/// Default cap for one message's length prefix: 1 MiB plus one block
/// (a bitfield of 8 million pieces, or a piece message with a 16 KiB block).
pub const DEFAULT_MAX_MESSAGE: u32 = (1 << 20) + BLOCK_SIZE;

/// Reserved-bit helpers (byte index, mask) as in BEP 4.
pub mod reserved {
    /// BEP 10 extension protocol: `reserved[5] & 0x10`.
    pub const EXTENSION: (usize, u8) = (5, 0x10);
    /// BEP 5 DHT: `reserved[7] & 0x01`.
    pub const DHT: (usize, u8) = (7, 0x01);
    /// BEP 6 fast extension: `reserved[7] & 0x04`.
    pub const FAST: (usize, u8) = (7, 0x04);
    /// Whether `bits` has the flag `(byte, mask)`.
    pub fn has(bits: &[u8; 8], flag: (usize, u8)) -> bool {
        bits[flag.0] & flag.1 != 0
    }
    /// Our reserved bits: extension protocol, DHT and fast.
    pub fn ours() -> [u8; 8] {
        let mut r = [0u8; 8];
        for f in [EXTENSION, DHT, FAST] {
            r[f.0] |= f.1;
        }
        r
    }
}

/// The 68-byte handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Reserved bits.
    pub reserved: [u8; 8],
    /// The torrent's info-hash.
    pub info_hash: InfoHash,
    /// The sender's peer id.
    pub peer_id: PeerId,
}

impl Handshake {
    /// Encode to 68 bytes.
    pub fn encode(&self) -> [u8; HANDSHAKE_LEN] {
        let mut b = [0u8; HANDSHAKE_LEN];
        b[0] = 19;
        b[1..20].copy_from_slice(PROTOCOL);
        b[20..28].copy_from_slice(&self.reserved);
        b[28..48].copy_from_slice(&self.info_hash.0);
        b[48..68].copy_from_slice(&self.peer_id);
        b
    }
    /// Decode 68 bytes.
    pub fn decode(b: &[u8; HANDSHAKE_LEN]) -> Result<Handshake, WireError> {
        if b[0] != 19 || &b[1..20] != PROTOCOL {
            return Err(WireError::BadHandshake);
        }
        let mut reserved = [0u8; 8];
        reserved.copy_from_slice(&b[20..28]);
        let mut ih = [0u8; 20];
        ih.copy_from_slice(&b[28..48]);
        let mut peer_id = [0u8; 20];
        peer_id.copy_from_slice(&b[48..68]);
        Ok(Handshake {
            reserved,
            info_hash: InfoHash(ih),
            peer_id,
        })
    }
}

/// A peer-wire message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Zero-length keep-alive.
    KeepAlive,
    /// id 0
    Choke,
    /// id 1
    Unchoke,
    /// id 2
    Interested,
    /// id 3
    NotInterested,
    /// id 4
    Have(u32),
    /// id 5: raw bitfield bytes, high bit of the first byte is piece 0.
    Bitfield(Vec<u8>),
    /// id 6
    Request {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Block length.
        length: u32,
    },
    /// id 7
    Piece {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Block data.
        data: Vec<u8>,
    },
    /// id 8
    Cancel {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Block length.
        length: u32,
    },
    /// id 9 (BEP 5): the sender's DHT port.
    Port(u16),
    /// id 0x0D (BEP 6)
    SuggestPiece(u32),
    /// id 0x0E (BEP 6)
    HaveAll,
    /// id 0x0F (BEP 6)
    HaveNone,
    /// id 0x10 (BEP 6)
    RejectRequest {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Block length.
        length: u32,
    },
    /// id 0x11 (BEP 6)
    AllowedFast(u32),
    /// id 20 (BEP 10): extended message id and payload.
    Extended {
        /// Extended message id (0 = extension handshake).
        id: u8,
        /// Payload after the id.
        payload: Vec<u8>,
    },
    /// Any other id, kept so the connection can go on.
    Unknown {
        /// Message id.
        id: u8,
        /// Payload after the id.
        payload: Vec<u8>,
    },
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The 13 bytes that precede a block's data in a `piece` message (length prefix,
/// id 7, index, begin), so that the data can be written without copying it into a
/// [`Message`].
pub fn piece_header(index: u32, begin: u32, data_len: usize) -> [u8; 13] {
    let mut h = [0u8; 13];
    h[..4].copy_from_slice(&(9 + data_len as u32).to_be_bytes());
    h[4] = 7;
    h[5..9].copy_from_slice(&index.to_be_bytes());
    h[9..].copy_from_slice(&begin.to_be_bytes());
    h
}

impl Message {
    /// The message id (`None` for a keep-alive, which has none).
    pub fn id(&self) -> Option<u8> {
        Some(match self {
            Message::KeepAlive => return None,
            Message::Choke => 0,
            Message::Unchoke => 1,
            Message::Interested => 2,
            Message::NotInterested => 3,
            Message::Have(_) => 4,
            Message::Bitfield(_) => 5,
            Message::Request { .. } => 6,
            Message::Piece { .. } => 7,
            Message::Cancel { .. } => 8,
            Message::Port(_) => 9,
            Message::SuggestPiece(_) => 0x0D,
            Message::HaveAll => 0x0E,
            Message::HaveNone => 0x0F,
            Message::RejectRequest { .. } => 0x10,
            Message::AllowedFast(_) => 0x11,
            Message::Extended { .. } => 20,
            Message::Unknown { id, .. } => *id,
        })
    }

    /// Encode with its length prefix.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Append the encoding (length prefix first) to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        if let Some(id) = self.id() {
            out.push(id);
        }
        let mut u32s = |values: &[u32]| {
            for v in values {
                out.extend_from_slice(&v.to_be_bytes());
            }
        };
        match self {
            Message::Have(i) | Message::SuggestPiece(i) | Message::AllowedFast(i) => u32s(&[*i]),
            Message::Request {
                index,
                begin,
                length,
            }
            | Message::Cancel {
                index,
                begin,
                length,
            }
            | Message::RejectRequest {
                index,
                begin,
                length,
            } => u32s(&[*index, *begin, *length]),
            Message::Piece { index, begin, data } => {
                u32s(&[*index, *begin]);
                out.extend_from_slice(data);
            }
            Message::Bitfield(b) => out.extend_from_slice(b),
            Message::Port(p) => out.extend_from_slice(&p.to_be_bytes()),
            Message::Extended { id, payload } => {
                out.push(*id);
                out.extend_from_slice(payload);
            }
            Message::Unknown { payload, .. } => out.extend_from_slice(payload),
            Message::KeepAlive
            | Message::Choke
            | Message::Unchoke
            | Message::Interested
            | Message::NotInterested
            | Message::HaveAll
            | Message::HaveNone => {}
        }
        let len = (out.len() - start - 4) as u32;
        out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// Decode one message body (after the length prefix; `body` is id + payload).
    pub fn decode_body(body: &[u8]) -> Result<Message, WireError> {
        let Some((&id, p)) = body.split_first() else {
            return Ok(Message::KeepAlive);
        };
        let len = body.len() as u32;
        let want = |n: usize| {
            if p.len() == n {
                Ok(())
            } else {
                Err(WireError::BadLength { id, len })
            }
        };
        Ok(match id {
            0 => want(0).map(|_| Message::Choke)?,
            1 => want(0).map(|_| Message::Unchoke)?,
            2 => want(0).map(|_| Message::Interested)?,
            3 => want(0).map(|_| Message::NotInterested)?,
            4 => want(4).map(|_| Message::Have(be32(p)))?,
            5 => Message::Bitfield(p.to_vec()),
            6 | 8 | 0x10 => {
                want(12)?;
                let (index, begin, length) = (be32(p), be32(&p[4..]), be32(&p[8..]));
                match id {
                    6 => Message::Request {
                        index,
                        begin,
                        length,
                    },
                    8 => Message::Cancel {
                        index,
                        begin,
                        length,
                    },
                    _ => Message::RejectRequest {
                        index,
                        begin,
                        length,
                    },
                }
            }
            7 => {
                if p.len() < 8 {
                    return Err(WireError::BadLength { id, len });
                }
                Message::Piece {
                    index: be32(p),
                    begin: be32(&p[4..]),
                    data: p[8..].to_vec(),
                }
            }
            9 => want(2).map(|_| Message::Port(u16::from_be_bytes([p[0], p[1]])))?,
            0x0D => want(4).map(|_| Message::SuggestPiece(be32(p)))?,
            0x0E => want(0).map(|_| Message::HaveAll)?,
            0x0F => want(0).map(|_| Message::HaveNone)?,
            0x11 => want(4).map(|_| Message::AllowedFast(be32(p)))?,
            20 => {
                if p.is_empty() {
                    return Err(WireError::BadLength { id, len });
                }
                Message::Extended {
                    id: p[0],
                    payload: p[1..].to_vec(),
                }
            }
            _ => Message::Unknown {
                id,
                payload: p.to_vec(),
            },
        })
    }
}

/// Incremental decoder of length-prefixed messages.
///
/// Feed bytes with [`Decoder::extend`], then call [`Decoder::next_message`] until it
/// returns `Ok(None)`. The buffer never holds more than one message (at most the
/// cap) plus the bytes of the last `extend`.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
    max_len: u32,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_MESSAGE)
    }
}

impl Decoder {
    /// A decoder refusing any length prefix over `max_len` bytes.
    pub fn new(max_len: u32) -> Decoder {
        Decoder {
            buf: Vec::new(),
            pos: 0,
            max_len,
        }
    }
    /// Append received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }
    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Decode the next complete message, if one is buffered.
    ///
    /// An oversized length prefix is reported as soon as its 4 bytes arrive.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        let avail = &self.buf[self.pos..];
        if avail.len() < 4 {
            return Ok(None);
        }
        let len = be32(avail);
        if len > self.max_len {
            return Err(WireError::TooLong {
                len,
                max: self.max_len,
            });
        }
        let total = 4 + len as usize;
        if avail.len() < total {
            return Ok(None);
        }
        let msg = Message::decode_body(&avail[4..total])?;
        self.pos += total;
        Ok(Some(msg))
    }
}

/// A peer's pieces, with validation against the torrent's piece count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitfield {
    bits: Vec<u8>,
    len: usize,
}

impl Bitfield {
    /// An empty bitfield of `len` pieces.
    pub fn new(len: usize) -> Bitfield {
        Bitfield {
            bits: vec![0; len.div_ceil(8)],
            len,
        }
    }
    /// A full bitfield of `len` pieces.
    pub fn full(len: usize) -> Bitfield {
        let mut b = Bitfield::new(len);
        for i in 0..len {
            b.set(i);
        }
        b
    }
    /// Validate raw bitfield bytes for `len` pieces: exactly `ceil(len/8)` bytes,
    /// spare bits clear. Returns `None` if the length or spare bits are wrong.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Option<Bitfield> {
        if bytes.len() != len.div_ceil(8) {
            return None;
        }
        let spare = bytes.len() * 8 - len;
        if spare > 0 {
            let mask = (1u8 << spare) - 1;
            if bytes[bytes.len() - 1] & mask != 0 {
                return None;
            }
        }
        Some(Bitfield {
            bits: bytes.to_vec(),
            len,
        })
    }
    /// Number of pieces.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when there are no pieces at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether piece `i` is present.
    pub fn has(&self, i: usize) -> bool {
        i < self.len && self.bits[i / 8] & (0x80 >> (i % 8)) != 0
    }
    /// Mark piece `i` present; false if out of range.
    pub fn set(&mut self, i: usize) -> bool {
        if i >= self.len {
            return false;
        }
        self.bits[i / 8] |= 0x80 >> (i % 8);
        true
    }
    /// Pieces present.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }
    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_messages() -> Vec<Message> {
        vec![
            Message::KeepAlive,
            Message::Choke,
            Message::Unchoke,
            Message::Interested,
            Message::NotInterested,
            Message::Have(7),
            Message::Bitfield(vec![0xff, 0x80]),
            Message::Request {
                index: 1,
                begin: 16384,
                length: 16384,
            },
            Message::Piece {
                index: 2,
                begin: 0,
                data: vec![9; 100],
            },
            Message::Cancel {
                index: 1,
                begin: 0,
                length: 3,
            },
            Message::Port(6881),
            Message::SuggestPiece(3),
            Message::HaveAll,
            Message::HaveNone,
            Message::RejectRequest {
                index: 4,
                begin: 5,
                length: 6,
            },
            Message::AllowedFast(8),
            Message::Extended {
                id: 0,
                payload: b"de".to_vec(),
            },
            Message::Unknown {
                id: 99,
                payload: vec![1, 2],
            },
        ]
    }

    #[test]
    fn handshake_roundtrip_and_reserved_bits() {
        let h = Handshake {
            reserved: reserved::ours(),
            info_hash: InfoHash([3; 20]),
            peer_id: *b"-SL0001-abcdefghijkl",
        };
        let b = h.encode();
        assert_eq!(b[0], 19);
        assert_eq!(b[25], 0x10);
        assert_eq!(b[27], 0x05);
        assert_eq!(Handshake::decode(&b).unwrap(), h);
        let mut bad = b;
        bad[3] = b'x';
        assert_eq!(Handshake::decode(&bad), Err(WireError::BadHandshake));
        assert!(reserved::has(&h.reserved, reserved::FAST));
        assert!(!reserved::has(&[0; 8], reserved::EXTENSION));
    }

    #[test]
    fn messages_roundtrip_one_byte_at_a_time() {
        let msgs = all_messages();
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(m.encode());
        }
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for b in &stream {
            d.extend(std::slice::from_ref(b));
            while let Some(m) = d.next_message().unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out, msgs);
        assert_eq!(d.buffered(), 0);
        // All at once.
        let mut d = Decoder::default();
        d.extend(&stream);
        let mut n = 0;
        while d.next_message().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, msgs.len());
    }

    #[test]
    fn four_gib_prefix_is_an_error_before_any_body() {
        let mut d = Decoder::default();
        d.extend(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            d.next_message(),
            Err(WireError::TooLong {
                len: u32::MAX,
                max: DEFAULT_MAX_MESSAGE
            })
        );
        assert!(d.buffered() <= 4);
        let mut d = Decoder::new(100);
        d.extend(&101u32.to_be_bytes());
        assert!(matches!(d.next_message(), Err(WireError::TooLong { .. })));
    }

    #[test]
    fn wrong_lengths_are_errors() {
        for body in [
            vec![0u8, 1],
            vec![4, 0, 0, 1],
            vec![6, 0, 0, 0, 0],
            vec![7, 0, 0],
            vec![9, 1],
            vec![0x0E, 1],
            vec![20],
        ] {
            let mut framed = (body.len() as u32).to_be_bytes().to_vec();
            framed.extend(&body);
            let mut d = Decoder::default();
            d.extend(&framed);
            assert!(
                matches!(d.next_message(), Err(WireError::BadLength { .. })),
                "{body:?}"
            );
        }
    }

    #[test]
    fn bitfield_validation() {
        assert!(Bitfield::from_bytes(&[0xff, 0xc0], 10).is_some());
        assert!(
            Bitfield::from_bytes(&[0xff, 0xe0], 10).is_none(),
            "spare bit"
        );
        assert!(Bitfield::from_bytes(&[0xff], 10).is_none(), "too short");
        assert!(
            Bitfield::from_bytes(&[0xff, 0, 0], 10).is_none(),
            "too long"
        );
        let b = Bitfield::from_bytes(&[0xa0, 0x40], 10).unwrap();
        assert_eq!(b.count(), 3);
        assert!(b.has(0) && !b.has(1) && b.has(2) && b.has(9) && !b.has(10));
        let mut f = Bitfield::new(10);
        assert!(f.set(9));
        assert!(!f.set(10));
        assert_eq!(Bitfield::full(10).count(), 10);
    }
}
