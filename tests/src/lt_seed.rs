//! libtorrent seeders of one torrent on loopback, started by `tests/python/lt_seed.py`
//! (a payload it makes, one file or a directory; one session per `--listen`
//! address; a tracker, the DHT, a lying session, an upload limit on request).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// What `lt_seed.py` prints once every session seeds.
#[derive(Debug, Clone, Deserialize)]
pub struct SeedInfo {
    /// The .torrent file.
    pub torrent: PathBuf,
    /// Its info-hash, hex.
    pub info_hash: String,
    /// libtorrent's magnet link for it (no tracker, no peer unless given).
    pub magnet: String,
    /// Payload size.
    pub total: u64,
    /// Pieces.
    pub pieces: u32,
    /// Piece length.
    pub piece_size: u64,
    /// The payload: a file, or the directory of a multi-file torrent.
    pub payload: PathBuf,
    /// Each session's TCP address, in `--listen` order.
    pub peers: Vec<SocketAddr>,
    /// Each session's DHT address.
    pub dht: Vec<String>,
    /// With `--mesh`: per session (its address in `peers`), the other sessions it
    /// listed as connected peers when the line was printed.
    #[serde(default)]
    pub mesh: HashMap<SocketAddr, Vec<SocketAddr>>,
}

/// Running seeders; they stop when dropped.
pub struct LtSeed {
    /// What they seed.
    pub info: SeedInfo,
    /// The process (its `dir` holds the payload and the torrent).
    pub process: crate::ScriptProcess,
}

impl LtSeed {
    /// Starts `lt_seed.py` with `args` (see its docstring); returns once every
    /// session seeds.
    pub fn start(args: &[&str]) -> LtSeed {
        let (process, info) = crate::ScriptProcess::start("lt_seed.py", args);
        LtSeed { info, process }
    }
}
