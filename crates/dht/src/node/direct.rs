//! One query to one node, outside any lookup: the BEP 51 crawl's `sample_infohashes`
//! and `find_node`, or a test's probe. The answer comes back as
//! [`Event::QueryReply`].

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;
use swarmlab_krpc::{Method, Response};

use crate::lookup::Outcome;

use super::{Event, Node, Purpose};

/// Identifies a query sent with [`Node::query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QueryId(pub u64);

impl Node {
    /// Sends `method` to `to` (with our id, `ro` when read-only, and a deadline of the
    /// request timeout); `None` when the outgoing-query cap refuses it now. The
    /// response, a timeout or an error reply comes as [`Event::QueryReply`]. The node
    /// that answers becomes a routing-table candidate as for any response.
    pub fn query(&mut self, now: Instant, to: SocketAddr, method: Method) -> Option<QueryId> {
        let id = QueryId(self.next_query);
        self.send_query(now, to, None, method, Purpose::Direct(id))?;
        self.next_query += 1;
        Some(id)
    }

    pub(super) fn direct_reply(&mut self, id: QueryId, to: SocketAddr, r: Response) {
        self.events.push_back(Event::QueryReply {
            id,
            to,
            reply: Ok(Box::new(r)),
        });
    }

    pub(super) fn direct_failed(&mut self, id: QueryId, to: SocketAddr, outcome: Outcome) {
        self.events.push_back(Event::QueryReply {
            id,
            to,
            reply: Err(outcome),
        });
    }
}
