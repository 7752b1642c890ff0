//! The errors of the crate: [`ConnectionError`] (why a connection ended) and
//! [`PieceError`] (why a piece source could not give a block), [`AnnounceError`]
//! (why a tracker announce failed).

use std::time::Duration;

use swarmlab_bt_wire::{SessionError, TrackerError};

/// Why a [`crate::Connection`] ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The TCP connect did not finish in time.
    #[error("no answer within {:.1} s", .0.as_secs_f64())]
    ConnectTimeout(Duration),
    /// The TCP connect failed (refused, unreachable, …).
    #[error("{0}")]
    Connect(std::io::Error),
    /// Reading or writing the socket failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The peer closed the connection (end of stream).
    #[error("peer closed the connection")]
    PeerClosed,
    /// The session ended: a protocol error, a timeout, or a close.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Called again after the connection had already ended.
    #[error("the connection has ended")]
    Ended,
}

/// Why a [`crate::server::PieceSource`] could not give a block. The server rejects
/// the request (BEP 6) and counts it; the connection goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PieceError {
    /// The piece is not held (any more).
    #[error("piece {0} is not held")]
    NotHeld(u32),
    /// The piece's data does not hash to its SHA-1: never served.
    #[error("piece {0} fails its SHA-1 check")]
    Corrupt(u32),
    /// The range is outside the piece.
    #[error("piece {index}: {length} bytes at {begin} are outside the piece")]
    OutOfRange {
        /// Piece index.
        index: u32,
        /// Offset asked for.
        begin: u32,
        /// Length asked for.
        length: u32,
    },
    /// Reading the storage failed.
    #[error("reading piece {index}: {source}")]
    Io {
        /// Piece index.
        index: u32,
        /// Why.
        source: std::io::Error,
    },
}

/// Why an announce to a tracker failed ([`crate::tracker::announce`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnounceError {
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
    /// Response body over [`crate::tracker::MAX_HTTP_BODY`] bytes.
    #[error("tracker response over {} bytes", crate::tracker::MAX_HTTP_BODY)]
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

/// Why a download ([`crate::fetch::fetch`]) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No peer gave the info dictionary in time (magnet links, info-hashes).
    #[error("no peer gave the info dictionary within {seconds} s ({peers} peers tried; last: {last_error})")]
    NoMetadata {
        /// The limit.
        seconds: u64,
        /// Peers tried.
        peers: usize,
        /// The last peer's failure.
        last_error: String,
    },
    /// The info dictionary is not the target's.
    #[error("the info dictionary does not hash to the target's info-hash")]
    WrongInfoHash,
    /// The torrent's sizes were refused (piece length, total size, piece count).
    #[error("refused torrent: {0}")]
    Layout(#[from] swarmlab_engine::LayoutError),
    /// A path refused, or a file operation failed.
    #[error("{0}")]
    Storage(String),
    /// No piece verified for the stall timeout.
    #[error("no piece verified for {seconds} s: {done} of {pieces} pieces, {peers} peers tried")]
    Stalled {
        /// The timeout.
        seconds: u64,
        /// Pieces verified.
        done: u32,
        /// Pieces in the torrent.
        pieces: u32,
        /// Peers connected to at some point.
        peers: usize,
    },
    /// A blocking task failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<swarmlab_engine::StorageError> for FetchError {
    fn from(e: swarmlab_engine::StorageError) -> Self {
        FetchError::Storage(e.to_string())
    }
}

/// Why `seed` could not make or serve a torrent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// Reading the files to seed failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Nothing to seed: an empty directory, or only empty files.
    #[error("{0}: nothing to seed (no non-empty regular file)")]
    Empty(std::path::PathBuf),
    /// A name that cannot go in a torrent (not UTF-8).
    #[error("{0}: file names must be UTF-8")]
    Name(std::path::PathBuf),
    /// The files on disk do not hold the torrent's pieces.
    #[error("{bad} of {pieces} pieces on disk do not match the torrent")]
    Mismatch {
        /// Pieces that did not verify.
        bad: u32,
        /// Pieces in the torrent.
        pieces: u32,
    },
    /// The torrent or the storage was refused.
    #[error(transparent)]
    Fetch(#[from] FetchError),
}
