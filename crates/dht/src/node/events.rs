//! What the node hands its driver: datagrams to send and events to report.

use std::net::SocketAddr;

use swarmlab_krpc::{Id, Response};

use crate::lookup::{LookupResult, Outcome};

use super::QueryId;

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub to: SocketAddr,
    /// The encoded KRPC message.
    pub payload: Vec<u8>,
}

/// Something the node reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A lookup started with [`Node::start_lookup`](super::Node::start_lookup) (or
    /// `start_get`, `start_put`) ended.
    LookupDone(Box<LookupResult>),
    /// Enough nodes agree on our external address (BEP 42 `ip`).
    ExternalAddress(SocketAddr),
    /// Our id changed (BEP 42 secure id adopted, or given with `set_id`).
    IdChanged(Id),
    /// The answer to a query sent with [`Node::query`](super::Node::query).
    QueryReply {
        /// The query, as `query` numbered it.
        id: QueryId,
        /// Where it was sent.
        to: SocketAddr,
        /// The response, or what became of the query (timed out, error reply, a reply
        /// that did not decode).
        reply: Result<Box<Response>, Outcome>,
    },
}
