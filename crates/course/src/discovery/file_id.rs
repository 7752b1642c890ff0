//! The file id, known before any network: from a magnet link, a bare `--file-id`, or
//! `config/file.torrent`; and the course's description of a file from its torrent.
//!
//! The file id is the info-hash of the file's torrent (`{length, name, piece length =
//! chunk size, pieces = the chunk hashes}`). FILE_INFO and file.ini carry no file
//! length, so the id cannot be computed from them: Charlie takes it from a magnet,
//! `--file-id` or `config/file.torrent` (which `chunks create` writes), and a lookup
//! of one chunk's hash needs no id at all.

use std::net::SocketAddr;
use std::path::Path;

use futures::future::BoxFuture;
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::metainfo::{Info, Metainfo, MAX_TORRENT_SIZE};
use swarmlab_bt_wire::InfoHash;
use swarmlab_course_wire::MAX_CHUNK_LEN;

use crate::discovery::{Found, Manifest, PeerSource, Query};
use crate::error::DiscoveryError;

/// A file known by its id, with what the link says besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The file id.
    pub file_id: InfoHash,
    /// The magnet's `dn` (informational: the name used is the info dictionary's).
    pub name: Option<String>,
    /// The magnet's `x.pe` peers that are `ip:port` literals (no name is resolved).
    pub peers: Vec<SocketAddr>,
}

impl FileRef {
    /// A magnet link: `magnet:?xt=urn:btih:<id>[&dn=…][&x.pe=ip:port…]`.
    pub fn from_magnet(link: &str) -> Result<FileRef, DiscoveryError> {
        let m = Magnet::parse(link)?;
        let mut peers = Vec::new();
        for p in &m.peers {
            match p.parse::<SocketAddr>() {
                Ok(a) if swarmlab_net::is_valid_peer(&a) => {
                    let a = swarmlab_net::canonical(a);
                    if !peers.contains(&a) {
                        peers.push(a);
                    }
                }
                _ => tracing::warn!("magnet x.pe={p:?} is not an ip:port: ignored"),
            }
        }
        Ok(FileRef {
            file_id: m.info_hash,
            name: m.display_name,
            peers,
        })
    }

    /// A bare file id: 40 hex digits (or 32 base32 characters).
    pub fn from_id(text: &str) -> Result<FileRef, DiscoveryError> {
        Ok(FileRef {
            file_id: InfoHash::parse(text)?,
            name: None,
            peers: Vec::new(),
        })
    }
}

/// Reads a torrent file (`config/file.torrent`); `Ok(None)` when there is none.
pub fn read_torrent(path: &Path) -> Result<Option<Info>, DiscoveryError> {
    let read_err = |source| DiscoveryError::TorrentRead {
        path: path.to_owned(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    if meta.len() > MAX_TORRENT_SIZE as u64 {
        return Err(DiscoveryError::Torrent {
            path: path.to_owned(),
            source: swarmlab_bt_wire::MetainfoError::TooLarge(meta.len() as usize),
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let m = Metainfo::from_bytes(&bytes).map_err(|source| DiscoveryError::Torrent {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(m.info))
}

/// The course's description of the file a torrent describes: its name and its
/// pieces as chunk hashes. Refused: a torrent of several files, or pieces larger than
/// a CHUNK carries (64 MiB).
pub fn manifest_of(info: &Info) -> Result<Manifest, DiscoveryError> {
    if info.multi_file {
        return Err(DiscoveryError::MultiFile(info.info_hash));
    }
    if info.piece_length > MAX_CHUNK_LEN as u64 {
        return Err(DiscoveryError::PieceTooLarge {
            piece_length: info.piece_length,
            max: MAX_CHUNK_LEN,
        });
    }
    Ok(Manifest {
        filename: info.name.clone(),
        chunks: info.pieces.clone(),
    })
}

/// What is known before any network, as a source of the chain: the file id and the
/// magnet's peers, or a local torrent's id and description. It answers once.
pub struct IdentitySource {
    name: &'static str,
    found: Option<Found>,
}

impl IdentitySource {
    /// A magnet link or a bare file id.
    pub fn from_ref(r: &FileRef, name: &'static str) -> IdentitySource {
        let detail = format!(
            "file id {}{}",
            r.file_id,
            match r.peers.len() {
                0 => String::new(),
                n => format!(", {n} peer(s) named by the link"),
            }
        );
        IdentitySource {
            name,
            found: Some(Found {
                file_id: Some(r.file_id),
                file_peers: r.peers.clone(),
                detail,
                ..Found::default()
            }),
        }
    }

    /// A torrent read from disk (`config/file.torrent`).
    pub fn from_info(info: &Info) -> Result<IdentitySource, DiscoveryError> {
        let m = manifest_of(info)?;
        let detail = format!(
            "file id {}, {} chunks of {} from config/file.torrent",
            info.info_hash,
            m.chunks.len(),
            m.filename
        );
        Ok(IdentitySource {
            name: "torrent",
            found: Some(Found {
                file_id: Some(info.info_hash),
                manifest: Some(m),
                detail,
                ..Found::default()
            }),
        })
    }
}

impl PeerSource for IdentitySource {
    fn name(&self) -> &str {
        self.name
    }

    fn discover<'a>(&'a mut self, _q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        let found = self
            .found
            .take()
            .unwrap_or_else(|| Found::nothing("nothing new"));
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_magnet_gives_the_id_and_its_literal_peers() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        let r = FileRef::from_magnet(&format!(
            "magnet:?xt=urn:btih:{id}&dn=demo.bin&x.pe=127.0.0.2:8001&x.pe=alice:8001&x.pe=0.0.0.0:1&x.pe=127.0.0.2:8001"
        ))
        .unwrap();
        assert_eq!(r.file_id.to_hex(), id);
        assert_eq!(r.name.as_deref(), Some("demo.bin"));
        assert_eq!(r.peers, vec!["127.0.0.2:8001".parse().unwrap()]);
        assert!(FileRef::from_magnet("http://x").is_err());
        assert!(FileRef::from_id("0123").is_err());
        assert_eq!(FileRef::from_id(id).unwrap().file_id.to_hex(), id);
    }

    #[test]
    fn a_torrent_of_pieces_larger_than_a_chunk_is_refused() {
        let info = |piece_length: u64, multi: bool| {
            let mut d = format!(
                "d6:lengthi{}e4:name1:f12:piece lengthi{piece_length}e6:pieces20:",
                piece_length
            );
            if multi {
                d = format!("d5:filesld6:lengthi{piece_length}e4:pathl1:feee4:name1:d12:piece lengthi{piece_length}e6:pieces20:");
            }
            let mut raw = d.into_bytes();
            raw.extend_from_slice(&[7; 20]);
            raw.push(b'e');
            Info::from_bytes(&raw).unwrap()
        };
        let ok = manifest_of(&info(MAX_CHUNK_LEN as u64, false)).unwrap();
        assert_eq!(ok.chunks, vec![[7; 20]]);
        assert_eq!(ok.filename, "f");
        assert!(matches!(
            manifest_of(&info(MAX_CHUNK_LEN as u64 + 1, false)),
            Err(DiscoveryError::PieceTooLarge { .. })
        ));
        assert!(matches!(
            manifest_of(&info(16, true)),
            Err(DiscoveryError::MultiFile(_))
        ));
    }

    #[test]
    fn no_torrent_file_is_none_and_a_bad_one_an_error() {
        let d = tempfile::tempdir().unwrap();
        assert!(read_torrent(&d.path().join("file.torrent"))
            .unwrap()
            .is_none());
        std::fs::write(d.path().join("bad.torrent"), b"not bencode").unwrap();
        assert!(matches!(
            read_torrent(&d.path().join("bad.torrent")),
            Err(DiscoveryError::Torrent { .. })
        ));
    }
}
