//! Counters of a server, readable while it runs.

use std::sync::atomic::{AtomicU64, Ordering};

use swarmlab_bt_wire::session::Misbehaviour;

/// What a server counted. Every field is an atomic counter; read them with
/// [`ServerStats::get`] or `load`.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ServerStats {
    /// TCP connections handed to the server.
    pub connections: AtomicU64,
    /// Handshakes accepted (the torrent is served).
    pub accepted: AtomicU64,
    /// Handshakes refused: a torrent the server does not serve.
    pub refused_torrent: AtomicU64,
    /// Connections refused because [`super::ServerConfig::max_connections`] were open.
    pub refused_full: AtomicU64,
    /// Connections that ended before a complete handshake (timeout, garbage, close).
    pub failed_handshakes: AtomicU64,
    /// Blocks sent.
    pub blocks_sent: AtomicU64,
    /// Bytes of blocks sent.
    pub bytes_sent: AtomicU64,
    /// Requests rejected because the source could not give the block (the piece went
    /// away, failed its hash check, or a read failed).
    pub reads_failed: AtomicU64,
    /// `have` messages sent for pieces that appeared while connected.
    pub haves_sent: AtomicU64,
    /// ut_pex messages sent.
    pub pex_sent: AtomicU64,
    /// ut_pex messages received and accepted (their peers are not used: counted).
    pub pex_received: AtomicU64,
    /// ut_pex messages ignored for arriving too often (BEP 11's limit).
    pub pex_ignored: AtomicU64,
    /// Peers in received ut_pex messages beyond the 500 kept per message.
    pub pex_truncated: AtomicU64,
    /// BEP 5 `port` messages sent.
    pub ports_sent: AtomicU64,
    /// The peers' requests refused by the session: out of range, too long, while
    /// choked, for a piece not announced, over the queue.
    pub requests_refused: AtomicU64,
    /// ut_metadata requests out of range or over the per-session limit (rejected).
    pub metadata_refused: AtomicU64,
    /// Every misbehaviour the sessions reported.
    pub misbehaviours: AtomicU64,
}

impl ServerStats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn misbehaved(&self, m: &Misbehaviour) {
        Self::add(&self.misbehaviours, 1);
        match m {
            Misbehaviour::PexTooOften => Self::add(&self.pex_ignored, 1),
            Misbehaviour::InvalidRequest(_)
            | Misbehaviour::RequestWhileChoked(_)
            | Misbehaviour::RequestForMissingPiece(_)
            | Misbehaviour::RequestQueueFull(_) => Self::add(&self.requests_refused, 1),
            Misbehaviour::MetadataOutOfRange(_) | Misbehaviour::MetadataServeLimit(_) => {
                Self::add(&self.metadata_refused, 1)
            }
            _ => {}
        }
    }
}
