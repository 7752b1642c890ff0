//! [`StorageSource`]: a torrent's verified pieces in the engine's storage, as the
//! server's [`PieceSource`]; the pieces held can grow ([`StorageSource::add_held`])
//! while a download verifies them.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

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
    /// A snapshot, replaced (not changed) when a piece is added.
    held: RwLock<Arc<Bitfield>>,
}

impl std::fmt::Debug for StorageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageSource")
            .field("name", &self.info.name)
            .field("held", &self.held().count())
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
            held: RwLock::new(Arc::new(held)),
        })
    }

    /// Storage a download just completed (every piece verified).
    pub fn complete(info: Info, storage: Arc<Mutex<FileStorage>>) -> StorageSource {
        let n = info.pieces.len();
        StorageSource {
            info,
            storage,
            held: RwLock::new(Arc::new(Bitfield::full(n))),
        }
    }

    /// Storage a download is filling: `verified` pieces are served now, the others
    /// once [`StorageSource::add_held`] names them (after they are verified and
    /// written).
    pub fn growing(
        info: Info,
        storage: Arc<Mutex<FileStorage>>,
        verified: &[u32],
    ) -> StorageSource {
        let mut held = Bitfield::new(info.pieces.len());
        for &i in verified {
            held.set(i as usize);
        }
        StorageSource {
            info,
            storage,
            held: RwLock::new(Arc::new(held)),
        }
    }

    /// Serves `piece` from now on (the server announces it with `have` on its next
    /// tick). A piece out of range is ignored.
    pub fn add_held(&self, piece: u32) {
        let mut h = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if (piece as usize) < h.len() && !h.has(piece as usize) {
            let mut next = (**h).clone();
            next.set(piece as usize);
            *h = Arc::new(next);
        }
    }

    /// Pieces served.
    pub fn pieces_held(&self) -> usize {
        self.held().count()
    }
}

impl PieceSource for StorageSource {
    fn info(&self) -> &Info {
        &self.info
    }

    fn held(&self) -> Arc<Bitfield> {
        self.held
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn read(&self, index: u32, begin: u32, length: u32) -> Result<Vec<u8>, PieceError> {
        if !self.held().has(index as usize) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use swarmlab_bt_wire::metainfo::Metainfo;

    #[test]
    fn a_growing_source_serves_a_piece_only_once_it_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.bin");
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&file, &data).unwrap();
        let t = crate::seed::make_torrent(&file, Some(16384), &[]).unwrap();
        let info = Metainfo::from_bytes(&t).unwrap().info;
        let (_, storage) = open_storage(&info, dir.path(), &LayoutLimits::default()).unwrap();
        let s = StorageSource::growing(info, Arc::new(Mutex::new(storage)), &[2]);
        let before = s.held();
        assert_eq!((before.len(), before.count()), (3, 1));
        assert!(matches!(s.read(0, 0, 100), Err(PieceError::NotHeld(0))));
        assert_eq!(s.read(2, 0, 100).unwrap(), data[32768..32868]);
        s.add_held(0);
        s.add_held(7); // out of range: ignored
        assert_eq!(s.read(0, 16, 100).unwrap(), data[16..116]);
        assert_eq!(s.pieces_held(), 2);
        // A snapshot taken before is not changed under its holder.
        assert_eq!(before.count(), 1);
    }
}
