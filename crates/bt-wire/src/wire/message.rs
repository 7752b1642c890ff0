//! Peer-wire messages: what they carry, and their encoding after the length prefix.

use crate::error::WireError;

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

pub(super) fn be32(b: &[u8]) -> u32 {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn all_messages() -> Vec<Message> {
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
}
