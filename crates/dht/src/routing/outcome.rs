//! What the table's mutating calls return: the outcome of an insertion (and the node
//! to ping), why one was refused, and the outcome of a timeout.

use super::{NodeInfo, NodeState};

/// Why an insertion was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// The id is our own.
    OwnId,
    /// Port 0, or an unspecified, multicast or broadcast IP.
    InvalidAddress,
    /// The id violates BEP 42 for its IP ([`Bep42Policy::Require`](super::Bep42Policy::Require)).
    Bep42,
    /// The id is in the table with another address that may not be replaced.
    IdConflict,
    /// The IP is in the table (other id or port) and may not be replaced.
    IpConflict,
    /// The bucket is full and the candidate was not kept in its cache.
    Full,
}

/// Result of [`RoutingTable::insert`](super::RoutingTable::insert) /
/// [`RoutingTable::on_response`](super::RoutingTable::on_response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored in a bucket. `ping` is the node itself when it is unverified:
    /// send it a query (ping or find_node) to verify it.
    Added {
        /// Node to query now, if any.
        ping: Option<NodeInfo>,
    },
    /// Already in a bucket at this address; its timestamps were refreshed.
    Updated,
    /// Took the place of `evicted` (bad, or conflicting and replaceable).
    Replaced {
        /// The entry that left the table.
        evicted: NodeInfo,
        /// The new node itself when it is unverified.
        ping: Option<NodeInfo>,
    },
    /// Bucket full: the node waits in the replacement cache. `ping`, if set,
    /// is a questionable node of that bucket to ping now; if that ping times
    /// out the best candidate is promoted.
    Cached {
        /// Node to ping now, if any.
        ping: Option<NodeInfo>,
    },
    /// Not stored.
    Rejected(Reject),
}

impl InsertOutcome {
    /// The node the caller should ping now, if any.
    pub fn ping(&self) -> Option<&NodeInfo> {
        match self {
            InsertOutcome::Added { ping }
            | InsertOutcome::Replaced { ping, .. }
            | InsertOutcome::Cached { ping } => ping.as_ref(),
            InsertOutcome::Updated | InsertOutcome::Rejected(_) => None,
        }
    }

    /// True when the node is now in a bucket (not cache, not rejected).
    pub fn in_bucket(&self) -> bool {
        matches!(
            self,
            InsertOutcome::Added { .. } | InsertOutcome::Updated | InsertOutcome::Replaced { .. }
        )
    }
}

/// Result of [`RoutingTable::on_timeout`](super::RoutingTable::on_timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutOutcome {
    /// No entry with that id and address: nothing changed.
    Unknown,
    /// Failure recorded; the entry stays with the given state.
    Failed {
        /// Its state after the failure.
        state: NodeState,
    },
    /// The entry was removed; `promoted` took its bucket slot.
    Evicted {
        /// The removed entry.
        evicted: NodeInfo,
        /// The replacement-cache candidate moved into the bucket, if any.
        promoted: Option<NodeInfo>,
    },
}
