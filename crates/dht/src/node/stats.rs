//! What the node counts: datagrams, queries per method, replies, errors, timeouts and
//! everything it refused.

use serde::Serialize;
use swarmlab_krpc::Method;

/// Counters per query method: ping, find_node, get_peers, announce_peer.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PerMethod {
    /// `ping` queries.
    pub ping: u64,
    /// `find_node` queries.
    pub find_node: u64,
    /// `get_peers` queries.
    pub get_peers: u64,
    /// `announce_peer` queries.
    pub announce_peer: u64,
}

impl PerMethod {
    pub(super) fn bump(&mut self, m: &Method) {
        match m {
            Method::Ping => self.ping += 1,
            Method::FindNode { .. } => self.find_node += 1,
            Method::GetPeers { .. } => self.get_peers += 1,
            Method::AnnouncePeer { .. } => self.announce_peer += 1,
        }
    }
    /// All four methods together.
    pub fn total(&self) -> u64 {
        self.ping + self.find_node + self.get_peers + self.announce_peer
    }
}

/// What the node has done, for `swarmlab node`'s periodic stats.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Stats {
    /// Datagrams handed to [`Node::handle`](super::Node::handle), oversized ones included.
    pub datagrams_in: u64,
    /// Datagrams queued for sending (queries, replies and error replies).
    pub datagrams_out: u64,
    /// Queries received, per method (counted before the rate limits).
    pub queries_in: PerMethod,
    /// Queries sent, per method.
    pub queries_out: PerMethod,
    /// Replies sent to queries.
    pub replies_sent: u64,
    /// Error replies sent (201-204).
    pub errors_sent: u64,
    /// Responses to our queries, accepted.
    pub responses_in: u64,
    /// Error replies to our queries received.
    pub errors_in: u64,
    /// Queries of ours that got no answer within the request timeout.
    pub timeouts: u64,
    /// Datagrams longer than [`MAX_DATAGRAM_IN`](super::MAX_DATAGRAM_IN), dropped unread.
    pub oversized: u64,
    /// Datagrams that were not KRPC at all (dropped silently).
    pub garbage: u64,
    /// Queries answered 203 (malformed) or 204 (unknown method).
    pub bad_queries: u64,
    /// Responses or errors that were malformed, unexpected, or from the wrong address.
    pub bad_responses: u64,
    /// Queries dropped by the per-IP rate limit.
    pub rate_limited: u64,
    /// Queries dropped because their IP is blocked (it went over the limit).
    pub blocked: u64,
    /// Queries dropped by the global reply cap.
    pub replies_capped: u64,
    /// Queries of ours delayed by the outgoing-query cap.
    pub outgoing_capped: u64,
    /// `announce_peer` queries stored.
    pub announces_stored: u64,
    /// `announce_peer` queries refused for a bad token.
    pub announces_bad_token: u64,
    /// Lookups started with [`Node::start_lookup`](super::Node::start_lookup).
    pub lookups_started: u64,
    /// Lookups reported as [`Event::LookupDone`](super::Event::LookupDone).
    pub lookups_done: u64,
}
