//! Decoding: a nesting guard, then serde_bencode into lenient hand-written visitors, then
//! classification into [`Message`] or [`DecodeError`].
//!
//! Why hand-written visitors rather than `#[derive(Deserialize)]`: serde_bencode 0.2 reads
//! struct keys as UTF-8 (a non-UTF-8 unknown key would fail the whole message), and a
//! derived struct fails as a whole on the first field of the wrong type, which would lose
//! the transaction id needed to answer 203/204. Here every field is read as
//! "absent / present but malformed / ok", and only bencode syntax errors abort.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`Message::decode`], the bounds [`MAX_DEPTH`] and [`MAX_DECODED_VALUES`] |
//! | `nesting.rs` | the nesting guard run before serde_bencode |
//! | `lenient.rs` | lenient field reading and the value shapes of KRPC |
//! | `raw.rs` | the raw message, arguments, response and error as read |
//! | `classify.rs` | a raw query or response classified into [`Query`] or [`Response`] |

use crate::error::{DecodeError, Reason};
use crate::message::Message;

mod classify;
mod lenient;
mod nesting;
mod raw;
#[cfg(test)]
mod tests;

use lenient::*;
use nesting::*;
use raw::*;

/// Maximum bencode nesting depth accepted by [`Message::decode`]. KRPC needs 3 (message →
/// `r` → `values`); unknown keys may nest deeper, up to this limit. It bounds the
/// recursion of serde_bencode's recursive-descent parser (a 64 KiB datagram of `l`s
/// would otherwise overflow the stack).
pub const MAX_DEPTH: usize = 32;

/// At most this many `values` entries are decoded from one response; the rest of the list
/// is skipped (the response is still accepted). A 1,500-byte datagram carries at most
/// ~180 IPv4 values; libtorrent sends at most 100.
pub const MAX_DECODED_VALUES: usize = 512;

impl Message {
    /// Decodes one datagram. Never panics; allocations are bounded by `buf.len()`
    /// (plus at most [`MAX_DECODED_VALUES`] peers). Unknown keys are ignored everywhere.
    ///
    /// Bytes after the top-level dictionary are treated as libtorrent treats them: its
    /// `bdecode` stops at the end of the first value, and its `incoming_packet` drops
    /// every datagram whose last byte is not `e` before decoding. So trailing bytes are
    /// ignored when the datagram ends in `e`, and otherwise the datagram is
    /// [`Reason::TrailingBytes`] garbage (dropped without a reply).
    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        let garbage = |reason| DecodeError::Garbage { tid: None, reason };
        let end = check_nesting(buf).map_err(garbage)?;
        if end < buf.len() && buf.last() != Some(&b'e') {
            return Err(garbage(Reason::TrailingBytes));
        }
        let buf = &buf[..end];
        let raw = match serde_bencode::from_bytes::<F<RawMessage>>(buf) {
            Ok(F::Ok(raw)) => raw,
            Ok(_) => return Err(garbage(Reason::NotADict)),
            Err(_) => return Err(garbage(Reason::NotBencode)),
        };
        raw.classify(buf)
    }
}
