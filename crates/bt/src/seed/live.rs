//! [`LiveSeed`]: a download's pieces served by a [`Server`] while it downloads, as
//! each one is verified (the download's [`Uploader`]).

use std::sync::{Arc, Mutex, OnceLock};

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_engine::FileStorage;

use super::StorageSource;
use crate::fetch::Uploader;
use crate::Server;

/// Upload slots while a download runs (`fetch --seed`): a few interested peers are
/// served, with no tit-for-tat.
pub const DOWNLOAD_UNCHOKE_SLOTS: usize = 4;

/// Adds the download's storage to `server` once it is open (serving the resumed
/// pieces), then each piece as the download verifies it; the server announces new
/// pieces with `have` on its next tick.
pub struct LiveSeed {
    server: Server,
    source: OnceLock<Arc<StorageSource>>,
}

impl LiveSeed {
    /// Serves on `server` (its torrents are added to, not replaced).
    pub fn new(server: Server) -> LiveSeed {
        LiveSeed {
            server,
            source: OnceLock::new(),
        }
    }

    /// The source served, once the storage is open.
    pub fn source(&self) -> Option<&Arc<StorageSource>> {
        self.source.get()
    }
}

impl Uploader for LiveSeed {
    fn storage_ready(&self, info: &Arc<Info>, storage: &Arc<Mutex<FileStorage>>, verified: &[u32]) {
        let s = Arc::new(StorageSource::growing(
            (**info).clone(),
            storage.clone(),
            verified,
        ));
        if self.source.set(s.clone()).is_ok() {
            self.server.add_torrent(s);
        }
    }

    fn piece_verified(&self, piece: u32) {
        if let Some(s) = self.source.get() {
            s.add_held(piece);
        }
    }
}
