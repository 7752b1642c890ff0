//! The errors of the crate: [`ConnectionError`] (why a connection ended) and
//! [`PieceError`] (why a piece source could not give a block).

use std::time::Duration;

use swarmlab_bt_wire::SessionError;

/// Why a [`crate::Connection`] ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The TCP connect did not finish in time.
    #[error("no answer within {:.1} s", .0.as_secs_f64())]
    ConnectTimeout(Duration),
    /// The TCP connect failed (refused, unreachable, …).
    #[error("{0}")]
    Connect(std::io::Error),
    /// Reading or writing the socket failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The peer closed the connection (end of stream).
    #[error("peer closed the connection")]
    PeerClosed,
    /// The session ended: a protocol error, a timeout, or a close.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Called again after the connection had already ended.
    #[error("the connection has ended")]
    Ended,
}

/// Why a [`crate::server::PieceSource`] could not give a block. The server rejects
/// the request (BEP 6) and counts it; the connection goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PieceError {
    /// The piece is not held (any more).
    #[error("piece {0} is not held")]
    NotHeld(u32),
    /// The piece's data does not hash to its SHA-1: never served.
    #[error("piece {0} fails its SHA-1 check")]
    Corrupt(u32),
    /// The range is outside the piece.
    #[error("piece {index}: {length} bytes at {begin} are outside the piece")]
    OutOfRange {
        /// Piece index.
        index: u32,
        /// Offset asked for.
        begin: u32,
        /// Length asked for.
        length: u32,
    },
    /// Reading the storage failed.
    #[error("reading piece {index}: {source}")]
    Io {
        /// Piece index.
        index: u32,
        /// Why.
        source: std::io::Error,
    },
}
