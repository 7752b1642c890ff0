//! The chunk directory as BitTorrent storage: [`scan`] lists the chunks in
//! `chunks/<name>/` now, and [`ChunkSource`] serves the torrent's pieces from them.
//!
//! - **Held pieces**: piece `i` is held while `<hash of chunk i>.bin` is in the
//!   directory at the last scan (the watcher rescans on a short period; see
//!   [`super::PeerOptions::rescan`]). A chunk that appears is announced with `have` on
//!   the connections' next tick; one that disappears is no longer in the bitfield of
//!   new connections, but BitTorrent cannot un-have: a request for it finds no file
//!   and is rejected (BEP 6), or dropped for a peer without BEP 6.
//! - **Verified before first served**: a client that gets a piece that fails its
//!   SHA-1 check bans the peer, so the first request for a chunk hashes its whole
//!   file (1 MiB at a time, one chunk at a time for the whole peer) and compares it
//!   with the chunk's hash. A match is remembered by the file's size, modification
//!   time and inode, so a replaced or rewritten file is checked again; a mismatch,
//!   or a file of the wrong size, is never served (logged, the request rejected).
//!   Block and check read the same open file.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sha1::{Digest, Sha1};
use swarmlab_bt::server::PieceSource;
use swarmlab_bt::PieceError;
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_course_wire::ChunkHash;

use super::known::KnownPeers;
use crate::layout::chunk_file_name;
use crate::torrent::CourseTorrent;

/// Bytes hashed at a time when a chunk is verified.
const VERIFY_BUFFER: usize = 1 << 20;

/// The chunks whose file `<40 lowercase hex>.bin` is in `dir` (none when the
/// directory does not exist).
pub fn scan(dir: &Path) -> io::Result<HashSet<ChunkHash>> {
    let mut out = HashSet::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in rd {
        let e = e?;
        let name = e.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".bin")) else {
            continue;
        };
        let mut h = [0u8; 20];
        let lowercase = !stem.bytes().any(|b| b.is_ascii_uppercase());
        if lowercase && hex::decode_to_slice(stem, &mut h).is_ok() {
            out.insert(h);
        }
    }
    Ok(out)
}

/// What identifies one version of a chunk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl FileStamp {
    fn of(f: &File) -> io::Result<FileStamp> {
        let m = f.metadata()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(FileStamp {
            len: m.len(),
            modified: m.modified().ok(),
            inode,
        })
    }
}

/// A course file's pieces, served from one chunk directory. See the
/// [module documentation](self).
pub struct ChunkSource {
    torrent: Arc<CourseTorrent>,
    dir: PathBuf,
    held: Mutex<Arc<Bitfield>>,
    /// Chunks checked, by hash: the file version checked and whether it matched.
    checked: Mutex<HashMap<ChunkHash, (FileStamp, bool)>>,
    /// One chunk is verified at a time (bounds the memory and the disk load).
    verifying: Mutex<()>,
    known: Arc<KnownPeers>,
}

impl std::fmt::Debug for ChunkSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSource")
            .field("file_id", &self.torrent.file_id())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl ChunkSource {
    /// Serves `torrent` from `dir`, holding the chunks of `present`.
    pub fn new(
        torrent: Arc<CourseTorrent>,
        dir: PathBuf,
        present: &HashSet<ChunkHash>,
        known: Arc<KnownPeers>,
    ) -> ChunkSource {
        let s = ChunkSource {
            held: Mutex::new(Arc::new(Bitfield::new(torrent.chunks().len()))),
            torrent,
            dir,
            checked: Mutex::default(),
            verifying: Mutex::new(()),
            known,
        };
        s.set_present(present);
        s
    }

    /// The torrent served.
    pub fn torrent(&self) -> &Arc<CourseTorrent> {
        &self.torrent
    }

    /// The chunks in the directory now (from the latest scan).
    pub fn set_present(&self, present: &HashSet<ChunkHash>) {
        let chunks = self.torrent.chunks();
        let mut bits = Bitfield::new(chunks.len());
        for (i, h) in chunks.iter().enumerate() {
            if present.contains(h) {
                bits.set(i);
            }
        }
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if **held != bits {
            *held = Arc::new(bits);
        }
    }

    /// Opens chunk `index`'s file and checks it (once per file version).
    fn open_checked(&self, index: u32, hash: &ChunkHash) -> Result<File, PieceError> {
        let io = |source| PieceError::Io { index, source };
        let path = self.dir.join(chunk_file_name(hash));
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(PieceError::NotHeld(index))
            }
            Err(e) => return Err(io(e)),
        };
        let stamp = FileStamp::of(&f).map_err(io)?;
        let known = self.checked().get(hash).copied();
        let good = match known {
            Some((s, good)) if s == stamp => good,
            _ => {
                let good = self.verify(&mut f, index, hash, stamp, &path).map_err(io)?;
                self.checked().insert(*hash, (stamp, good));
                good
            }
        };
        if good {
            Ok(f)
        } else {
            Err(PieceError::Corrupt(index))
        }
    }

    fn checked(&self) -> std::sync::MutexGuard<'_, HashMap<ChunkHash, (FileStamp, bool)>> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the file is chunk `index`: its size and its SHA-1.
    fn verify(
        &self,
        f: &mut File,
        index: u32,
        hash: &ChunkHash,
        stamp: FileStamp,
        path: &Path,
    ) -> io::Result<bool> {
        let want = self.torrent.info().piece_size(index as usize);
        if stamp.len != want {
            tracing::warn!(
                "{}: {} bytes, but chunk {index} has {want}: not served over BitTorrent",
                path.display(),
                stamp.len
            );
            return Ok(false);
        }
        let _one = self
            .verifying
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f.seek(SeekFrom::Start(0))?;
        let mut sha = Sha1::new();
        let mut buf = vec![0u8; VERIFY_BUFFER.min(want as usize).max(1)];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => sha.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let good = <[u8; 20]>::from(sha.finalize()) == *hash;
        if !good {
            tracing::warn!(
                "{}: its SHA-1 is not its name: not served over BitTorrent",
                path.display()
            );
        }
        Ok(good)
    }
}

impl PieceSource for ChunkSource {
    fn info(&self) -> &Info {
        self.torrent.info()
    }

    fn held(&self) -> Arc<Bitfield> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn read(&self, index: u32, begin: u32, length: u32) -> Result<Vec<u8>, PieceError> {
        let hash = *self
            .torrent
            .chunks()
            .get(index as usize)
            .ok_or(PieceError::NotHeld(index))?;
        let size = self.torrent.info().piece_size(index as usize);
        if u64::from(begin) + u64::from(length) > size {
            return Err(PieceError::OutOfRange {
                index,
                begin,
                length,
            });
        }
        let mut f = self.open_checked(index, &hash)?;
        let io = |source| PieceError::Io { index, source };
        f.seek(SeekFrom::Start(u64::from(begin))).map_err(io)?;
        let mut data = vec![0u8; length as usize];
        f.read_exact(&mut data).map_err(io)?;
        Ok(data)
    }

    fn pex_peers(&self) -> Vec<SocketAddr> {
        self.known.list()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(dir: &Path, chunks: &[&[u8]]) -> ChunkSource {
        let hashes: Vec<ChunkHash> = chunks.iter().map(|c| crate::chunks::sha1(c)).collect();
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        let t = CourseTorrent::new("f.bin", len, chunks[0].len() as u64, &hashes).unwrap();
        for (c, h) in chunks.iter().zip(&hashes) {
            std::fs::write(dir.join(chunk_file_name(h)), c).unwrap();
        }
        let present = scan(dir).unwrap();
        ChunkSource::new(Arc::new(t), dir.to_owned(), &present, Arc::default())
    }

    #[test]
    fn the_scan_takes_only_chunk_names() {
        let d = tempfile::tempdir().unwrap();
        let h = [0xab; 20];
        for name in [
            chunk_file_name(&h),
            chunk_file_name(&h).to_uppercase().replace(".BIN", ".bin"),
            "abc.bin".into(),
            format!("{}.bin.tmp12", hex::encode(h)),
            "notes.txt".into(),
        ] {
            std::fs::write(d.path().join(name), b"x").unwrap();
        }
        assert_eq!(scan(d.path()).unwrap(), HashSet::from([h]));
        assert!(scan(&d.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn blocks_are_read_from_the_chunk_files() {
        let d = tempfile::tempdir().unwrap();
        let s = source(d.path(), &[b"0123456789", b"abcdefghij", b"xyz"]);
        assert_eq!(s.held().count(), 3);
        assert_eq!(s.read(1, 2, 5).unwrap(), b"cdefg");
        assert_eq!(s.read(2, 0, 3).unwrap(), b"xyz");
        assert!(matches!(
            s.read(2, 1, 3),
            Err(PieceError::OutOfRange { .. })
        ));
        assert!(matches!(s.read(3, 0, 1), Err(PieceError::NotHeld(3))));
    }

    /// The guard: a chunk file whose bytes are not its hash (same size) is never
    /// served, and one put right is served again.
    #[test]
    fn a_corrupt_chunk_is_never_served() {
        let d = tempfile::tempdir().unwrap();
        let s = source(d.path(), &[b"0123456789", b"abcdefghij"]);
        let p = d.path().join(chunk_file_name(&s.torrent.chunks()[1]));
        std::fs::write(&p, b"abcdefghiX").unwrap();
        assert!(matches!(s.read(1, 0, 5), Err(PieceError::Corrupt(1))));
        // Too short (the range exists in the piece, not in the file): refused too.
        std::fs::write(&p, b"abc").unwrap();
        assert!(matches!(s.read(1, 0, 2), Err(PieceError::Corrupt(1))));
        // Deleted: not held.
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(s.read(1, 0, 5), Err(PieceError::NotHeld(1))));
        // Put right (a new file): checked again and served.
        std::fs::write(&p, b"abcdefghij").unwrap();
        assert_eq!(s.read(1, 0, 5).unwrap(), b"abcde");
    }
}
