//! What a lookup returns: the closest nodes, the peers, the counts and the trace of
//! every request; and how two results of one lookup combine.

use std::net::SocketAddr;

use serde::Serialize;
use swarmlab_krpc::Id;

use super::{LookupId, LookupKind};
use crate::bep44::Item;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sent, not answered yet (only seen in a trace read before the lookup ends).
    Pending,
    /// The node answered.
    Answered,
    /// No answer within the hard timeout.
    TimedOut,
    /// A KRPC error reply (code, message) or an invalid reply.
    Error {
        /// The KRPC error code (201-204, or another); 0 for a reply that did not decode.
        code: i64,
        /// The error's message, or why the reply did not decode.
        message: String,
    },
    /// The lookup ended before the request was answered.
    Abandoned,
}

/// One request of a lookup, for its trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEntry {
    /// 1 for nodes the lookup started from, h+1 for nodes a hop-h node named.
    pub hop: u32,
    /// The node's address.
    pub node: SocketAddr,
    /// The node's id, when known (bootstrap addresses have none until they answer).
    pub id: Option<Id>,
    /// 160 − common prefix length with the target (0: the target itself).
    pub distance_bits: Option<u32>,
    /// The query: `find_node`, `get_peers`, `announce_peer`, `get` or `put`.
    pub method: &'static str,
    /// Milliseconds from the lookup's start.
    pub sent_ms: f64,
    /// Milliseconds from sending to the answer, when it was answered.
    pub rtt_ms: Option<f64>,
    /// What became of the request.
    pub outcome: Outcome,
    /// Nodes the answer named (`nodes` and `nodes6`).
    pub nodes: usize,
    /// Peers the answer gave (`values`).
    pub values: usize,
    /// Whether the answer carried a token.
    pub token: bool,
}

/// The result of a finished lookup.
#[derive(Debug, Clone, Serialize)]
pub struct LookupResult {
    /// The lookup, as [`Node::start_lookup`](crate::Node::start_lookup) numbered it.
    pub id: LookupId,
    /// What it did.
    pub kind: LookupKind,
    /// The node id or info-hash looked up.
    pub target: Id,
    /// The k closest nodes that answered, closest first.
    pub closest: Vec<(Id, SocketAddr)>,
    /// Peers found (get_peers and announce), without duplicates.
    pub peers: Vec<SocketAddr>,
    /// Nodes that acknowledged our announce_peer (or put).
    pub announced: usize,
    /// Highest hop among the k closest.
    pub hops: u32,
    /// Requests sent.
    pub messages: usize,
    /// Requests answered.
    pub responses: usize,
    /// Requests that timed out.
    pub timeouts: usize,
    /// Milliseconds from the start to the end of the lookup, on the node's clock.
    pub elapsed_ms: f64,
    /// Every request, in the order sent.
    pub trace: Vec<TraceEntry>,
    /// BEP 44 get and put: the item found, checked (for a mutable item, the one with
    /// the highest `seq`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

impl LookupResult {
    /// Adds `other`, the result of the same lookup run at the same time on another
    /// address family (the driver runs every lookup on its IPv4 and its IPv6 node):
    /// peers are united (first seen first), the closest nodes of both are sorted by XOR
    /// distance to the target, without repeats, and the `keep` closest kept; counts and
    /// announces add up, hops and elapsed time take the larger, traces follow each other.
    pub fn merge(&mut self, other: LookupResult, keep: usize) {
        for p in other.peers {
            if !self.peers.contains(&p) {
                self.peers.push(p);
            }
        }
        for c in other.closest {
            if !self.closest.contains(&c) {
                self.closest.push(c);
            }
        }
        let target = self.target;
        self.closest.sort_by_key(|(id, _)| id.distance(&target));
        self.closest.truncate(keep);
        self.announced += other.announced;
        self.hops = self.hops.max(other.hops);
        self.messages += other.messages;
        self.responses += other.responses;
        self.timeouts += other.timeouts;
        self.elapsed_ms = self.elapsed_ms.max(other.elapsed_ms);
        self.trace.extend(other.trace);
        if let Some(item) = other.item {
            if self.item.as_ref().is_none_or(|i| item.seq() > i.seq()) {
                self.item = Some(item);
            }
        }
    }
}
