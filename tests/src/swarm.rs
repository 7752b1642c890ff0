//! A real BitTorrent swarm of libtorrent sessions on loopback, started by
//! `tests/python/swarm.py` (one torrent; seeds, leechers at fixed completions, and
//! rate-limited downloaders, each session on its own 127.x address).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// One listening address of the swarm.
#[derive(Debug, Clone, Deserialize)]
pub struct SwarmPeer {
    /// Its TCP address.
    pub addr: SocketAddr,
    /// "seed", "leech" (fixed completion, upload mode) or "download" (rate-limited
    /// downloader that starts empty).
    pub role: String,
    /// Index of its libtorrent session.
    pub session: usize,
    /// A seed.
    pub seed: bool,
    /// Pieces it holds at start.
    pub pieces: usize,
    /// Which ones.
    pub have: Vec<u32>,
    /// `pieces / num_pieces`.
    pub completion: f64,
}

/// What `swarm.py` prints once every session is up.
#[derive(Debug, Clone, Deserialize)]
pub struct SwarmInfo {
    /// The .torrent file.
    pub torrent: PathBuf,
    /// Its info-hash, hex.
    pub info_hash: String,
    /// Pieces in the torrent.
    pub num_pieces: usize,
    /// Piece length.
    pub piece_size: u64,
    /// Payload size.
    pub total_size: u64,
    /// libtorrent's version.
    pub libtorrent_version: String,
    /// Every listening address.
    pub peers: Vec<SwarmPeer>,
}

/// A running swarm; it stops when dropped (its stdin closes).
pub struct Swarm {
    /// What it runs.
    pub info: SwarmInfo,
    /// The process; its `dir` holds the files (payload, torrent, each session's
    /// download).
    pub process: crate::ScriptProcess,
}

impl Swarm {
    /// The info-hash as 20 bytes.
    pub fn info_hash(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&self.info.info_hash[2 * i..2 * i + 2], 16)
                .expect("swarm.py prints a hex info-hash");
        }
        out
    }
}

/// Start `swarm.py` with `args` (see its `--help`); returns once it is up. Panics
/// with the remedy when libtorrent is missing.
pub fn start_swarm(args: &[&str]) -> Swarm {
    let (process, info) = crate::ScriptProcess::start("swarm.py", args);
    Swarm { info, process }
}
