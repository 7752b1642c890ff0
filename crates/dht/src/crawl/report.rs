//! What a crawl found: the info-hashes (when each was first seen, by how many nodes),
//! the nodes contacted, and the rate.

use serde::Serialize;
use swarmlab_krpc::Id;

/// One info-hash the crawl found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundHash {
    /// The info-hash.
    pub info_hash: Id,
    /// Seconds from the crawl's start to the first sample that held it.
    pub first_seen_s: f64,
    /// Samples (from distinct answers) that held it.
    pub nodes: u32,
}

/// The state of a crawl.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrawlReport {
    /// Seconds since the crawl started.
    pub elapsed_s: f64,
    /// Nodes the crawl heard of (seeds and nodes named in replies).
    pub nodes_known: usize,
    /// Nodes it sent at least one query.
    pub nodes_contacted: usize,
    /// Nodes that answered at least once.
    pub nodes_answered: usize,
    /// Nodes that answered `sample_infohashes` (BEP 51).
    pub nodes_bep51: usize,
    /// Queries sent.
    pub queries: u64,
    /// Queries not answered in time.
    pub timeouts: u64,
    /// Error replies.
    pub errors: u64,
    /// The sum of the `num` the BEP 51 nodes gave (info-hashes they store, with
    /// repeats across nodes).
    pub num_total: i64,
    /// Distinct info-hashes found.
    pub info_hashes: usize,
    /// Distinct info-hashes per hour of crawl.
    pub per_hour: f64,
    /// Every info-hash found, in the order found.
    pub found: Vec<FoundHash>,
}
