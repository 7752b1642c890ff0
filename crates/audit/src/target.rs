//! Resolving the audit TARGET: a `.torrent` file, a magnet link or a bare info-hash.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::metainfo::{Info, Metainfo, MAX_TORRENT_SIZE};
use swarmlab_bt_wire::InfoHash;

use crate::error::TargetError;

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

    /// Read and parse a .torrent file. A file over
    /// [`MAX_TORRENT_SIZE`] is refused without being read, and the read itself is
    /// capped (a file that grows, or a device, cannot make it read more).
    pub fn from_file(path: &Path) -> Result<Target, TargetError> {
        let shown = path.display().to_string();
        let read_err = |source| TargetError::Read {
            path: shown.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let size = file.metadata().map_err(read_err)?.len();
        if size > MAX_TORRENT_SIZE as u64 {
            return Err(TargetError::TooLarge { path: shown, size });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(MAX_TORRENT_SIZE as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() > MAX_TORRENT_SIZE {
            return Err(TargetError::TooLarge {
                path: shown,
                size: bytes.len() as u64,
            });
        }
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

    /// `MAX_TORRENT_SIZE` on files, first guard: a (sparse) file over the cap is
    /// refused from its size, before anything is read. Without the size check the
    /// capped read below would still refuse it, but only after reading 64 MiB, and
    /// it would report the bytes it read, not the file's size.
    #[test]
    fn a_torrent_file_over_the_cap_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("huge.torrent");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(2 * MAX_TORRENT_SIZE as u64).unwrap();
        let e = Target::from_file(&p).unwrap_err();
        assert!(
            matches!(e, TargetError::TooLarge { size, .. } if size == 2 * MAX_TORRENT_SIZE as u64),
            "{e}"
        );
        assert!(e.to_string().contains("larger than a .torrent file may be"));
    }

    /// Second guard: the read itself is capped, for files whose size says nothing
    /// (a FIFO says 0). One byte over the cap through a FIFO is refused after
    /// `MAX_TORRENT_SIZE + 1` bytes; without the cap it would be read whole and
    /// refused by the parser as an invalid torrent instead.
    #[test]
    fn the_read_is_capped_whatever_the_size_says() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo.torrent");
        let ok = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo (coreutils) is needed for this test");
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                let chunk = vec![b'x'; 1 << 20];
                for _ in 0..MAX_TORRENT_SIZE >> 20 {
                    if f.write_all(&chunk).is_err() {
                        return;
                    }
                }
                let _ = f.write_all(b"x");
            })
        };
        let e = Target::from_file(&p).unwrap_err();
        writer.join().unwrap();
        assert!(
            matches!(e, TargetError::TooLarge { size, .. } if size == MAX_TORRENT_SIZE as u64 + 1),
            "{e}"
        );
    }
}
