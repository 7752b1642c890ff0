//! Iterative lookups (find_node, get_peers, announce, BEP 44 get and put), as pure
//! bookkeeping.
//!
//! A [`Lookup`] keeps the candidates it has heard of, sorted by XOR distance to the
//! target, and decides which to query next; the node sends the queries and feeds the
//! answers back. The search is done when the `k` closest candidates that have not
//! failed have all answered. At most `alpha` requests hold a slot at once; a request
//! older than the soft timeout stops holding its slot (it may still answer until the
//! hard timeout). An announce (or put) lookup then sends `announce_peer` (or `put`) to
//! the `k` closest nodes that gave a token and waits for their answers. Every request
//! is traced.
//!
//! # Method families, in the order the node calls them
//! 1. [`Lookup::new`], then [`Lookup::add_candidate`] for each seed (closest nodes of the
//!    table, or bootstrap addresses).
//! 2. [`Lookup::plan`]: the requests to send now; [`Lookup::sent`] for each one that
//!    went out (with its transaction id).
//! 3. As answers come: [`Lookup::on_response`], [`Lookup::on_failure`] (timeout, error,
//!    bad reply), [`Lookup::on_slow`] (soft timeout); then [`Lookup::plan`] again.
//! 4. Once [`Lookup::is_finished`]: [`Lookup::pending_tids`] (to cancel) and
//!    [`Lookup::result`], a [`LookupResult`] with the trace. Results of the same lookup
//!    run on two address families combine with [`LookupResult::merge`].
//!
//! Files: `search.rs` (the candidates and the state machine), `result.rs` (the result,
//! its trace and `merge`), `tests.rs`.

mod result;
mod search;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use result::{LookupResult, Outcome, TraceEntry};
pub use search::{Lookup, Planned, MAX_CANDIDATES, MAX_PEERS, MAX_TRIES};

/// Identifies a lookup of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LookupId(pub u64);

/// What a lookup does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LookupKind {
    /// Finds the nodes closest to the target.
    FindNode,
    /// Finds peers of an info-hash (and the closest nodes).
    GetPeers,
    /// get_peers, then announce_peer to the closest nodes that gave a token.
    /// `port: None` announces with `implied_port` (the UDP source port).
    Announce {
        /// The TCP port to announce; `None` for `implied_port`.
        port: Option<u16>,
    },
    /// BEP 44 get: the item stored under the target (and the closest nodes). Started
    /// with `Node::start_get`, which gives the salt mutable items are checked with.
    GetItem,
    /// BEP 44 get, then put to the closest nodes that gave a token. Started with
    /// `Node::start_put`, which gives the item.
    PutItem,
}

impl LookupKind {
    /// The query sent during the search.
    pub fn method(&self) -> &'static str {
        match self {
            LookupKind::FindNode => "find_node",
            LookupKind::GetPeers | LookupKind::Announce { .. } => "get_peers",
            LookupKind::GetItem | LookupKind::PutItem => "get",
        }
    }

    /// The query of the second phase, sent with the tokens of the search (announce_peer
    /// or put); `None` for a lookup that only searches.
    pub fn store_method(&self) -> Option<&'static str> {
        match self {
            LookupKind::Announce { .. } => Some("announce_peer"),
            LookupKind::PutItem => Some("put"),
            _ => None,
        }
    }
}
