//! What the node hands its driver: datagrams to send and events to report.

use std::net::SocketAddr;

use swarmlab_krpc::Id;

use crate::lookup::LookupResult;

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
pub enum Event {
    /// A lookup started with [`Node::start_lookup`](super::Node::start_lookup) ended.
    LookupDone(Box<LookupResult>),
    /// Enough nodes agree on our external address (BEP 42 `ip`).
    ExternalAddress(SocketAddr),
    /// Our id changed (BEP 42 secure id adopted).
    IdChanged(Id),
}
