//! Encoding: a direct writer of canonical bencode, the `Serialize` wrappers fed to
//! serde_bencode that it must agree with byte for byte, and exact size arithmetic.
//!
//! A node encodes one message per datagram it sends, so encoding is on the hot path.
//! serde_bencode buffers every dictionary entry in a `Vec` of its own and sorts the
//! entries when the map closes; that was about a seventh of a loaded node's time. The
//! messages here have a fixed set of keys, so [`Message::encode`] writes them straight
//! into one buffer sized by [`Message::encoded_len`], in sorted order.
//! [`Message::encode_serde`] is the same message through serde_bencode; the tests check
//! that both give the same bytes for every kind of message (decoding always goes
//! through serde_bencode).
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`Message::encode`], [`Message::encoded_len`], [`Message::fit_values`], the size constants |
//! | `len.rs` | exact size arithmetic |
//! | `write.rs` | the direct writer |
//! | `reference.rs` | the `Serialize` wrappers (the reference encoding through serde_bencode) |

mod len;
mod reference;
#[cfg(test)]
mod tests;
mod write;

use crate::compact;
use crate::message::{Body, Message, Response};

pub use len::value_len;
use len::*;
use reference::*;
use write::*;

/// UDP payload size that avoids IP fragmentation on practically every path (1,500-byte
/// Ethernet MTU minus IPv6/UDP headers and tunnel overhead). Replies should stay at or below
/// it; see [`Message::fit_values`].
pub const SAFE_PAYLOAD: usize = 1400;

/// Largest UDP payload; no datagram can be longer.
pub const MAX_DATAGRAM: usize = 65_535;

/// IPv4 `values` that fit in a `get_peers` reply of at most [`SAFE_PAYLOAD`] bytes that
/// also carries 8 `nodes`, a 20-byte token, an 8-byte `t`, a 4-byte `v` and an IPv6 `ip`
/// (smaller fields leave more room; [`Message::fit_values`] computes the exact cut).
pub const GET_PEERS_SAFE_VALUES_V4: usize = 131;

/// IPv6 `values` that fit in a `get_peers` reply of at most [`SAFE_PAYLOAD`] bytes that
/// also carries 8 `nodes6` and the same fields as for [`GET_PEERS_SAFE_VALUES_V4`].
pub const GET_PEERS_SAFE_VALUES_V6: usize = 45;

impl Message {
    /// Encodes to canonical bencode (keys sorted), in one allocation of the exact size.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoding to `out` (call `out.clear()` first to reuse a send buffer).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        write_message(self, out);
    }

    /// The same encoding through serde_bencode: the reference [`Message::encode`] is
    /// tested against. A BEP 44 `v` goes through serde_bencode's own value type, so the
    /// two agree when `v` is canonical bencode (as every value swarmlab writes is).
    pub fn encode_serde(&self) -> Vec<u8> {
        // Infallible: every value we emit is an integer, byte string, list or map with
        // string keys, which serde_bencode always accepts.
        serde_bencode::to_bytes(&Wire(self)).expect("KRPC messages always serialize")
    }

    /// Exact length of [`Message::encode`]'s output, computed without encoding.
    pub fn encoded_len(&self) -> usize {
        let mut n = 2 + key_len("t") + bytes_len(self.tid.len());
        if let Some(v) = &self.version {
            n += key_len("v") + bytes_len(v.len());
        }
        if let Some(ip) = &self.ip {
            n += key_len("ip") + bytes_len(compact::peer_len(ip));
        }
        n += key_len("y") + bytes_len(1);
        n += match &self.body {
            Body::Query(q) => {
                key_len("q")
                    + bytes_len(q.method.name().len())
                    + key_len("a")
                    + args_len(q)
                    + if q.read_only { key_len("ro") + 3 } else { 0 }
            }
            Body::Response(r) => key_len("r") + response_len(r),
            Body::Error(e) => {
                key_len("e") + 2 + int_len(e.code.code()) + bytes_len(e.message.len())
            }
        };
        n
    }

    /// If this is a response carrying `values`, drops values from the end until the
    /// encoding is at most `max_len` bytes (or no values are left, in which case `values`
    /// becomes `None`). Returns how many values were dropped. Use with [`SAFE_PAYLOAD`].
    pub fn fit_values(&mut self, max_len: usize) -> usize {
        let mut len = self.encoded_len();
        let Body::Response(Response {
            values: Some(values),
            ..
        }) = &mut self.body
        else {
            return 0;
        };
        let before = values.len();
        while len > max_len {
            let Some(v) = values.pop() else { break };
            len -= value_len(&v);
        }
        let dropped = before - values.len();
        if dropped > 0 && values.is_empty() {
            if let Body::Response(r) = &mut self.body {
                r.values = None;
            }
        }
        dropped
    }
}
