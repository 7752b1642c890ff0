//! [`StorageSource`]: a torrent's verified pieces in the engine's storage, as the
//! server's [`PieceSource`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_engine::{resume, FileStorage, LayoutLimits, Storage};

use crate::error::{PieceError, SeedError};
use crate::fetch::open_storage;
use crate::PieceSource;

/// The pieces of one torrent held in a [`FileStorage`].
pub struct StorageSource {
    info: Info,
    storage: Arc<Mutex<FileStorage>>,
    held: Arc<Bitfield>,
}

impl std::fmt::Debug for StorageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageSource")
            .field("name", &self.info.name)
            .field("held", &self.held.count())
            .finish_non_exhaustive()
    }
}

impl StorageSource {
    /// The torrent `info` with its files under `dir` (a multi-file torrent in
    /// `dir/<name>/`): sizes and paths checked, every piece hashed; only the pieces
    /// that verify are served. [`SeedError::Mismatch`] when none does.
    pub fn open(info: Info, dir: &Path, limits: &LayoutLimits) -> Result<StorageSource, SeedError> {
        let (_, mut storage) = open_storage(&info, dir, limits)?;
        let ok = resume::verify_existing(&mut storage, &info.pieces, &mut |_| {})
            .map_err(crate::error::FetchError::from)?;
        let n = info.pieces.len();
        if ok.is_empty() && n > 0 {
            return Err(SeedError::Mismatch {
                bad: n as u32,
                pieces: n as u32,
            });
        }
        let mut held = Bitfield::new(n);
        for i in &ok {
            held.set(*i as usize);
        }
        if ok.len() < n {
            tracing::warn!(
                "{} of {n} pieces on disk do not verify: not served",
                n - ok.len()
            );
        }
        Ok(StorageSource {
            info,
            storage: Arc::new(Mutex::new(storage)),
            held: Arc::new(held),
        })
    }

    /// Storage a download just completed (every piece verified).
    pub fn complete(info: Info, storage: Arc<Mutex<FileStorage>>) -> StorageSource {
        let n = info.pieces.len();
        StorageSource {
            info,
            storage,
            held: Arc::new(Bitfield::full(n)),
        }
    }

    /// Pieces served.
    pub fn pieces_held(&self) -> usize {
        self.held.count()
    }
}

impl PieceSource for StorageSource {
    fn info(&self) -> &Info {
        &self.info
    }

    fn held(&self) -> Arc<Bitfield> {
        self.held.clone()
    }

    fn read(&self, index: u32, begin: u32, length: u32) -> Result<Vec<u8>, PieceError> {
        if !self.held.has(index as usize) {
            return Err(PieceError::NotHeld(index));
        }
        let mut buf = vec![0u8; length as usize];
        let s = crate::fetch::lock_storage(&self.storage);
        match s.read(index, begin, &mut buf) {
            Ok(true) => Ok(buf),
            Ok(false) => Err(PieceError::NotHeld(index)),
            Err(swarmlab_engine::StorageError::OutOfRange { .. }) => Err(PieceError::OutOfRange {
                index,
                begin,
                length,
            }),
            Err(e) => Err(PieceError::Io {
                index,
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }

    fn pex_peers(&self) -> Vec<SocketAddr> {
        Vec::new()
    }
}
