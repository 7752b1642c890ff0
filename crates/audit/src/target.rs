//! Resolving the audit TARGET: a `.torrent` file, a magnet link or a bare info-hash.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use swarmlab_bt_wire::magnet::{Magnet, MagnetError};
use swarmlab_bt_wire::metainfo::{Info, Metainfo, MetainfoError, MAX_TORRENT_SIZE};
use swarmlab_bt_wire::InfoHash;

/// Errors resolving a target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The .torrent file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The .torrent file is invalid.
    #[error("invalid .torrent file {path}: {source}")]
    Torrent {
        /// The path given.
        path: String,
        /// Why.
        source: MetainfoError,
    },
    /// The magnet link is invalid.
    #[error("invalid magnet link: {0}")]
    Magnet(#[from] MagnetError),
    /// Neither a file, a magnet link, nor an info-hash.
    #[error("TARGET must be a .torrent file, a magnet link or a 40-hex info-hash: {0:?} is none of these")]
    Unrecognised(String),
}

/// What is being audited.
#[derive(Debug, Clone)]
pub struct Target {
    /// The info-hash.
    pub info_hash: InfoHash,
    /// The info dictionary, if known (from the file, or fetched with ut_metadata).
    pub info: Option<Arc<Info>>,
    /// A display name.
    pub name: Option<String>,
    /// Trackers from the file or the magnet link.
    pub trackers: Vec<String>,
    /// Peers from the magnet link's `x.pe`.
    pub peers: Vec<SocketAddr>,
    /// How the target was given: "torrent", "magnet" or "info-hash".
    pub kind: &'static str,
}

impl Target {
    /// Parse TARGET as given on the command line.
    pub fn resolve(target: &str) -> Result<Target, TargetError> {
        let t = target.trim();
        if t.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("magnet:"))
        {
            let m = Magnet::parse(t)?;
            return Ok(Target {
                info_hash: m.info_hash,
                info: None,
                name: m.display_name,
                trackers: m.trackers,
                peers: m.peers.iter().filter_map(|p| p.parse().ok()).collect(),
                kind: "magnet",
            });
        }
        if t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit()) && !Path::new(t).exists() {
            let info_hash = InfoHash::parse(t).map_err(|_| TargetError::Unrecognised(t.into()))?;
            return Ok(Target::from_info_hash(info_hash));
        }
        let path = Path::new(t);
        if path.is_file() {
            return Target::from_file(path);
        }
        Err(TargetError::Unrecognised(t.chars().take(200).collect()))
    }

    /// A target known only by its info-hash.
    pub fn from_info_hash(info_hash: InfoHash) -> Target {
        Target {
            info_hash,
            info: None,
            name: None,
            trackers: Vec::new(),
            peers: Vec::new(),
            kind: "info-hash",
        }
    }

    /// Read and parse a .torrent file.
    pub fn from_file(path: &Path) -> Result<Target, TargetError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| TargetError::Read {
            path: shown.clone(),
            source: e,
        })?;
        if meta.len() > MAX_TORRENT_SIZE as u64 {
            return Err(TargetError::Torrent {
                path: shown,
                source: MetainfoError::TooLarge(meta.len() as usize),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| TargetError::Read {
            path: shown.clone(),
            source: e,
        })?;
        let m = Metainfo::from_bytes(&bytes).map_err(|e| TargetError::Torrent {
            path: shown,
            source: e,
        })?;
        Ok(Target {
            info_hash: m.info_hash(),
            name: Some(m.info.name.clone()),
            info: Some(Arc::new(m.info)),
            trackers: m.trackers,
            peers: Vec::new(),
            kind: "torrent",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_each_kind_and_rejects_garbage() {
        let h = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
        let t = Target::resolve(h).unwrap();
        assert_eq!(t.kind, "info-hash");
        assert_eq!(t.info_hash.to_hex(), h);
        let t = Target::resolve(&format!(
            "magnet:?xt=urn:btih:{h}&dn=x&tr=udp://127.0.0.1:1&x.pe=127.0.0.2:5"
        ))
        .unwrap();
        assert_eq!(t.kind, "magnet");
        assert_eq!(t.trackers, vec!["udp://127.0.0.1:1"]);
        assert_eq!(t.peers, vec!["127.0.0.2:5".parse::<SocketAddr>().unwrap()]);
        assert!(matches!(
            Target::resolve("magnet:?xt=urn:btih:123"),
            Err(TargetError::Magnet(_))
        ));
        assert!(matches!(
            Target::resolve("magnét:?x"),
            Err(TargetError::Unrecognised(_))
        ));
        assert!(matches!(
            Target::resolve("/nonexistent/x.torrent"),
            Err(TargetError::Unrecognised(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.torrent");
        std::fs::write(&p, b"d4:infod6:lengthi5e").unwrap();
        let e = Target::resolve(p.to_str().unwrap()).unwrap_err();
        assert!(matches!(e, TargetError::Torrent { .. }), "{e}");
        assert!(e.to_string().contains("invalid .torrent"));
    }
}
