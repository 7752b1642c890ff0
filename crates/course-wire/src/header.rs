//! The 8-byte header every message starts with, and the seven message types.

use crate::{DecodeError, EncodeError, ErrorCode, HASH_LEN, HEADER_LEN, VERSION};

/// The seven message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MsgType {
    /// 0: Charlie → tracker over UDP, "who is a tracker?" (empty body).
    DiscoverTracker = 0,
    /// 1: tracker → Charlie over UDP, the tracker's TCP address and name.
    TrackerInfo = 1,
    /// 2: Charlie → tracker over TCP, "describe the file" (empty body).
    GetFileInfo = 2,
    /// 3: tracker → Charlie over TCP, the file name and the peers of every chunk.
    FileInfo = 3,
    /// 4: Charlie → peer over TCP, a chunk by its SHA-1.
    GetChunk = 4,
    /// 5: peer → Charlie over TCP, a chunk's content.
    Chunk = 5,
    /// 6: any server → its client, an [`ErrorCode`].
    Error = 6,
}

impl MsgType {
    /// The type for a type byte, `None` outside 0..=6.
    pub fn from_u8(b: u8) -> Option<MsgType> {
        Some(match b {
            0 => MsgType::DiscoverTracker,
            1 => MsgType::TrackerInfo,
            2 => MsgType::GetFileInfo,
            3 => MsgType::FileInfo,
            4 => MsgType::GetChunk,
            5 => MsgType::Chunk,
            6 => MsgType::Error,
            _ => return None,
        })
    }

    /// The total length in bytes of every message of this type, for fixed-size types.
    pub fn fixed_len(self) -> Option<usize> {
        match self {
            MsgType::DiscoverTracker | MsgType::GetFileInfo => Some(HEADER_LEN),
            MsgType::GetChunk => Some(HEADER_LEN + HASH_LEN),
            MsgType::Error => Some(HEADER_LEN + 4),
            MsgType::TrackerInfo | MsgType::FileInfo | MsgType::Chunk => None,
        }
    }
}

/// A message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The protocol version; only 1 is valid.
    pub version: u8,
    /// The raw type byte (may be outside 0..=6 on input).
    pub msg_type: u8,
    /// Two reserved bytes: sent as 0, ignored on receive.
    pub reserved: u16,
    /// Total length of the message in 4-byte words, header included.
    pub words: u32,
}

impl Header {
    /// A version-1 header for a message of `total_len` bytes (a multiple of 4).
    pub fn new(msg_type: MsgType, total_len: usize) -> Result<Header, EncodeError> {
        debug_assert_eq!(total_len % 4, 0);
        let words = u32::try_from(total_len / 4)
            .map_err(|_| EncodeError::MessageTooLarge(total_len as u64))?;
        Ok(Header {
            version: VERSION,
            msg_type: msg_type as u8,
            reserved: 0,
            words,
        })
    }

    /// Reads the 8 header bytes; never fails (validation is [`Header::validate`]).
    pub fn parse(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            version: b[0],
            msg_type: b[1],
            reserved: u16::from_be_bytes([b[2], b[3]]),
            words: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The 8 bytes of this header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let r = self.reserved.to_be_bytes();
        let w = self.words.to_be_bytes();
        [
            self.version,
            self.msg_type,
            r[0],
            r[1],
            w[0],
            w[1],
            w[2],
            w[3],
        ]
    }

    /// Total message length in bytes announced by the header.
    pub fn total_len(&self) -> u64 {
        u64::from(self.words) * 4
    }

    /// Body length in bytes (0 when the header announces less than itself).
    pub fn body_len(&self) -> u64 {
        self.total_len().saturating_sub(HEADER_LEN as u64)
    }

    /// Checks version, type and length (per-type fixed lengths, and `max` bytes in all).
    /// Reserved bytes are ignored. The checks run in the order of the course's rule 4.9.
    pub fn validate(&self, max: usize) -> Result<MsgType, DecodeError> {
        if self.version != VERSION {
            return Err(DecodeError::Version(self.version));
        }
        let t = MsgType::from_u8(self.msg_type).ok_or(DecodeError::UnknownType(self.msg_type))?;
        self.validate_length(t, max)?;
        Ok(t)
    }

    /// Checks the length alone, for a message of type `t`.
    pub(crate) fn validate_length(&self, t: MsgType, max: usize) -> Result<(), DecodeError> {
        if self.words < 2 {
            return Err(DecodeError::LengthTooSmall(self.words));
        }
        if self.total_len() > max as u64 {
            return Err(DecodeError::TooLarge {
                len: self.total_len(),
                max,
            });
        }
        if let Some(fixed) = t.fixed_len() {
            let expected = (fixed / 4) as u32;
            if self.words != expected {
                return Err(DecodeError::BadLength {
                    msg_type: t,
                    words: self.words,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// What a server that serves only `served` answers to a request with this header:
    /// `Ok(())` for a valid request, else the ERROR code to send. The header alone
    /// decides: every request type has a fixed length, so no body is ever parsed.
    /// Order (rule 4.9): version ≠ 1 → INVALID_MESSAGE_FORMAT; type outside 0..6 →
    /// INVALID_MESSAGE_FORMAT; a type this server does not serve → INVALID_REQUEST;
    /// a length inconsistent with the type → INVALID_MESSAGE_FORMAT.
    pub fn classify_request(&self, served: MsgType) -> Result<(), ErrorCode> {
        if self.version != VERSION {
            return Err(ErrorCode::InvalidMessageFormat);
        }
        let Some(t) = MsgType::from_u8(self.msg_type) else {
            return Err(ErrorCode::InvalidMessageFormat);
        };
        if t != served {
            return Err(ErrorCode::InvalidRequest);
        }
        self.validate_length(t, usize::MAX)
            .map_err(|_| ErrorCode::InvalidMessageFormat)
    }
}
