//! A BEP 51 crawl, as pure scheduling: whom to ask `sample_infohashes` next, and when
//! a node may be asked again. The driver sends the queries ([`Node::query`]) and
//! feeds the answers back; nothing here reads a clock or touches a socket.
//!
//! # Politeness rules
//! A crawler that ignores them has been called a denial of service on the DHT; this one
//! keeps them all, and its tests check each:
//! 1. **A node's `interval` is honoured**: after a node answered, it is not asked again
//!    before the `interval` it gave (BEP 51: the time before its sample changes), and
//!    never sooner than [`CrawlConfig::min_interval`] even if it gave 0. A node that
//!    gave no interval waits BEP 51's maximum, 6 hours.
//! 2. **One query in flight per IP address**, whatever the port, and at most
//!    [`CrawlConfig::max_in_flight`] in all.
//! 3. **A global rate**: at most [`CrawlConfig::rate`] queries per second, spaced
//!    evenly (no bursts).
//! 4. **Nodes that do not speak BEP 51** (error 204, or a reply without `samples`) get
//!    one `find_node` (to learn their neighbours) and are never asked again.
//! 5. **Nodes that do not answer** are asked once more after
//!    [`CrawlConfig::retry_after`], then dropped.
//! 6. **Bounded memory**: at most [`CrawlConfig::max_nodes`] nodes are remembered;
//!    further ones are ignored.
//!
//! The walk: each query carries a random target, so the `nodes` of the replies spread
//! over the whole key space; every node named is queued once.
//!
//! # Method families, in the order a driver calls them
//! 1. [`Crawl::new`], then [`Crawl::add_node`] for each seed (bootstrap nodes, the
//!    routing table of a joined node).
//! 2. [`Crawl::poll_query`] until `None`: send each [`CrawlQuery`]; sleep until
//!    [`Crawl::poll_timeout`].
//! 3. As answers come: [`Crawl::on_reply`], [`Crawl::on_error`], [`Crawl::on_timeout`].
//! 4. [`Crawl::report`] at any time: info-hashes found (and per hour), nodes contacted.
//!
//! Files: `schedule.rs` (the state machine), `report.rs` (what it found), `tests.rs`.
//!
//! [`Node::query`]: crate::Node::query

mod report;
mod schedule;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_krpc::{Id, Method, Want};

pub use report::{CrawlReport, FoundHash};
pub use schedule::Crawl;

use crate::error::check_len;
use crate::ConfigError;

/// How the crawl behaves. `Default` is polite for the public DHT.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrawlConfig {
    /// Queries per second at most. Default 20.
    pub rate: f64,
    /// Queries in flight at most. Default 16.
    pub max_in_flight: usize,
    /// The shortest wait before asking a node again, whatever interval it gave.
    /// Default 60 s.
    pub min_interval: Duration,
    /// The wait for a node that gave no interval, and the longest wait: BEP 51's
    /// maximum interval, 6 hours.
    pub max_interval: Duration,
    /// When a node that did not answer is asked once more. Default 60 s.
    pub retry_after: Duration,
    /// Nodes remembered at most. Default 100,000.
    pub max_nodes: usize,
    /// Ask nodes again once their interval has passed (for a crawl longer than the
    /// intervals). Default true.
    pub requery: bool,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            rate: 20.0,
            max_in_flight: 16,
            min_interval: Duration::from_secs(60),
            max_interval: Duration::from_secs(6 * 3600),
            retry_after: Duration::from_secs(60),
            max_nodes: 100_000,
            requery: true,
        }
    }
}

impl CrawlConfig {
    /// Checks the rate (finite, positive), the counts (at least 1) and the durations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(ConfigError::BadRate("crawl rate"));
        }
        if self.max_in_flight == 0 {
            return Err(ConfigError::Zero("max_in_flight"));
        }
        if self.max_nodes == 0 {
            return Err(ConfigError::Zero("max_nodes"));
        }
        if self.min_interval.is_zero() {
            return Err(ConfigError::ZeroDuration("min_interval"));
        }
        check_len("max_interval", self.max_interval)?;
        check_len("retry_after", self.retry_after)
    }
}

/// What the crawl asks a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `sample_infohashes`.
    Sample,
    /// `find_node`, for a node that does not speak BEP 51.
    FindNode,
}

/// A query the driver should send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrawlQuery {
    /// The node.
    pub to: SocketAddr,
    /// The query.
    pub kind: QueryKind,
    /// The key-space point the query walks to.
    pub target: Id,
}

impl CrawlQuery {
    /// The KRPC method to send.
    pub fn method(&self) -> Method {
        match self.kind {
            QueryKind::Sample => Method::SampleInfohashes {
                target: self.target,
                want: Want::default(),
            },
            QueryKind::FindNode => Method::FindNode {
                target: self.target,
                want: Want::default(),
            },
        }
    }
}
