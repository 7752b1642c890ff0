//! Live octet streams through a swarm, on the BitTorrent peer wire.
//!
//! A source reads a stream (a pipe from a live encoder, logs), cuts it into pieces
//! numbered 0, 1, 2, … as the bytes arrive, signs each piece's announcement with its
//! ed25519 key and hands it to a few peers; viewers verify every announcement and
//! every piece, whoever sent it, fetch each piece from a peer that has it
//! (preferring other viewers to the source), write the stream out in order and serve
//! what they hold to the others. docs/stream.md has the design and the wire format.
//!
//! | module | holds |
//! |---|---|
//! | [`id`] | [`StreamId`] (the source's public key) and its info-hash |
//! | [`announce`] | [`Announce`]: a piece's number, length, flags, SHA-1 and signature |
//! | [`wire`] | [`Message`]: the `sl_stream` BEP 10 messages, byte by byte |
//! | [`window`] | [`Window`]: the bounded set of recent pieces |
//! | [`node`] | [`Node`]: the sans-IO stream node, as a source or a viewer |
//! | [`driver`] | the tokio driver: listener, connections, PEX, DHT, stdin/stdout |
//! | [`error`] | [`StreamError`], [`Hostile`], [`WireError`], [`IdError`] |
#![forbid(unsafe_code)]

pub mod announce;
pub mod driver;
pub mod error;
pub mod id;
pub mod node;
pub mod window;
pub mod wire;

pub use announce::Announce;
pub use driver::{Bound, DriverConfig, Report};
pub use error::{Hostile, IdError, StreamError, WireError};
pub use id::StreamId;
pub use node::{Node, NodeConfig, NodeEvent, NodeStats, PeerKey};
pub use window::Window;
pub use wire::Message;

/// The BEP 10 extension name the stream's messages travel under.
pub const EXTENSION: &str = "sl_stream";
/// Largest piece a stream may have (and the largest any peer accepts): 1 MiB, so a
/// piece message stays under the session's default message limit.
pub const MAX_PIECE_SIZE: usize = 1 << 20;
