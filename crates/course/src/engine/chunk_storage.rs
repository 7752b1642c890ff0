//! Charlie's chunk directory as a [`Storage`] of the shared engine, and resume on it.
//!
//! The download is a [`Layout::whole_pieces`](swarmlab_engine::Layout::whole_pieces)
//! one: piece `i` is the `i`-th unique chunk, fetched with one GET_CHUNK, stored as
//! `<dir>/<sha1 hex>.bin`. [`Storage::write`] puts a chunk under a temporary name
//! beside its final one; [`Storage::piece_verified`] renames it into place (so a kill
//! leaves either the whole chunk or none under its name). Chunk files are not fsynced:
//! every start hashes what is there ([`ChunkStorage::resume`], the engine's
//! [`verify_existing`]), so a chunk a crash left torn is found and fetched again; the
//! assembled file is fsynced by its writer.
//!
//! Every path is built from a chunk *index* into the manifest's hashes, never from
//! bytes a peer sent.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use swarmlab_course_wire::ChunkHash;
use swarmlab_engine::resume::verify_existing;
use swarmlab_engine::{Storage, StorageError};

use crate::layout::{chunk_file_name, temp_path};

/// The chunk directory of one download (cheap to clone: one per write task).
#[derive(Debug, Clone)]
pub(crate) struct ChunkStorage {
    dir: PathBuf,
    hashes: Arc<[ChunkHash]>,
}

impl ChunkStorage {
    /// The storage of the unique chunks `hashes` under `dir`.
    pub(crate) fn new(dir: PathBuf, hashes: Arc<[ChunkHash]>) -> ChunkStorage {
        ChunkStorage { dir, hashes }
    }

    /// The chunk directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, piece: u32) -> Result<PathBuf, StorageError> {
        let h = self
            .hashes
            .get(piece as usize)
            .ok_or(StorageError::OutOfRange {
                piece,
                begin: 0,
                length: 0,
            })?;
        Ok(self.dir.join(chunk_file_name(h)))
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
        move |source| StorageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// What an earlier run left: temporary files are removed, every chunk file is
    /// hashed, those that match are kept (their sizes returned, by index) and the
    /// others removed.
    pub(crate) fn resume(&mut self) -> Result<Vec<Option<u64>>, StorageError> {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().contains(".bin.tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let hashes = self.hashes.clone();
        let verified = verify_existing(self, &hashes, &mut |_| {})?;
        let mut sizes = vec![None; hashes.len()];
        for i in verified {
            sizes[i as usize] = self.stored_len(i).map(u64::from);
        }
        for (i, size) in sizes.iter().enumerate() {
            let p = self.path(i as u32)?;
            if size.is_none() && p.exists() {
                tracing::warn!("{}: digest does not match, fetching it again", p.display());
                let _ = fs::remove_file(&p);
            }
        }
        Ok(sizes)
    }
}

impl Storage for ChunkStorage {
    fn write(&mut self, piece: u32, begin: u32, data: &[u8]) -> Result<(), StorageError> {
        if begin != 0 {
            return Err(StorageError::OutOfRange {
                piece,
                begin: u64::from(begin),
                length: data.len() as u64,
            });
        }
        let tmp = temp_path(&self.path(piece)?);
        let result = fs::File::create(&tmp).and_then(|mut f| f.write_all(data));
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(Self::io(&tmp))
    }

    fn read(&self, piece: u32, begin: u32, buf: &mut [u8]) -> Result<bool, StorageError> {
        let path = self.path(piece)?;
        let mut f = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Self::io(&path)(e)),
        };
        f.seek(SeekFrom::Start(u64::from(begin)))
            .map_err(Self::io(&path))?;
        match f.read_exact(buf) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(Self::io(&path)(e)),
        }
    }

    fn stored_len(&self, piece: u32) -> Option<u32> {
        let len = fs::metadata(self.path(piece).ok()?).ok()?.len();
        u32::try_from(len).ok()
    }

    fn piece_verified(&mut self, piece: u32) -> Result<(), StorageError> {
        let path = self.path(piece)?;
        let tmp = temp_path(&path);
        match fs::rename(&tmp, &path) {
            Ok(()) => Ok(()),
            // Verified where it stands (resume): nothing to rename.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.exists() => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(Self::io(&tmp)(e))
            }
        }
    }

    fn piece_failed(&mut self, piece: u32) -> Result<(), StorageError> {
        let _ = fs::remove_file(temp_path(&self.path(piece)?));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::sha1;

    fn storage(dir: &Path, hashes: &[ChunkHash]) -> ChunkStorage {
        ChunkStorage::new(dir.to_path_buf(), hashes.to_vec().into())
    }

    #[test]
    fn resume_keeps_verified_chunks_and_removes_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let (good, bad) = (sha1(b"good"), sha1(b"bad"));
        fs::write(d.path().join(chunk_file_name(&good)), b"good").unwrap();
        fs::write(d.path().join(chunk_file_name(&bad)), b"torn").unwrap();
        fs::write(d.path().join("x.bin.tmp42"), b"half").unwrap();
        let found = storage(d.path(), &[good, bad, [0; 20]]).resume().unwrap();
        assert_eq!(found, [Some(4), None, None]);
        let left: Vec<_> = fs::read_dir(d.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1);
        assert_eq!(
            left[0].file_name().into_string().unwrap(),
            chunk_file_name(&good)
        );
    }

    #[test]
    fn a_chunk_gets_its_name_only_once_verified_and_a_failed_one_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (sha1(b"aaaa"), sha1(b"bb"));
        let mut s = storage(d.path(), &[a, b]);
        let final_a = d.path().join(chunk_file_name(&a));
        s.write(0, 0, b"aaaa").unwrap();
        assert!(!final_a.exists(), "not under its name before verification");
        assert_eq!(s.stored_len(0), None);
        s.piece_verified(0).unwrap();
        assert_eq!(fs::read(&final_a).unwrap(), b"aaaa");
        let mut buf = [0u8; 2];
        assert!(s.read(0, 2, &mut buf).unwrap());
        assert_eq!(&buf, b"aa");
        assert!(!s.read(0, 3, &mut buf).unwrap(), "short: not stored");
        assert!(!s.read(1, 0, &mut buf).unwrap(), "absent: not stored");
        s.write(1, 0, b"xx").unwrap();
        s.piece_failed(1).unwrap();
        let names: Vec<_> = fs::read_dir(d.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "the failed chunk's temporary file is gone");
        // Offsets inside a chunk and indices beyond the manifest are refused.
        assert!(matches!(
            s.write(0, 1, b"a"),
            Err(StorageError::OutOfRange { .. })
        ));
        assert!(matches!(
            s.write(2, 0, b"a"),
            Err(StorageError::OutOfRange { .. })
        ));
    }
}
