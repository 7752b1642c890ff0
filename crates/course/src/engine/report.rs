//! What a download reports: per peer, and for the whole file.

use std::collections::BTreeMap;

use serde::Serialize;

/// Why a request for a chunk failed, as reports count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The content's SHA-1 differed from the hash asked for.
    BadDigest,
    /// The connection could not be made, failed, or closed.
    Connection,
    /// The peer answered CHUNK_NOT_FOUND.
    NotFound,
    /// The reply broke the protocol.
    Protocol,
    /// No whole reply within the request timeout.
    Timeout,
    /// The verified chunk could not be written.
    Write,
}

impl FailureKind {
    /// The name used in reports (`not_found`, `bad_digest`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::BadDigest => "bad_digest",
            FailureKind::Connection => "connection",
            FailureKind::NotFound => "not_found",
            FailureKind::Protocol => "protocol",
            FailureKind::Timeout => "timeout",
            FailureKind::Write => "write",
        }
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one peer gave.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerReport {
    /// The peer's address.
    pub addr: String,
    /// Chunks it gave, verified and written.
    pub chunks: u64,
    /// Bytes of those chunks.
    pub bytes: u64,
    /// Failures by kind.
    pub failures: BTreeMap<FailureKind, u64>,
}

/// The outcome of a download.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadReport {
    /// Chunks of the file (indices, repeated hashes counted each time).
    pub chunks: usize,
    /// Chunks found verified on disk and not fetched.
    pub resumed_chunks: usize,
    /// Chunks fetched from peers.
    pub fetched_chunks: usize,
    /// Bytes of the whole file (fetched and resumed chunks).
    pub bytes: u64,
    /// Bytes fetched from peers.
    pub fetched_bytes: u64,
    /// Time from start to the last chunk written, in seconds.
    pub elapsed_s: f64,
    /// Fetched bytes per second, in MB/s (10^6 bytes).
    pub throughput_mb_s: f64,
    /// Time from start to the first chunk fetched, verified and written, in seconds
    /// (`None` when every chunk was already on disk).
    pub first_chunk_s: Option<f64>,
    /// Times the download asked for more holders while it ran.
    pub refills: usize,
    /// One report per peer, by address.
    pub peers: Vec<PeerReport>,
}
