//! The ELEC-H-417 "BitTorrent-like" course protocol, byte for byte.
//!
//! Every message is an 8-byte header (`version u8 | msg_type u8 | reserved u16 |
//! msg_length u32`, msg_length counting 4-byte words, header included) followed by a
//! body padded with zeros to a multiple of 4 bytes. Every integer is big-endian.
//!
//! This crate only encodes and decodes; it owns no socket. Its modules, in the order a
//! reader meets them:
//! - `header`: [`Header`] (parse and validate the first 8 bytes) and [`MsgType`];
//!   [`Header::classify_request`] gives a server the reply to a request from its
//!   header alone.
//! - `error_code`: [`ErrorCode`], the code an ERROR message carries.
//! - `message`: [`Message`] and its bodies ([`TrackerInfo`], [`FileInfo`],
//!   [`ChunkRecord`]); [`Message::encode`], [`chunk_prefix`] and [`error_message`]
//!   for servers that write a reply without building a [`Message`].
//! - `decode`: [`Message::decode`], [`Message::decode_reply_as`] (rule 4.3: a reply
//!   is decoded as what was asked, whatever its type byte) and
//!   [`Message::decode_body`].
//! - `decoder`: [`Decoder`], incremental decoding from a byte stream (messages split
//!   across reads, several messages in one read), never buffering more than one
//!   message and never more than its configured maximum size.
//! - `udp`: the two forms of a UDP message (rule 4.5): [`udp_datagrams`] splits a
//!   reply into the 8-byte header and the body, as deployed trackers send it;
//!   [`UdpAssembler`] takes a reply in either form.
//! - `error`: [`DecodeError`] and [`EncodeError`].
//!
//! The limits: a chunk carries at most [`MAX_CHUNK_LEN`] bytes (64 MiB), and a decoder
//! accepts by default messages of at most [`DEFAULT_MAX_MESSAGE`] bytes, exactly the
//! CHUNK message of the largest chunk.

mod decode;
mod decoder;
mod error;
mod error_code;
mod header;
mod message;
mod udp;

pub use decoder::Decoder;
pub use error::{DecodeError, EncodeError};
pub use error_code::ErrorCode;
pub use header::{Header, MsgType};
pub use message::{chunk_prefix, error_message, ChunkRecord, FileInfo, Message, TrackerInfo};
pub use udp::{udp_datagrams, UdpAssembler};

/// The only protocol version.
pub const VERSION: u8 = 1;
/// Length of the header in bytes.
pub const HEADER_LEN: usize = 8;
/// Length of a SHA-1 chunk hash in bytes.
pub const HASH_LEN: usize = 20;
/// Length of the part of a CHUNK message before its content (header, hash, length).
pub const CHUNK_PREFIX_LEN: usize = HEADER_LEN + HASH_LEN + 4;
/// The most content bytes one chunk may have: 64 MiB. Chunk tools create chunks up to
/// this size, peers serve them, and clients accept them.
pub const MAX_CHUNK_LEN: usize = 64 << 20;
/// Default maximum size of one message a decoder accepts: the CHUNK message of a
/// chunk of [`MAX_CHUNK_LEN`] bytes (64 MiB and 32 bytes; no padding, 64 MiB being a
/// multiple of 4).
pub const DEFAULT_MAX_MESSAGE: usize = CHUNK_PREFIX_LEN + MAX_CHUNK_LEN;

/// A raw 20-byte SHA-1 digest naming a chunk.
pub type ChunkHash = [u8; HASH_LEN];

/// Padding bytes that follow `n` bytes to reach a multiple of 4.
pub fn padding(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// `n` rounded up to a multiple of 4.
pub fn padded(n: usize) -> usize {
    n + padding(n)
}

#[cfg(test)]
mod tests;
