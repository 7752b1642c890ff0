//! The driver's errors.

use std::error::Error;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use swarmlab_dht::{ConfigError, LookupError};

/// Why a driver call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// A UDP socket could not be bound (or its address read).
    #[error("cannot bind UDP {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The node's configuration cannot work.
    #[error("invalid node configuration")]
    Config(#[from] ConfigError),
    /// The node refused to start a lookup.
    #[error("cannot start the lookup")]
    Lookup(#[from] LookupError),
    /// The outgoing-query cap refused a query of [`Dht::query`](crate::Dht::query)
    /// for now.
    #[error("the outgoing-query cap refused the query; try again later")]
    Capped,
    /// No socket of the driver serves this address's family.
    #[error("no socket for the address family of {0}")]
    NoStack(SocketAddr),
    /// The metrics endpoint could not be bound.
    #[error("cannot serve metrics on {addr}")]
    MetricsBind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The crawl's configuration cannot work.
    #[error("invalid crawl configuration")]
    CrawlConfig(#[source] ConfigError),
    /// The node's task has ended (after [`Dht::shutdown`](crate::Dht::shutdown)).
    #[error("the node has stopped")]
    Stopped,
    /// The state file exists but could not be read.
    #[error("cannot read the state file {path}")]
    StateRead {
        /// The state file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The state file is not the JSON the driver writes.
    #[error("the state file {path} is not a DHT state")]
    StateParse {
        /// The state file.
        path: PathBuf,
        /// Where the JSON went wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The state file's node id is not 40 hex digits.
    #[error("the state file {path} has no valid node id (40 hex digits)")]
    StateId {
        /// The state file.
        path: PathBuf,
    },
    /// The state file could not be written (temporary file, fsync or rename).
    #[error("cannot write the state file {path}")]
    StateWrite {
        /// The state file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// `e` and its sources on one line (`a: b: c`), for log lines.
pub(crate) fn with_sources(e: &dyn Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let _ = write!(s, ": {c}");
        cur = c.source();
    }
    s
}
