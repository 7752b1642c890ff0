//! The file id, known before any network: from a magnet link, a bare `--file-id`, or
//! `config/file.torrent`; and the course's description of a file from its torrent
//! ([`crate::torrent::CourseTorrent`]).
//!
//! The file id is the info-hash of the file's torrent (`{length, name, piece length =
//! chunk size, pieces = the chunk hashes}`). FILE_INFO and file.ini carry no file
//! length, so the id cannot be computed from them: Charlie takes it from a magnet,
//! `--file-id` or `config/file.torrent` (which `chunks create` writes), and a lookup
//! of one chunk's hash needs no id at all.

use std::net::SocketAddr;

use futures::future::BoxFuture;
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::InfoHash;

use crate::discovery::{Found, Manifest, PeerSource, Query};
use crate::error::{DiscoveryError, TorrentError};
use crate::torrent::CourseTorrent;

/// A file known by its id, with what the link says besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The file id.
    pub file_id: InfoHash,
    /// The magnet's `dn` (informational: the name used is the info dictionary's).
    pub name: Option<String>,
    /// The magnet's `x.pe` peers that are `ip:port` literals (no name is resolved).
    pub peers: Vec<SocketAddr>,
    /// True when it came from a magnet link.
    pub magnet: bool,
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
            magnet: true,
        })
    }

    /// A bare file id: 40 hex digits (or 32 base32 characters).
    pub fn from_id(text: &str) -> Result<FileRef, DiscoveryError> {
        Ok(FileRef {
            file_id: InfoHash::parse(text)?,
            name: None,
            peers: Vec::new(),
            magnet: false,
        })
    }
}

/// The course's description of the file a torrent describes: its name and its
/// chunk hashes.
pub fn manifest_of(t: &CourseTorrent) -> Manifest {
    Manifest {
        filename: t.filename().to_owned(),
        chunks: t.chunks().to_vec(),
    }
}

/// The torrent of an info dictionary a peer sent (checked against the file id by
/// the session), read as a course file: one file, a safe name, pieces of at most
/// 64 MiB (as [`CourseTorrent::from_metainfo`] reads `config/file.torrent`).
pub fn torrent_of_metadata(raw: &[u8]) -> Result<CourseTorrent, TorrentError> {
    let mut metainfo = Vec::with_capacity(raw.len() + 8);
    metainfo.extend_from_slice(b"d4:info");
    metainfo.extend_from_slice(raw);
    metainfo.push(b'e');
    CourseTorrent::from_metainfo(&metainfo)
}

/// What is known before any network, as a source of the chain: the file id and the
/// magnet's peers, or a local torrent's id and description. It answers once.
pub struct IdentitySource {
    name: &'static str,
    found: Option<Found>,
}

impl IdentitySource {
    /// A magnet link (source `magnet`) or a bare file id (source `file id`).
    pub fn from_ref(r: &FileRef) -> IdentitySource {
        let name = if r.magnet { "magnet" } else { "file id" };
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
    pub fn from_torrent(t: &CourseTorrent) -> IdentitySource {
        let m = manifest_of(t);
        let detail = format!(
            "file id {}, {} chunks of {} from config/file.torrent",
            t.file_id(),
            m.chunks.len(),
            m.filename
        );
        IdentitySource {
            name: "torrent",
            found: Some(Found {
                file_id: Some(t.file_id()),
                manifest: Some(m),
                detail,
                ..Found::default()
            }),
        }
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
    fn metadata_is_read_as_a_course_file() {
        let t = CourseTorrent::new("f.bin", 10, 4, &[[1; 20], [2; 20], [3; 20]]).unwrap();
        let back = torrent_of_metadata(&t.info().raw).unwrap();
        assert_eq!(back.file_id(), t.file_id());
        assert_eq!(manifest_of(&back).chunks, [[1; 20], [2; 20], [3; 20]]);
        // An info dictionary whose name would leave its directory is refused.
        let mut raw = t.info().raw.clone();
        let at = raw.windows(5).position(|w| w == b"f.bin").unwrap();
        raw[at..at + 5].copy_from_slice(b"../..");
        assert!(torrent_of_metadata(&raw).is_err());
        assert!(torrent_of_metadata(b"not bencode").is_err());
    }
}
