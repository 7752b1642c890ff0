//! What a download reports: [`FetchReport`] at the end, per peer a [`PeerReport`],
//! and [`FetchProgress`], live counters a display polls.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// One peer of a download.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerReport {
    /// Its address.
    pub addr: String,
    /// Its client, from the extension handshake's `v` or else its peer id.
    pub client: Option<String>,
    /// Payload bytes accepted from it (blocks of pieces we needed).
    pub bytes: u64,
    /// Those bytes over the time the connection was up, bytes per second.
    pub rate: f64,
    /// Blocks it sent that another peer had already sent (endgame) or that came
    /// after a cancel.
    pub wasted_blocks: u64,
    /// Pieces that failed their hash with a block of it.
    pub bad_pieces: u32,
    /// Banned for bad pieces.
    pub banned: bool,
    /// Protocol violations the session counted and ignored.
    pub misbehaviours: u64,
    /// Why the connection ended, if it did before the download did.
    pub error: Option<String>,
}

/// The result of a download.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FetchReport {
    /// Info-hash, hex.
    pub info_hash: String,
    /// The torrent's name.
    pub name: String,
    /// Payload size in bytes.
    pub total_bytes: u64,
    /// Pieces in the torrent.
    pub pieces: u32,
    /// Pieces found verified on disk at start.
    pub resumed_pieces: u32,
    /// Bytes found verified on disk at start.
    pub resumed_bytes: u64,
    /// Payload bytes downloaded in this run (accepted blocks).
    pub downloaded_bytes: u64,
    /// Pieces that failed their hash.
    pub hash_failures: u32,
    /// Seconds from start to the last piece verified.
    pub seconds: f64,
    /// `downloaded_bytes / seconds`.
    pub rate: f64,
    /// Where the files are.
    pub files: Vec<String>,
    /// Every peer connected to.
    pub peers: Vec<PeerReport>,
}

/// Counters of a running download, for a progress bar: read them at any time.
#[derive(Debug, Default)]
pub struct FetchProgress {
    total: AtomicU64,
    done: AtomicU64,
    peers: AtomicU64,
    stage: AtomicU64,
}

/// What a download is doing, for [`FetchProgress::stage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Looking for peers and the info dictionary (magnet links).
    Metadata,
    /// Hashing what is on disk.
    Checking,
    /// Downloading.
    Downloading,
    /// Every piece verified.
    Done,
}

impl FetchProgress {
    /// Payload bytes in the torrent (0 until the info dictionary is known).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
    /// Bytes verified (resumed ones included).
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
    /// Peers connected now.
    pub fn peers(&self) -> u64 {
        self.peers.load(Ordering::Relaxed)
    }
    /// The stage.
    pub fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Metadata,
            1 => Stage::Checking,
            2 => Stage::Downloading,
            _ => Stage::Done,
        }
    }
    pub(crate) fn set_stage(&self, s: Stage) {
        self.stage.store(s as u64, Ordering::Relaxed);
    }
    pub(crate) fn set_total(&self, n: u64) {
        self.total.store(n, Ordering::Relaxed);
    }
    pub(crate) fn add_done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn peer_up(&self) {
        self.peers.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn peer_down(&self) {
        self.peers.fetch_sub(1, Ordering::Relaxed);
    }
}
