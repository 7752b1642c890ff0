//! Decode errors, classified by what the receiving node should do.

use std::fmt;

use crate::message::{ErrorCode, Message, TransactionId};

/// Why a datagram could not be decoded into a [`Message`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Not well-formed bencode (bad token, truncated, length past the end).
    NotBencode,
    /// Bencode nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    TooDeep,
    /// Well-formed, but the top-level value is not a dictionary.
    NotADict,
    /// A required key is absent.
    Missing(&'static str),
    /// A key is present with the wrong type, length or range.
    Invalid(&'static str),
    /// Bytes follow the top-level dictionary and the datagram does not end in `e`
    /// (libtorrent drops such datagrams unread; see [`Message::decode`]).
    TrailingBytes,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotBencode => f.write_str("not valid bencode"),
            Reason::TooDeep => f.write_str("bencode nested too deeply"),
            Reason::NotADict => f.write_str("not a bencoded dictionary"),
            Reason::Missing(k) => write!(f, "missing key '{k}'"),
            Reason::Invalid(k) => write!(f, "invalid value for key '{k}'"),
            Reason::TrailingBytes => f.write_str("bytes after the message that do not end in 'e'"),
        }
    }
}

/// Failure of [`Message::decode`], classified by how a node should react.
///
/// | variant           | node's reaction                                              |
/// |-------------------|--------------------------------------------------------------|
/// | `Garbage`         | drop silently                                                |
/// | `UnknownMethod`   | reply error 204 with `tid` ([`DecodeError::error_reply`])      |
/// | `InvalidQuery`    | reply error 203 with `tid` ([`DecodeError::error_reply`])      |
/// | `InvalidResponse` | drop, count it, fail the outstanding request matching `tid`  |
/// | `InvalidError`    | drop, count it, fail the outstanding request matching `tid`  |
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not bencode, not a dictionary, no usable `t` (byte string) or `y` (`q`/`r`/`e`).
    /// `tid` is set if a usable `t` was found (e.g. only `y` was bad).
    #[error("not a KRPC message: {reason}")]
    Garbage {
        /// The transaction id, if one was readable.
        tid: Option<TransactionId>,
        /// What was wrong.
        reason: Reason,
    },
    /// A query (`y = "q"`) whose method `q` is not one we implement.
    #[error("unknown query method {:?}", String::from_utf8_lossy(method))]
    UnknownMethod {
        /// The query's transaction id.
        tid: TransactionId,
        /// The method name as received.
        method: Vec<u8>,
    },
    /// A query with missing or malformed `q`, `a` or arguments.
    #[error("malformed query: {reason}")]
    InvalidQuery {
        /// The query's transaction id.
        tid: TransactionId,
        /// What was wrong.
        reason: Reason,
    },
    /// A response (`y = "r"`) with missing or malformed contents.
    #[error("malformed response: {reason}")]
    InvalidResponse {
        /// The response's transaction id.
        tid: TransactionId,
        /// What was wrong.
        reason: Reason,
    },
    /// An error message (`y = "e"`) without a usable `e: [code, message]`.
    #[error("malformed error message: {reason}")]
    InvalidError {
        /// The message's transaction id.
        tid: TransactionId,
        /// What was wrong.
        reason: Reason,
    },
}

impl DecodeError {
    /// The transaction id, whenever one was readable.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        match self {
            DecodeError::Garbage { tid, .. } => tid.as_ref(),
            DecodeError::UnknownMethod { tid, .. }
            | DecodeError::InvalidQuery { tid, .. }
            | DecodeError::InvalidResponse { tid, .. }
            | DecodeError::InvalidError { tid, .. } => Some(tid),
        }
    }

    /// What was wrong; `None` for [`DecodeError::UnknownMethod`].
    pub fn reason(&self) -> Option<Reason> {
        match self {
            DecodeError::UnknownMethod { .. } => None,
            DecodeError::Garbage { reason, .. }
            | DecodeError::InvalidQuery { reason, .. }
            | DecodeError::InvalidResponse { reason, .. }
            | DecodeError::InvalidError { reason, .. } => Some(*reason),
        }
    }

    /// The error code a node should answer with: 204 for an unknown method, 203 for a
    /// malformed query, `None` (do not answer) otherwise.
    pub fn reply_code(&self) -> Option<ErrorCode> {
        match self {
            DecodeError::UnknownMethod { .. } => Some(ErrorCode::MethodUnknown),
            DecodeError::InvalidQuery { .. } => Some(ErrorCode::Protocol),
            _ => None,
        }
    }

    /// The error message to send back, echoing the transaction id: `[204, "Method Unknown"]`
    /// or `[203, "Protocol Error"]`; `None` when the datagram must not be answered.
    /// Add `ip`/`version` before encoding if wanted.
    pub fn error_reply(&self) -> Option<Message> {
        let code = self.reply_code()?;
        let tid = self.transaction_id()?.clone();
        Some(Message::error(tid, code, code.default_message()))
    }
}
