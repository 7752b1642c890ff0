//! The audit's errors: resolving the target ([`TargetError`]) and asking a tracker
//! ([`SourceError`]). Nothing a peer does is an error of the audit: every peer's
//! outcome is a [`crate::report::Failure`] in its record.

use swarmlab_bt_wire::{MagnetError, MetainfoError, TrackerError};

/// Errors resolving a target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The .torrent file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than any .torrent may be
    /// ([`swarmlab_bt_wire::metainfo::MAX_TORRENT_SIZE`]); it was not read.
    #[error("{path} is {size} bytes: larger than a .torrent file may be")]
    TooLarge {
        /// The path given.
        path: String,
        /// Its size.
        size: u64,
    },
    /// The .torrent file is invalid.
    #[error("invalid .torrent file {path}: {source}")]
    Torrent {
        /// The path given.
        path: String,
        /// Why.
        source: MetainfoError,
    },
    /// The magnet link is invalid.
    #[error("invalid magnet link: {0}")]
    Magnet(#[from] MagnetError),
    /// Neither a file, a magnet link, nor an info-hash.
    #[error("TARGET must be a .torrent file, a magnet link or a 40-hex info-hash: {0:?} is none of these")]
    Unrecognised(String),
}

/// Errors from a tracker query (they end up, as text, in the tracker's
/// [`crate::sources::SourceReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The URL has a scheme we do not speak.
    #[error("bad tracker URL: unsupported scheme: {0}")]
    UnsupportedScheme(String),
    /// A `udp://` URL without `host:port`.
    #[error("bad tracker URL: {0}")]
    BadUrl(String),
    /// The HTTP request failed (DNS, connection, TLS, …), with its chain of causes.
    #[error("{}", chain(.0))]
    Http(#[from] reqwest::Error),
    /// The HTTP tracker answered with an error status.
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    /// The UDP tracker's host name did not resolve.
    #[error("resolve {host}: {source}")]
    Resolve {
        /// `host:port`.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The UDP tracker's host name resolved to nothing.
    #[error("{0} has no address")]
    NoAddress(String),
    /// A UDP socket error (ICMP port unreachable shows up here as "connection refused").
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No answer within the timeouts.
    #[error("timeout after {0} tries")]
    Timeout(u32),
    /// The tracker's answer (including `failure reason`).
    #[error(transparent)]
    Tracker(#[from] TrackerError),
    /// Response body over [`crate::sources::MAX_HTTP_BODY`] bytes.
    #[error("tracker response over {} bytes", crate::sources::MAX_HTTP_BODY)]
    TooLarge,
}

/// An error and its sources, `: `-separated (reqwest puts the useful part, such as
/// "Connection refused", in the sources).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
