//! Why bytes are not a message, and why a message cannot be encoded.

use crate::{ErrorCode, MsgType};

/// Why bytes are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The version byte is not 1.
    #[error("version {0} (only 1 exists)")]
    Version(u8),
    /// The type byte is outside 0..=6.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// msg_length announces less than the header itself.
    #[error("msg_length {0} words is shorter than the 2-word header")]
    LengthTooSmall(u32),
    /// msg_length announces more than the decoder accepts.
    #[error("message of {len} bytes is larger than the maximum of {max} bytes")]
    TooLarge {
        /// Bytes announced by the header.
        len: u64,
        /// The maximum accepted.
        max: usize,
    },
    /// msg_length disagrees with the fields of the body and their padding.
    #[error("{msg_type:?} with msg_length {words} words (expected {expected})")]
    BadLength {
        /// The type of the message.
        msg_type: MsgType,
        /// msg_length as received.
        words: u32,
        /// msg_length that the fields imply.
        expected: u32,
    },
    /// The bytes end before the named field does.
    #[error("message body ends inside {0}")]
    Truncated(&'static str),
    /// The named text field is not UTF-8.
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
#[non_exhaustive]
pub enum EncodeError {
    /// A name or a count does not fit its 16-bit field.
    #[error("{0} does not fit its 16-bit length field")]
    TooLong(&'static str),
    /// The whole message does not fit the 32-bit msg_length field.
    #[error("message of {0} bytes does not fit the 32-bit msg_length field")]
    MessageTooLarge(u64),
}
