//! Mainline DHT (BEP 5) wire format: ids and KRPC messages. No sockets, no clock.
//!
//! * [`Message::decode`] turns one UDP payload into a typed [`Message`] or a classified
//!   [`DecodeError`] that says how to react (drop, answer 203/204, fail a request).
//! * [`Message::encode`] produces canonical bencode (sorted keys) that libtorrent,
//!   Transmission and the `mainline` crate accept; [`Message::encoded_len`] and
//!   [`Message::fit_values`] keep replies within one datagram ([`SAFE_PAYLOAD`]).
//!
//! Supported: `ping`, `find_node`, `get_peers`, `announce_peer` (BEP 5), `nodes6`/`want`
//! (BEP 32), `ip` (BEP 42), `ro` (BEP 43), `get`/`put` with their items and error codes
//! (BEP 44), `sample_infohashes` (BEP 51), `v`. Decoding goes through serde_bencode (a
//! BEP 44 value `v` is taken as the exact bytes the sender wrote, found by `span`);
//! encoding is a direct canonical-bencode writer, tested against serde_bencode's output.
//!
//! | module | what |
//! |---|---|
//! | `message` (private, re-exported) | the message types |
//! | `decode` (private) | [`Message::decode`], [`MAX_DEPTH`], [`MAX_DECODED_VALUES`] |
//! | `span` (private) | where a value sits in a datagram (BEP 44's `v`, kept byte for byte) |
//! | `encode` (private) | [`Message::encode`], sizes, [`SAFE_PAYLOAD`] |
//! | `error` (private, re-exported) | [`DecodeError`], [`Reason`] |
//! | [`compact`] | `nodes` / `nodes6` entries; the peer forms of `swarmlab_net::compact` |
//! | [`id`] | [`Id`] |
//!
//! ```
//! use swarmlab_krpc::{Body, DecodeError, Id, Message, Method, Response};
//!
//! let me = Id([0x11; 20]);
//! let from: std::net::SocketAddr = "192.0.2.7:6881".parse().unwrap();
//! let datagram = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
//!
//! let reply = match Message::decode(datagram) {
//!     Ok(Message { tid, body: Body::Query(q), .. }) => match q.method {
//!         Method::Ping => Some(Message::response(tid, Response::new(me))),
//!         _ => None, // find_node, get_peers, announce_peer ...
//!     },
//!     Ok(_response_or_error) => None, // match to an outstanding request by `tid`
//!     // 203 / 204 for bad or unknown queries, nothing for anything else.
//!     Err(e) => e.error_reply(),
//! };
//! let wire = reply.unwrap().with_ip(from).encode();
//! assert_eq!(
//!     &wire[..],
//!     &b"d2:ip6:\xc0\x00\x02\x07\x1a\xe11:rd2:id20:\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11e1:t2:aa1:y1:re"[..]
//! );
//!
//! let bad = Message::decode(b"d1:ad2:id3:xyze1:q4:ping1:t2:aa1:y1:qe").unwrap_err();
//! assert!(matches!(bad, DecodeError::InvalidQuery { .. }));
//! assert_eq!(
//!     bad.error_reply().unwrap().encode(),
//!     b"d1:eli203e14:Protocol Errore1:t2:aa1:y1:ee"
//! );
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod compact;
mod decode;
mod encode;
mod error;
pub mod id;
mod message;
mod span;

pub use compact::{Node4, Node6};
pub use decode::{MAX_DECODED_VALUES, MAX_DEPTH};
pub use encode::{
    value_len, GET_PEERS_SAFE_VALUES_V4, GET_PEERS_SAFE_VALUES_V6, MAX_DATAGRAM, SAFE_PAYLOAD,
};
pub use error::{DecodeError, Reason};
pub use id::Id;
pub use message::{
    Body, ErrorCode, KrpcError, Message, Method, PutArgs, Query, Response, TransactionId, Want,
};
pub use span::bencoded_len;
