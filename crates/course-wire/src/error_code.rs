//! The code an ERROR message carries.

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
    /// The code for a 16-bit value of the wire.
    pub fn from_u16(c: u16) -> ErrorCode {
        match c {
            0 => ErrorCode::InvalidMessageFormat,
            1 => ErrorCode::InvalidRequest,
            2 => ErrorCode::ChunkNotFound,
            c => ErrorCode::Other(c),
        }
    }

    /// The 16-bit value sent on the wire.
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
