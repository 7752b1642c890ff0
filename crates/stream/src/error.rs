//! The crate's errors: [`IdError`] (a stream id that does not parse),
//! [`WireError`] (an `sl_stream` message that does not decode), [`Hostile`] (why
//! the node dropped a peer), [`StreamError`] (why the driver stopped).

/// A stream id that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not 64 hex digits.
    #[error("a stream id is 64 hex digits (an ed25519 public key), got {0} characters")]
    BadLength(usize),
    /// A character that is not a hex digit.
    #[error("a stream id is hex digits only")]
    BadHex,
    /// 32 bytes that are not an ed25519 public key.
    #[error("not an ed25519 public key")]
    NotAKey,
}

/// An `sl_stream` message that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// No type byte.
    #[error("empty message")]
    Empty,
    /// A type byte we do not know.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// Shorter or longer than its type requires.
    #[error("message type {kind} of {got} bytes (want {want})")]
    Length {
        /// The type byte.
        kind: u8,
        /// Bytes received.
        got: usize,
        /// Bytes its type needs (for a piece: header plus the announced length).
        want: usize,
    },
    /// A piece length over [`crate::MAX_PIECE_SIZE`], or 0 without the last flag.
    #[error("piece length {0} out of range")]
    PieceLength(u32),
    /// Flag bits we do not know.
    #[error("unknown flags {0:#04x}")]
    Flags(u8),
}

/// Why the node dropped a peer: each is counted in
/// [`crate::NodeStats::hostile`] and the driver disconnects (and bans) the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Hostile {
    /// A message that does not decode (including oversized pieces).
    #[error("malformed message: {0}")]
    Malformed(#[from] WireError),
    /// An announcement whose signature is not the source's.
    #[error("forged signature on piece {0}")]
    BadSignature(u64),
    /// Piece data that does not hash to its (signed) announcement.
    #[error("wrong data for piece {0}")]
    WrongData(u64),
    /// A piece number no honest peer can send: over [`crate::node::MAX_NUMBER`], far
    /// beyond the newest piece, or a request for a piece we never announced.
    #[error("absurd piece number {0}")]
    AbsurdNumber(u64),
    /// The same piece requested again and again.
    #[error("piece {0} requested too often")]
    RepeatedRequest(u64),
}

/// Why the driver stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Reading the input or writing the output failed.
    #[error("stream I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A piece size of 0 or over [`crate::MAX_PIECE_SIZE`].
    #[error("piece size {0} out of range (1 to {max})", max = crate::MAX_PIECE_SIZE)]
    PieceSize(usize),
}
