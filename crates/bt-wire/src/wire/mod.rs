//! The peer-wire protocol: handshake (BEP 3), messages (BEP 3, the BEP 5 `port`
//! message, BEP 6 fast extension, BEP 10 extended) and an incremental decoder.
//!
//! - this file: the constants and the reserved bits (BEP 4);
//! - `handshake.rs`: the 68-byte [`Handshake`];
//! - `message.rs`: [`Message`], its encoding and decoding, [`piece_header`];
//! - `decoder.rs`: [`Decoder`], which reads the 4-byte length prefix first and
//!   refuses any prefix over its cap before buffering the body, so a hostile 4 GiB
//!   prefix is an error and never an allocation;
//! - `bitfield.rs`: [`Bitfield`], a peer's pieces checked against the piece count.

mod bitfield;
mod decoder;
mod handshake;
mod message;

pub use bitfield::Bitfield;
pub use decoder::Decoder;
pub use handshake::Handshake;
pub use message::{piece_header, Message};

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
