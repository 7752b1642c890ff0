//! The file id: a course file is a BitTorrent v1 torrent.
//!
//! A course file already is a torrent in all but name: its chunks are pieces of one
//! size, named by their SHA-1. [`CourseTorrent`] makes that explicit. Its info
//! dictionary is
//!
//! ```text
//! { "length": <file size>, "name": <filename>, "piece length": <chunk size>,
//!   "pieces": <the chunk hashes in file order, 20 raw bytes each> }
//! ```
//!
//! in canonical bencode (keys sorted, as BEP 3 asks), and the SHA-1 of those bytes,
//! the info-hash, is the **file id**: the DHT key of the whole file (the DHT key of
//! one chunk is its own SHA-1). `config/file.torrent` is a metainfo holding only that
//! dictionary (no tracker: peers are found through the DHT, PEX or the magnet's
//! `x.pe`).
//!
//! **The piece length is the size of the first chunk.** That is the chunk size for
//! every file of two chunks or more; for a file of one chunk it is the file's size,
//! whatever `--chunk-size` said, so that `chunks create` and `chunks torrent` (which
//! sees only the chunk files) give the same file id for the same file.
//!
//! - [`CourseTorrent::new`]: from the name, length, piece length and hashes;
//! - [`CourseTorrent::from_chunks`]: from `config/file.ini` plus the chunk files
//!   under `chunks/*/` (chunks made by the course's own scripts included), checking
//!   that every chunk but the last has the chunk size;
//! - [`CourseTorrent::from_metainfo`], [`CourseTorrent::load`]: `config/file.torrent`;
//! - [`CourseTorrent::for_layout`]: what a peer serves: file.torrent when it agrees
//!   with file.ini, else built from file.ini and the chunk files;
//! - [`CourseTorrent::write`], [`CourseTorrent::magnet`].

use std::collections::HashMap;
use std::fs;
use std::io;
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::metainfo::{Info, Metainfo};
use swarmlab_bt_wire::InfoHash;
use swarmlab_course_wire::{ChunkHash, MAX_CHUNK_LEN};

use crate::config::{FileIni, PeersIni};
use crate::error::{ConfigError, TorrentError};
use crate::layout::{check_name, chunk_file_name, write_atomic, Layout};

/// A course file as a BitTorrent v1 torrent. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct CourseTorrent {
    info: Info,
}

impl CourseTorrent {
    /// The torrent of `filename`: `length` bytes in pieces of `piece_length` whose
    /// SHA-1s are `pieces`, in order.
    pub fn new(
        filename: &str,
        length: u64,
        piece_length: u64,
        pieces: &[ChunkHash],
    ) -> Result<CourseTorrent, TorrentError> {
        check_name(filename)?;
        if pieces.is_empty() {
            return Err(TorrentError::NoChunks);
        }
        if piece_length == 0 || piece_length > MAX_CHUNK_LEN as u64 {
            return Err(TorrentError::PieceLength(piece_length));
        }
        let raw = dict([
            ("length", Value::Int(to_int(length)?)),
            ("name", Value::bytes(filename)),
            ("piece length", Value::Int(to_int(piece_length)?)),
            ("pieces", Value::Bytes(pieces.concat())),
        ])
        .encode();
        let info = Info::from_bytes(&raw)?;
        Ok(CourseTorrent { info })
    }

    /// The torrent of the file `config/file.ini` describes, the sizes taken from its
    /// chunk files in any directory under `chunks/` (see [`chunk_sizes`]).
    pub fn from_chunks(layout: &Layout, ini: &FileIni) -> Result<CourseTorrent, TorrentError> {
        if ini.chunks.is_empty() {
            return Err(TorrentError::NoChunks);
        }
        let sizes = chunk_sizes(layout, &ini.chunks)?;
        let piece_length = sizes[0];
        let last = sizes.len() - 1;
        for (index, &size) in sizes.iter().enumerate() {
            let bad = if index < last {
                size != piece_length
            } else {
                size == 0 || size > piece_length
            };
            if bad {
                return Err(TorrentError::ChunkSize {
                    index,
                    hash: hex::encode(ini.chunks[index]),
                    size,
                    chunk_size: piece_length,
                    last: index == last,
                });
            }
        }
        let length = sizes.iter().sum();
        CourseTorrent::new(&ini.filename, length, piece_length, &ini.chunks)
    }

    /// Parses the bytes of a `config/file.torrent` (any single-file v1 torrent).
    pub fn from_metainfo(bytes: &[u8]) -> Result<CourseTorrent, TorrentError> {
        let m = Metainfo::from_bytes(bytes)?;
        if m.info.multi_file {
            return Err(TorrentError::MultiFile);
        }
        if m.info.piece_length > MAX_CHUNK_LEN as u64 {
            return Err(TorrentError::PieceLength(m.info.piece_length));
        }
        check_name(&m.info.name)?;
        Ok(CourseTorrent { info: m.info })
    }

    /// Reads `config/file.torrent`.
    pub fn load(layout: &Layout) -> Result<CourseTorrent, TorrentError> {
        let path = layout.file_torrent();
        let bytes = fs::read(&path).map_err(|source| TorrentError::Io { path, source })?;
        CourseTorrent::from_metainfo(&bytes)
    }

    /// What a peer serves over BitTorrent: `config/file.torrent` when it exists and
    /// lists the chunks of `config/file.ini` (or file.ini is absent); otherwise the
    /// torrent built from file.ini and the chunk files ([`CourseTorrent::from_chunks`]).
    pub fn for_layout(layout: &Layout) -> Result<CourseTorrent, TorrentError> {
        let ini = match FileIni::load(&layout.file_ini()) {
            Ok(ini) => Some(ini),
            Err(ConfigError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                None
            }
            Err(e) => return Err(e.into()),
        };
        let from_file = if layout.file_torrent().exists() {
            Some(CourseTorrent::load(layout))
        } else {
            None
        };
        match (from_file, ini) {
            (Some(Ok(t)), Some(ini)) if t.info.pieces == ini.chunks => Ok(t),
            (Some(Ok(_)), Some(ini)) => {
                tracing::warn!(
                    "{} does not list the chunks of {}: using file.ini and the chunk files",
                    layout.file_torrent().display(),
                    layout.file_ini().display()
                );
                CourseTorrent::from_chunks(layout, &ini)
            }
            (Some(t), None) => t,
            (Some(Err(e)), Some(ini)) => {
                tracing::warn!("{e}: using file.ini and the chunk files");
                CourseTorrent::from_chunks(layout, &ini)
            }
            (None, Some(ini)) => CourseTorrent::from_chunks(layout, &ini),
            (None, None) => Err(TorrentError::NoDescription(layout.file_ini())),
        }
    }

    /// The file id: the info-hash.
    pub fn file_id(&self) -> InfoHash {
        self.info.info_hash
    }

    /// The info dictionary (its `raw` bytes are what ut_metadata serves).
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// The file's name.
    pub fn filename(&self) -> &str {
        &self.info.name
    }

    /// The chunk hashes, in file order.
    pub fn chunks(&self) -> &[ChunkHash] {
        &self.info.pieces
    }

    /// The metainfo file: `{"info": <the info dictionary>}`, nothing else.
    pub fn metainfo(&self) -> Vec<u8> {
        let mut out = b"d4:info".to_vec();
        out.extend_from_slice(&self.info.raw);
        out.push(b'e');
        out
    }

    /// Writes `config/file.torrent` (temporary name, fsync, rename).
    pub fn write(&self, layout: &Layout) -> Result<PathBuf, TorrentError> {
        let path = layout.file_torrent();
        let io = |source| TorrentError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        write_atomic(&path, &self.metainfo()).map_err(io)?;
        Ok(path)
    }

    /// The magnet link: `magnet:?xt=urn:btih:<hex>&dn=<name>`, then `&x.pe=ip:port`
    /// for every peer given (written verbatim, as libtorrent 2.0 reads them).
    pub fn magnet(&self, peers: &[SocketAddrV4]) -> String {
        Magnet {
            info_hash: self.file_id(),
            display_name: Some(self.info.name.clone()),
            trackers: Vec::new(),
            peers: peers.iter().map(ToString::to_string).collect(),
        }
        .to_link()
    }
}

fn to_int(n: u64) -> Result<i64, TorrentError> {
    i64::try_from(n).map_err(|_| TorrentError::TooLarge(n))
}

/// The size of each chunk of `chunks`, from its file in any directory under
/// `chunks/`. A chunk found nowhere, or with two sizes in two directories, is an error
/// that names it.
pub fn chunk_sizes(layout: &Layout, chunks: &[ChunkHash]) -> Result<Vec<u64>, TorrentError> {
    let root = layout.chunks_root();
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TorrentError::Io { path, source }
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    match fs::read_dir(&root) {
        Ok(rd) => {
            for e in rd {
                let e = e.map_err(io(&root))?;
                if e.file_type().map_err(io(&e.path()))?.is_dir() {
                    dirs.push(e.path());
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&root)(e)),
    }
    dirs.sort();
    let mut known: HashMap<ChunkHash, (u64, PathBuf)> = HashMap::new();
    let mut sizes = Vec::with_capacity(chunks.len());
    for (index, hash) in chunks.iter().enumerate() {
        if let Some((size, _)) = known.get(hash) {
            sizes.push(*size);
            continue;
        }
        let name = chunk_file_name(hash);
        let mut found: Option<(u64, PathBuf)> = None;
        for dir in &dirs {
            let path = dir.join(&name);
            let size = match fs::metadata(&path) {
                Ok(m) if m.is_file() => m.len(),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            match &found {
                Some((s, first)) if *s != size => {
                    return Err(TorrentError::SizeConflict {
                        index,
                        first: first.clone(),
                        first_size: *s,
                        second: path,
                        second_size: size,
                    })
                }
                Some(_) => {}
                None => found = Some((size, path)),
            }
        }
        let Some((size, path)) = found else {
            return Err(TorrentError::NoChunkFile {
                index,
                name,
                dir: root,
            });
        };
        sizes.push(size);
        known.insert(*hash, (size, path));
    }
    Ok(sizes)
}

/// The peers `config/file.ini` assigns chunks to, in order of first mention, as
/// `config/peers.ini` places them (names it does not define are left out). No
/// peers.ini: none.
pub fn assigned_peers(layout: &Layout, ini: &FileIni) -> Vec<SocketAddrV4> {
    let Ok(peers) = PeersIni::load(&layout.peers_ini()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in ini.chunk_peers.iter().flatten() {
        if let Some(a) = peers.get(name) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks;

    /// Setup A of course-vectors.md: hello.txt, chunk size 10.
    fn setup_a() -> (tempfile::TempDir, Layout) {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path());
        fs::create_dir_all(l.files_dir()).unwrap();
        fs::write(
            l.files_dir().join("hello.txt"),
            b"The quick brown fox jumps",
        )
        .unwrap();
        chunks::create(&l, "hello.txt", 10).unwrap();
        (d, l)
    }

    #[test]
    fn setup_a_has_the_file_id_libtorrent_computes() {
        let (_d, l) = setup_a();
        let ini = FileIni::load(&l.file_ini()).unwrap();
        let t = CourseTorrent::from_chunks(&l, &ini).unwrap();
        // libtorrent 2.0.8: torrent_info(bencode({info: {length: 25, name: hello.txt,
        // piece length: 10, pieces: the three hashes}})).info_hash()
        assert_eq!(
            t.file_id().to_hex(),
            "febbf8e95b049176d890551d584ed319f19d62de"
        );
        assert!(t
            .info()
            .raw
            .starts_with(b"d6:lengthi25e4:name9:hello.txt12:piece lengthi10e6:pieces60:"));
        assert_eq!(t.info().piece_length, 10);
        assert_eq!(t.info().total_length(), 25);
        let again = CourseTorrent::from_metainfo(&t.metainfo()).unwrap();
        assert_eq!(again.file_id(), t.file_id());
        let peers = ["127.0.0.1:8001".parse().unwrap()];
        assert_eq!(
            t.magnet(&peers),
            "magnet:?xt=urn:btih:febbf8e95b049176d890551d584ed319f19d62de&dn=hello.txt&x.pe=127.0.0.1:8001"
        );
    }

    #[test]
    fn sizes_come_from_any_chunk_directory_and_are_checked() {
        let (_d, l) = setup_a();
        let ini = FileIni::load(&l.file_ini()).unwrap();
        // Alice's copy of chunk 1 moves to another directory: still found.
        let name = chunk_file_name(&ini.chunks[1]);
        fs::create_dir_all(l.chunk_dir("dave")).unwrap();
        fs::rename(
            l.chunk_dir("alice").join(&name),
            l.chunk_dir("dave").join(&name),
        )
        .unwrap();
        assert!(CourseTorrent::from_chunks(&l, &ini).is_ok());
        // Two sizes for one chunk.
        fs::write(l.chunk_dir("dave").join(&name), b"0123456789x").unwrap();
        let e = CourseTorrent::from_chunks(&l, &ini).unwrap_err();
        assert!(
            matches!(e, TorrentError::SizeConflict { index: 1, .. }),
            "{e}"
        );
        // A middle chunk shorter than the first (Bob's copy too).
        fs::write(l.chunk_dir("dave").join(&name), b"012345678").unwrap();
        fs::write(l.chunk_dir("bob").join(&name), b"012345678").unwrap();
        let e = CourseTorrent::from_chunks(&l, &ini).unwrap_err();
        assert!(
            matches!(
                e,
                TorrentError::ChunkSize {
                    index: 1,
                    size: 9,
                    chunk_size: 10,
                    last: false,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("every chunk but the last must have the first chunk's 10 bytes"),
            "{e}"
        );
        // A missing chunk.
        fs::remove_file(l.chunk_dir("dave").join(&name)).unwrap();
        fs::remove_file(l.chunk_dir("bob").join(&name)).unwrap();
        let e = CourseTorrent::from_chunks(&l, &ini).unwrap_err();
        assert!(
            matches!(e, TorrentError::NoChunkFile { index: 1, .. }),
            "{e}"
        );
    }

    #[test]
    fn a_last_chunk_longer_than_the_first_is_refused() {
        let (_d, l) = setup_a();
        let ini = FileIni::load(&l.file_ini()).unwrap();
        let last = chunk_file_name(&ini.chunks[2]);
        fs::write(l.chunk_dir("bob").join(&last), b"jumps over it").unwrap();
        let e = CourseTorrent::from_chunks(&l, &ini).unwrap_err();
        assert!(
            matches!(
                e,
                TorrentError::ChunkSize {
                    index: 2,
                    size: 13,
                    last: true,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn one_chunk_files_take_the_chunk_s_size_as_piece_length() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path());
        fs::create_dir_all(l.files_dir()).unwrap();
        fs::write(l.files_dir().join("s.bin"), vec![3u8; 3000]).unwrap();
        let ini = chunks::create(&l, "s.bin", 512 * 1024).unwrap();
        let t = CourseTorrent::from_chunks(&l, &ini).unwrap();
        assert_eq!(t.info().piece_length, 3000);
    }

    #[test]
    fn a_peer_uses_file_torrent_only_when_it_agrees_with_file_ini() {
        let (_d, l) = setup_a();
        let ini = FileIni::load(&l.file_ini()).unwrap();
        let good = CourseTorrent::from_chunks(&l, &ini).unwrap();
        assert!(matches!(
            CourseTorrent::for_layout(&l),
            Ok(t) if t.file_id() == good.file_id()
        ));
        // A stale file.torrent (another file) is not served.
        let stale = CourseTorrent::new("other.bin", 5, 5, &[[9u8; 20]]).unwrap();
        stale.write(&l).unwrap();
        assert_eq!(
            CourseTorrent::for_layout(&l).unwrap().file_id(),
            good.file_id()
        );
        // Without file.ini, file.torrent alone.
        fs::remove_file(l.file_ini()).unwrap();
        assert_eq!(
            CourseTorrent::for_layout(&l).unwrap().file_id(),
            stale.file_id()
        );
        fs::remove_file(l.file_torrent()).unwrap();
        assert!(matches!(
            CourseTorrent::for_layout(&l),
            Err(TorrentError::NoDescription(_))
        ));
    }

    #[test]
    fn hostile_torrents_are_refused() {
        let multi = dict([(
            "info",
            dict([
                (
                    "files",
                    Value::List(vec![dict([
                        ("length", Value::Int(1)),
                        ("path", Value::List(vec![Value::bytes("a")])),
                    ])]),
                ),
                ("name", Value::bytes("d")),
                ("piece length", Value::Int(16)),
                ("pieces", Value::bytes(vec![0u8; 20])),
            ]),
        )])
        .encode();
        assert!(matches!(
            CourseTorrent::from_metainfo(&multi),
            Err(TorrentError::MultiFile)
        ));
        let escape = dict([(
            "info",
            dict([
                ("length", Value::Int(1)),
                ("name", Value::bytes("../x")),
                ("piece length", Value::Int(16)),
                ("pieces", Value::bytes(vec![0u8; 20])),
            ]),
        )])
        .encode();
        assert!(matches!(
            CourseTorrent::from_metainfo(&escape),
            Err(TorrentError::Name(_))
        ));
        assert!(matches!(
            CourseTorrent::new("x", 1, MAX_CHUNK_LEN as u64 + 1, &[[0; 20]]),
            Err(TorrentError::PieceLength(_))
        ));
        assert!(matches!(
            CourseTorrent::new("x", 0, 10, &[]),
            Err(TorrentError::NoChunks)
        ));
    }
}
