//! A snapshot of a running node, for `swarmlab node`'s stats and for tests.

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;
use swarmlab_dht::routing::BucketStats;
use swarmlab_dht::{Node, Stats};
use swarmlab_krpc::Id;

use crate::stack::Stack;

/// A snapshot of the node (and of the second stack, when one is bound).
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Our node id now (it changes when a BEP 42 id is adopted).
    pub id: Id,
    /// The socket's address.
    pub addr: SocketAddr,
    /// Our external address, once enough nodes agreed on it (BEP 42).
    pub external: Option<SocketAddr>,
    /// Seconds since the node started.
    pub uptime_s: f64,
    /// Nodes in the routing table's buckets (all states).
    pub table_nodes: usize,
    /// Good nodes among them.
    pub table_good: usize,
    /// Candidates in the replacement caches.
    pub cached: usize,
    /// Every bucket: index, range, nodes per state, candidates.
    pub buckets: Vec<BucketStats>,
    /// Peers in the peer store.
    pub peers_stored: usize,
    /// Info-hashes in the peer store.
    pub info_hashes_stored: usize,
    /// BEP 44 items in the item store.
    pub items_stored: usize,
    /// Lookups running.
    pub lookups_running: usize,
    /// The node's counters.
    pub stats: Stats,
    /// The second stack (IPv6), when bound: its address, table size and stats.
    pub second: Option<Box<Snapshot>>,
}

impl Snapshot {
    /// The snapshot of every stack: the first, with the second inside.
    pub(crate) fn of(stacks: &[Stack], addr: SocketAddr, started: Instant) -> Snapshot {
        let mut snap = Snapshot::of_node(&stacks[0].node, addr, started);
        if let Some(st) = stacks.get(1) {
            let a6 = st.socket.local_addr().unwrap_or(addr);
            snap.second = Some(Box::new(Snapshot::of_node(&st.node, a6, started)));
        }
        snap
    }

    fn of_node(node: &Node, addr: SocketAddr, started: Instant) -> Snapshot {
        let now = Instant::now();
        let table = node.table();
        Snapshot {
            id: node.id(),
            addr,
            external: node.external_address(),
            uptime_s: (now - started).as_secs_f64(),
            table_nodes: table.len(),
            table_good: table.good_len(now),
            cached: table.cached_len(),
            buckets: table.bucket_stats(now),
            peers_stored: node.peer_store().peer_count(),
            info_hashes_stored: node.peer_store().info_hash_count(),
            items_stored: node.item_store().len(),
            lookups_running: node.lookups_running(),
            stats: node.stats(),
            second: None,
        }
    }
}
