//! The `sl_stream` messages: the payload of a BEP 10 extended message under the
//! name [`crate::EXTENSION`]. The first byte is the type; numbers are big-endian.
//!
//! | type | name | body | bytes |
//! |---|---|---|---|
//! | 0 | announce | number u64, length u32, flags u8, SHA-1 [20], signature [64] | 98 |
//! | 1 | request | number u64 | 9 |
//! | 2 | piece | the announce body (97 bytes), then `length` bytes of data | 98 + length |
//! | 3 | dont_have | number u64 | 9 |
//!
//! An announce says "I have this piece" and carries the source's signature, so it
//! can be forwarded as it is. A piece carries its announcement, so it can be checked
//! on its own (the source pushes pieces unasked).

use crate::announce::{Announce, ANNOUNCE_LEN, KNOWN_FLAGS};
use crate::error::WireError;
use crate::MAX_PIECE_SIZE;

const ANNOUNCE: u8 = 0;
const REQUEST: u8 = 1;
const PIECE: u8 = 2;
const DONT_HAVE: u8 = 3;

/// Largest message: a piece of [`MAX_PIECE_SIZE`] bytes with its header.
pub const MAX_MESSAGE: usize = 1 + ANNOUNCE_LEN + MAX_PIECE_SIZE;

/// One `sl_stream` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The sender has this piece.
    Announce(Announce),
    /// Please send this piece.
    Request(u64),
    /// A piece with its announcement.
    Piece(Announce, Vec<u8>),
    /// The sender does not have (or no longer has) this piece.
    DontHave(u64),
}

impl Message {
    /// The encoded message.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::Announce(a) => {
                let mut out = Vec::with_capacity(1 + ANNOUNCE_LEN);
                out.push(ANNOUNCE);
                a.encode_into(&mut out);
                out
            }
            Message::Request(n) => number(REQUEST, *n),
            Message::DontHave(n) => number(DONT_HAVE, *n),
            Message::Piece(a, data) => encode_piece(a, data),
        }
    }

    /// Decode a message, checking every length and flag.
    pub fn decode(b: &[u8]) -> Result<Message, WireError> {
        let (&kind, body) = b.split_first().ok_or(WireError::Empty)?;
        let want = match kind {
            ANNOUNCE => ANNOUNCE_LEN,
            REQUEST | DONT_HAVE => 8,
            PIECE => {
                if body.len() < ANNOUNCE_LEN {
                    return Err(WireError::Length {
                        kind,
                        got: b.len(),
                        want: 1 + ANNOUNCE_LEN,
                    });
                }
                ANNOUNCE_LEN
            }
            k => return Err(WireError::UnknownType(k)),
        };
        if kind != PIECE && body.len() != want {
            return Err(WireError::Length {
                kind,
                got: b.len(),
                want: 1 + want,
            });
        }
        match kind {
            REQUEST => Ok(Message::Request(be64(body))),
            DONT_HAVE => Ok(Message::DontHave(be64(body))),
            _ => {
                let head: &[u8; ANNOUNCE_LEN] = body[..ANNOUNCE_LEN]
                    .try_into()
                    .map_err(|_| WireError::Empty)?;
                let a = Announce::decode(head);
                check(&a)?;
                if kind == ANNOUNCE {
                    return Ok(Message::Announce(a));
                }
                let data = &body[ANNOUNCE_LEN..];
                if data.len() != a.length as usize {
                    return Err(WireError::Length {
                        kind,
                        got: b.len(),
                        want: 1 + ANNOUNCE_LEN + a.length as usize,
                    });
                }
                Ok(Message::Piece(a, data.to_vec()))
            }
        }
    }
}

/// A piece message for `a` and `data`, without copying `data` twice.
pub fn encode_piece(a: &Announce, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + ANNOUNCE_LEN + data.len());
    out.push(PIECE);
    a.encode_into(&mut out);
    out.extend_from_slice(data);
    out
}

fn check(a: &Announce) -> Result<(), WireError> {
    if a.flags & !KNOWN_FLAGS != 0 {
        return Err(WireError::Flags(a.flags));
    }
    if a.length as usize > MAX_PIECE_SIZE || (a.length == 0 && !a.is_last()) {
        return Err(WireError::PieceLength(a.length));
    }
    Ok(())
}

fn number(kind: u8, n: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.push(kind);
    out.extend_from_slice(&n.to_be_bytes());
    out
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn messages_round_trip() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let a = Announce::sign(&key, 9, b"data", true);
        for m in [
            Message::Announce(a),
            Message::Request(u64::MAX),
            Message::DontHave(0),
            Message::Piece(a, b"data".to_vec()),
        ] {
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
        assert_eq!(Message::Announce(a).encode().len(), 98);
    }

    #[test]
    fn bad_messages_are_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let a = Announce::sign(&key, 9, b"data", false);
        assert_eq!(Message::decode(&[]), Err(WireError::Empty));
        assert_eq!(Message::decode(&[9]), Err(WireError::UnknownType(9)));
        assert!(matches!(
            Message::decode(&[1, 0, 0]),
            Err(WireError::Length { kind: 1, .. })
        ));
        let mut piece = Message::Piece(a, b"data".to_vec()).encode();
        piece.push(0);
        assert!(matches!(
            Message::decode(&piece),
            Err(WireError::Length { kind: 2, .. })
        ));
        assert!(matches!(
            Message::decode(&piece[..50]),
            Err(WireError::Length { kind: 2, .. })
        ));
        let big = Announce {
            length: MAX_PIECE_SIZE as u32 + 1,
            ..a
        };
        assert_eq!(
            Message::decode(&Message::Announce(big).encode()),
            Err(WireError::PieceLength(MAX_PIECE_SIZE as u32 + 1))
        );
        let empty = Announce { length: 0, ..a };
        assert_eq!(
            Message::decode(&Message::Announce(empty).encode()),
            Err(WireError::PieceLength(0))
        );
        let flags = Announce { flags: 0x80, ..a };
        assert_eq!(
            Message::decode(&Message::Announce(flags).encode()),
            Err(WireError::Flags(0x80))
        );
    }
}
