//! What an audit reports: one [`PeerRecord`] per address and a [`RoundReport`] per
//! round (types, here), the records completed once the piece count is known
//! ([`finalize`] from the [`PieceEvidence`], in `evidence.rs`), the per-swarm
//! [`SwarmSummary`] (`summary.rs`) and the [`Churn`] between two rounds
//! (`churn.rs`).

mod churn;
mod evidence;
mod summary;

pub use churn::{churn, Churn};
pub use evidence::{finalize, PieceEvidence, MAX_HAVES_KEPT};
pub use summary::{summarize, Availability, SwarmSummary};

use crate::sources::SourceReport;
use serde::Serialize;
use std::net::SocketAddr;

/// Most have events kept per peer.
pub const MAX_HAVE_EVENTS: usize = 4096;
/// Most PEX neighbours kept per peer.
pub const MAX_PEX_NEIGHBOURS: usize = 500;
/// Most warnings kept per peer.
pub const MAX_WARNINGS: usize = 16;

/// Why a peer could not be audited (or what went wrong after the handshake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// Connection refused (nothing listens there).
    Refused,
    /// No answer in time (connect or handshake).
    Timeout,
    /// The answer was not a BitTorrent handshake.
    BadHandshake,
    /// The handshake named another torrent.
    WrongInfoHash,
    /// The peer closed the connection before we were done.
    Disconnected,
    /// The peer broke the protocol (oversized message, bad bitfield, bad metadata...).
    ProtocolError,
    /// No route to the address.
    Unreachable,
    /// Any other socket error.
    Io,
}

impl FailureReason {
    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Refused => "refused",
            FailureReason::Timeout => "timeout",
            FailureReason::BadHandshake => "bad_handshake",
            FailureReason::WrongInfoHash => "wrong_info_hash",
            FailureReason::Disconnected => "disconnected",
            FailureReason::ProtocolError => "protocol_error",
            FailureReason::Unreachable => "unreachable",
            FailureReason::Io => "io",
        }
    }
}

/// A failure with its reason, the stage it happened in and details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Why.
    pub reason: FailureReason,
    /// "connect", "handshake" or "session".
    pub stage: &'static str,
    /// Human-readable detail.
    pub detail: String,
}

impl Failure {
    /// Build a failure.
    pub fn new(reason: FailureReason, stage: &'static str, detail: impl Into<String>) -> Failure {
        Failure {
            reason,
            stage,
            detail: detail.into(),
        }
    }
}

/// Fields of a peer's BEP 10 extension handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExtInfo {
    /// `p`: its listen port.
    pub p: Option<u16>,
    /// `reqq`.
    pub reqq: Option<i64>,
    /// `yourip`: our address as it sees it.
    pub yourip: Option<String>,
    /// `metadata_size`.
    pub metadata_size: Option<u64>,
    /// `upload_only`.
    pub upload_only: Option<bool>,
}

/// One have message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HaveEvent {
    /// Milliseconds since the connection was established.
    pub ms: u64,
    /// Piece index.
    pub piece: u32,
}

/// Result of `--probe-pieces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeResult {
    /// Pieces chosen to download.
    pub pieces_wanted: usize,
    /// Pieces downloaded whose SHA-1 matched.
    pub pieces_verified: usize,
    /// Pieces downloaded whose SHA-1 did not match.
    pub pieces_failed: usize,
    /// Payload bytes received.
    pub bytes: u64,
    /// Time from the first request to the last block, seconds.
    pub seconds: f64,
    /// Measured download rate, bytes per second.
    pub rate_bps: Option<f64>,
    /// Whether the peer ever unchoked us.
    pub unchoked: bool,
    /// Why probing stopped early, if it did.
    pub note: Option<String>,
}

/// Everything recorded about one peer address.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerRecord {
    /// `ip:port` (peers are identified by address, never by peer id).
    pub addr: String,
    /// Sources that named this address ("http_tracker", "udp_tracker", "dht", "pex", "manual", "magnet").
    pub sources: Vec<String>,
    /// Whether the BitTorrent handshake succeeded.
    pub reached: bool,
    /// What failed (before the handshake if `reached` is false, after it otherwise).
    pub failure: Option<Failure>,
    /// How the session ended: "done", "budget", "peer_closed", "error".
    pub ended: String,
    /// TCP connect time, milliseconds.
    pub connect_ms: Option<u64>,
    /// Time spent with the peer, milliseconds.
    pub duration_ms: u64,
    /// Reserved bytes of its handshake, hex.
    pub reserved: Option<String>,
    /// Reserved bit: extension protocol (BEP 10).
    pub supports_extensions: bool,
    /// Reserved bit: DHT (BEP 5).
    pub supports_dht: bool,
    /// Reserved bit: fast extension (BEP 6).
    pub supports_fast: bool,
    /// Its peer id, hex.
    pub peer_id: Option<String>,
    /// Printable first 8 bytes of the peer id.
    pub peer_id_prefix: Option<String>,
    /// Client name from the peer id.
    pub client_from_peer_id: Option<String>,
    /// Client name from the extension handshake's `v`.
    pub client_version: Option<String>,
    /// Best available client name.
    pub client: Option<String>,
    /// Extensions it enabled in `m`, by name.
    pub extensions: Vec<String>,
    /// Other extension-handshake fields.
    pub ext: Option<ExtInfo>,
    /// How it announced its pieces: "bitfield", "have_all", "have_none", "haves_only", "nothing".
    pub pieces_announced: Option<String>,
    /// Pieces it has (bitfield plus haves), when the piece count is known.
    pub pieces_have: Option<usize>,
    /// Pieces in the torrent, when known.
    pub num_pieces: Option<usize>,
    /// Completion in [0, 1].
    pub completion: Option<f64>,
    /// Seed (complete) or leecher.
    pub seed: Option<bool>,
    /// Have messages seen (first [`MAX_HAVE_EVENTS`]).
    pub have_events: Vec<HaveEvent>,
    /// Have messages seen in total.
    pub haves_total: usize,
    /// Download rate implied by the have messages, bytes per second.
    pub have_rate_bps: Option<f64>,
    /// Whether it unchoked us.
    pub unchoked_us: bool,
    /// Piece probe result.
    pub probe: Option<ProbeResult>,
    /// Peers it named through ut_pex (first [`MAX_PEX_NEIGHBOURS`]).
    pub pex_neighbours: Vec<String>,
    /// ut_pex messages received.
    pub pex_messages: usize,
    /// PEX entries dropped because of caps.
    pub pex_truncated: usize,
    /// Port of its DHT node (BEP 5 `port` message).
    pub dht_port: Option<u16>,
    /// ut_metadata outcome when we needed the info dictionary: "fetched", "rejected", "bad_hash", ...
    pub metadata: Option<String>,
    /// Protocol oddities that did not end the session.
    pub warnings: Vec<String>,
}

impl PeerRecord {
    /// A fresh record for `addr`.
    pub fn new(addr: SocketAddr) -> PeerRecord {
        PeerRecord {
            addr: addr.to_string(),
            ended: "error".into(),
            ..PeerRecord::default()
        }
    }
    /// Add a warning (bounded).
    pub fn warn(&mut self, w: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w.into());
        }
    }
}

/// One audit round.
#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    /// Round number, from 1.
    pub round: u32,
    /// Unix time the round started, seconds.
    pub started_unix: u64,
    /// Round duration, milliseconds.
    pub duration_ms: u64,
    /// Info-hash, hex.
    pub info_hash: String,
    /// Torrent name, if known.
    pub name: Option<String>,
    /// Pieces in the torrent, if known.
    pub num_pieces: Option<usize>,
    /// Piece length, if known.
    pub piece_length: Option<u64>,
    /// Whether the info dictionary was fetched with ut_metadata this round.
    pub metadata_fetched: bool,
    /// Trackers and DHT: what each gave.
    pub sources: Vec<SourceReport>,
    /// Per-swarm summary.
    pub summary: SwarmSummary,
    /// Changes since the previous round (with --watch).
    pub churn: Option<Churn>,
    /// Per-peer records, sorted by address.
    pub peers: Vec<PeerRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MAX_WARNINGS`: a record keeps the first 16 warnings (without the cap, all 40).
    #[test]
    fn warnings_are_capped() {
        let mut r = PeerRecord::new("127.0.0.2:1".parse().unwrap());
        for i in 0..40 {
            r.warn(format!("w{i}"));
        }
        assert_eq!(r.warnings.len(), MAX_WARNINGS);
        assert_eq!(
            r.warnings[MAX_WARNINGS - 1],
            format!("w{}", MAX_WARNINGS - 1)
        );
    }
}
