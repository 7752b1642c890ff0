//! The ELEC-H-417 "BitTorrent-like" course protocol, byte for byte.
//!
//! Every message is an 8-byte header (`version u8 | msg_type u8 | reserved u16 |
//! msg_length u32`, msg_length counting 4-byte words, header included) followed by a
//! body padded with zeros to a multiple of 4 bytes. Every integer is big-endian.
//!
//! This crate only encodes and decodes; it owns no socket. Three layers:
//! - [`Header`]: parse and validate the first 8 bytes; [`Header::classify_request`]
//!   gives a server the reply to a request from its header alone.
//! - [`Message`]: whole messages, [`Message::encode`] and [`Message::decode`].
//! - [`Decoder`]: incremental decoding from a byte stream (messages split across reads,
//!   several messages in one read), never buffering more than one message and never
//!   more than its configured maximum size.
#![allow(missing_docs)] // issue 7: documented by the structure work, then removed

use std::net::{Ipv4Addr, SocketAddrV4};

mod decoder;
pub use decoder::Decoder;

/// The only protocol version.
pub const VERSION: u8 = 1;
/// Length of the header in bytes.
pub const HEADER_LEN: usize = 8;
/// Length of a SHA-1 chunk hash in bytes.
pub const HASH_LEN: usize = 20;
/// Length of the part of a CHUNK message before its content (header, hash, length).
pub const CHUNK_PREFIX_LEN: usize = HEADER_LEN + HASH_LEN + 4;
/// Default maximum size of one message a decoder accepts: 64 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 20;

/// A raw 20-byte SHA-1 digest naming a chunk.
pub type ChunkHash = [u8; HASH_LEN];

/// The seven message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MsgType {
    DiscoverTracker = 0,
    TrackerInfo = 1,
    GetFileInfo = 2,
    FileInfo = 3,
    GetChunk = 4,
    Chunk = 5,
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

/// The error codes of an ERROR message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: the request was malformed.
    InvalidMessageFormat,
    /// 1: a well-formed request of a type this server does not serve.
    InvalidRequest,
    /// 2: the peer does not have the chunk in its directory.
    ChunkNotFound,
    /// Any other code a foreign implementation might send.
    Other(u16),
}

impl ErrorCode {
    pub fn from_u16(c: u16) -> ErrorCode {
        match c {
            0 => ErrorCode::InvalidMessageFormat,
            1 => ErrorCode::InvalidRequest,
            2 => ErrorCode::ChunkNotFound,
            c => ErrorCode::Other(c),
        }
    }

    pub fn to_u16(self) -> u16 {
        match self {
            ErrorCode::InvalidMessageFormat => 0,
            ErrorCode::InvalidRequest => 1,
            ErrorCode::ChunkNotFound => 2,
            ErrorCode::Other(c) => c,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::InvalidMessageFormat => f.write_str("INVALID_MESSAGE_FORMAT"),
            ErrorCode::InvalidRequest => f.write_str("INVALID_REQUEST"),
            ErrorCode::ChunkNotFound => f.write_str("CHUNK_NOT_FOUND"),
            ErrorCode::Other(c) => write!(f, "error code {c}"),
        }
    }
}

/// Why bytes are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("version {0} (only 1 exists)")]
    Version(u8),
    #[error("unknown message type {0}")]
    UnknownType(u8),
    #[error("msg_length {0} words is shorter than the 2-word header")]
    LengthTooSmall(u32),
    #[error("message of {len} bytes is larger than the maximum of {max} bytes")]
    TooLarge { len: u64, max: usize },
    #[error("{msg_type:?} with msg_length {words} words (expected {expected})")]
    BadLength {
        msg_type: MsgType,
        words: u32,
        expected: u32,
    },
    #[error("message body ends inside {0}")]
    Truncated(&'static str),
    #[error("{0} is not valid UTF-8")]
    Utf8(&'static str),
}

impl DecodeError {
    /// The ERROR code a server answers this with (always INVALID_MESSAGE_FORMAT).
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidMessageFormat
    }

    /// True when a byte stream cannot be resynchronised after this error (the header
    /// announces more than the maximum, so its end cannot be found without reading it).
    pub fn is_fatal(&self) -> bool {
        matches!(self, DecodeError::TooLarge { .. })
    }
}

/// Why a message cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{0} does not fit its 16-bit length field")]
    TooLong(&'static str),
    #[error("message of {0} bytes does not fit the 32-bit msg_length field")]
    MessageTooLarge(u64),
}

/// Padding bytes that follow `n` bytes to reach a multiple of 4.
pub fn padding(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// `n` rounded up to a multiple of 4.
pub fn padded(n: usize) -> usize {
    n + padding(n)
}

/// A message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    /// The raw type byte (may be outside 0..=6 on input).
    pub msg_type: u8,
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

    fn validate_length(&self, t: MsgType, max: usize) -> Result<(), DecodeError> {
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

/// TRACKER_INFO: the tracker's TCP address and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerInfo {
    pub addr: SocketAddrV4,
    pub name: String,
}

/// One chunk of a FILE_INFO: its hash and the peers that hold it, in file.ini order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    pub hash: ChunkHash,
    pub peers: Vec<SocketAddrV4>,
}

/// FILE_INFO: the file name and its chunks in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub filename: String,
    pub chunks: Vec<ChunkRecord>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    DiscoverTracker,
    TrackerInfo(TrackerInfo),
    GetFileInfo,
    FileInfo(FileInfo),
    GetChunk(ChunkHash),
    Chunk { hash: ChunkHash, content: Vec<u8> },
    Error(ErrorCode),
}

fn put_addr(out: &mut Vec<u8>, a: &SocketAddrV4) {
    out.extend_from_slice(&a.ip().octets());
    out.extend_from_slice(&a.port().to_be_bytes());
}

fn len16(n: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(n).map_err(|_| EncodeError::TooLong(what))
}

/// The first 32 bytes of a CHUNK message carrying `content_len` bytes: header, hash
/// and length. A server writes this, the content, then [`padding`]`(content_len)`
/// zeros, so a chunk is never copied into a message buffer twice.
pub fn chunk_prefix(hash: &ChunkHash, content_len: u32) -> [u8; CHUNK_PREFIX_LEN] {
    let total =
        CHUNK_PREFIX_LEN as u64 + u64::from(content_len) + padding(content_len as usize) as u64;
    let header = Header {
        version: VERSION,
        msg_type: MsgType::Chunk as u8,
        reserved: 0,
        words: (total / 4) as u32,
    };
    let mut out = [0u8; CHUNK_PREFIX_LEN];
    out[..HEADER_LEN].copy_from_slice(&header.encode());
    out[HEADER_LEN..HEADER_LEN + HASH_LEN].copy_from_slice(hash);
    out[HEADER_LEN + HASH_LEN..].copy_from_slice(&content_len.to_be_bytes());
    out
}

/// Encodes an ERROR message (12 bytes).
pub fn error_message(code: ErrorCode) -> [u8; 12] {
    let c = code.to_u16().to_be_bytes();
    [1, MsgType::Error as u8, 0, 0, 0, 0, 0, 3, c[0], c[1], 0, 0]
}

impl Message {
    /// The message's type.
    pub fn msg_type(&self) -> MsgType {
        match self {
            Message::DiscoverTracker => MsgType::DiscoverTracker,
            Message::TrackerInfo(_) => MsgType::TrackerInfo,
            Message::GetFileInfo => MsgType::GetFileInfo,
            Message::FileInfo(_) => MsgType::FileInfo,
            Message::GetChunk(_) => MsgType::GetChunk,
            Message::Chunk { .. } => MsgType::Chunk,
            Message::Error(_) => MsgType::Error,
        }
    }

    /// The encoded length in bytes (a multiple of 4).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Message::DiscoverTracker | Message::GetFileInfo => 0,
                Message::TrackerInfo(t) => 8 + padded(t.name.len()),
                Message::FileInfo(f) => {
                    4 + padded(f.filename.len())
                        + f.chunks
                            .iter()
                            .map(|c| 24 + 8 * c.peers.len())
                            .sum::<usize>()
                }
                Message::GetChunk(_) => HASH_LEN,
                Message::Chunk { content, .. } => HASH_LEN + 4 + padded(content.len()),
                Message::Error(_) => 4,
            }
    }

    /// Encodes the message.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Appends the encoded message to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let total = self.encoded_len();
        let start = out.len();
        if let Message::Chunk { hash, content } = self {
            let n = u32::try_from(content.len())
                .map_err(|_| EncodeError::MessageTooLarge(total as u64))?;
            if total / 4 > u32::MAX as usize {
                return Err(EncodeError::MessageTooLarge(total as u64));
            }
            out.extend_from_slice(&chunk_prefix(hash, n));
            out.extend_from_slice(content);
            out.resize(start + total, 0);
            return Ok(());
        }
        out.extend_from_slice(&Header::new(self.msg_type(), total)?.encode());
        match self {
            Message::DiscoverTracker | Message::GetFileInfo | Message::Chunk { .. } => {}
            Message::TrackerInfo(t) => {
                put_addr(out, &t.addr);
                out.extend_from_slice(&len16(t.name.len(), "tracker_name")?.to_be_bytes());
                out.extend_from_slice(t.name.as_bytes());
            }
            Message::FileInfo(f) => {
                out.extend_from_slice(&len16(f.chunks.len(), "chunks_count")?.to_be_bytes());
                out.extend_from_slice(&len16(f.filename.len(), "filename")?.to_be_bytes());
                out.extend_from_slice(f.filename.as_bytes());
                out.resize(out.len() + padding(f.filename.len()), 0);
                for c in &f.chunks {
                    out.extend_from_slice(&c.hash);
                    out.extend_from_slice(&len16(c.peers.len(), "peers_count")?.to_be_bytes());
                    out.extend_from_slice(&[0, 0]);
                    for p in &c.peers {
                        put_addr(out, p);
                        out.extend_from_slice(&[0, 0]);
                    }
                }
            }
            Message::GetChunk(h) => out.extend_from_slice(h),
            Message::Error(code) => {
                out.extend_from_slice(&code.to_u16().to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
        }
        out.resize(start + total, 0);
        Ok(())
    }

    /// Decodes exactly one whole message (header and body, `bytes.len()` equal to the
    /// header's msg_length), accepting messages up to [`DEFAULT_MAX_MESSAGE`].
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        Self::decode_with_max(bytes, DEFAULT_MAX_MESSAGE)
    }

    /// [`Message::decode`] with another maximum size.
    pub fn decode_with_max(bytes: &[u8], max: usize) -> Result<Message, DecodeError> {
        let head: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DecodeError::Truncated("header"))?;
        let header = Header::parse(head);
        let t = header.validate(max)?;
        if (bytes.len() as u64) < header.total_len() {
            return Err(DecodeError::Truncated("message"));
        }
        Self::decode_body(t, &header, &bytes[HEADER_LEN..header.total_len() as usize])
    }

    /// Decodes a reply to a request that expects `expected`, whatever the reply's type
    /// byte says (course rule 4.3: a deployed tracker answers GET_FILE_INFO with a
    /// FILE_INFO whose type byte is 5). An ERROR is decoded as an ERROR.
    pub fn decode_reply_as(
        expected: MsgType,
        bytes: &[u8],
        max: usize,
    ) -> Result<Message, DecodeError> {
        let head: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DecodeError::Truncated("header"))?;
        let header = Header::parse(head);
        if header.msg_type == MsgType::Error as u8 {
            return Self::decode_with_max(bytes, max);
        }
        let as_expected = Header {
            msg_type: expected as u8,
            ..header
        };
        as_expected.validate(max)?;
        if (bytes.len() as u64) < header.total_len() {
            return Err(DecodeError::Truncated("message"));
        }
        Self::decode_body(
            expected,
            &header,
            &bytes[HEADER_LEN..header.total_len() as usize],
        )
    }

    /// Decodes a body of `body.len() == header.body_len()` bytes for a validated header.
    pub fn decode_body(t: MsgType, header: &Header, body: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader { b: body };
        let msg = match t {
            MsgType::DiscoverTracker => Message::DiscoverTracker,
            MsgType::GetFileInfo => Message::GetFileInfo,
            MsgType::GetChunk => Message::GetChunk(r.hash("chunk_hash")?),
            MsgType::Error => Message::Error(ErrorCode::from_u16(r.u16("error_code")?)),
            MsgType::TrackerInfo => {
                let addr = r.addr("tracker address")?;
                let n = r.u16("tracker_name_length")? as usize;
                let name = r.text(n, "tracker_name")?;
                Message::TrackerInfo(TrackerInfo { addr, name })
            }
            MsgType::FileInfo => Message::FileInfo(decode_file_info(&mut r)?),
            MsgType::Chunk => {
                let hash = r.hash("chunk_hash")?;
                let n = r.u32("chunk_content_length")? as usize;
                let content = r.take(n, "chunk_content")?.to_vec();
                r.take(padding(n), "padding")?;
                Message::Chunk { hash, content }
            }
        };
        // What is left must be the padding of the last field, nothing more.
        let expected = HEADER_LEN + body.len() - r.b.len();
        let expected = padded(expected);
        if expected as u64 != header.total_len() {
            return Err(DecodeError::BadLength {
                msg_type: t,
                words: header.words,
                expected: (expected / 4) as u32,
            });
        }
        Ok(msg)
    }
}

fn decode_file_info(r: &mut Reader<'_>) -> Result<FileInfo, DecodeError> {
    let count = r.u16("chunks_count")? as usize;
    let n = r.u16("filename_length")? as usize;
    let filename = r.text(n, "filename")?;
    // Every chunk record takes at least 24 bytes: bound the allocation by the body.
    let mut chunks = Vec::with_capacity(count.min(r.b.len() / 24));
    for _ in 0..count {
        let hash = r.hash("chunk_hash")?;
        let peers_count = r.u16("peers_count")? as usize;
        r.take(2, "padding")?;
        let mut peers = Vec::with_capacity(peers_count.min(r.b.len() / 8));
        for _ in 0..peers_count {
            peers.push(r.addr("peer address")?);
            r.take(2, "padding")?;
        }
        chunks.push(ChunkRecord { hash, peers });
    }
    Ok(FileInfo { filename, chunks })
}

/// A cursor over a body that never reads past its end.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.b.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn hash(&mut self, what: &'static str) -> Result<ChunkHash, DecodeError> {
        let mut h = [0u8; HASH_LEN];
        h.copy_from_slice(self.take(HASH_LEN, what)?);
        Ok(h)
    }
    fn addr(&mut self, what: &'static str) -> Result<SocketAddrV4, DecodeError> {
        let b = self.take(6, what)?;
        Ok(SocketAddrV4::new(
            Ipv4Addr::new(b[0], b[1], b[2], b[3]),
            u16::from_be_bytes([b[4], b[5]]),
        ))
    }
    /// A UTF-8 text of `n` bytes followed by its padding.
    fn text(&mut self, n: usize, what: &'static str) -> Result<String, DecodeError> {
        let b = self.take(n, what)?;
        let s = std::str::from_utf8(b).map_err(|_| DecodeError::Utf8(what))?;
        self.take(padding(n), "padding")?;
        Ok(s.to_owned())
    }
}

#[cfg(test)]
mod tests;
