//! The course's directory layout under a root directory, and safe file writing.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use swarmlab_course_wire::ChunkHash;

use crate::error::UnsafeName;

/// The course's project tree: `config/peers.ini`, `config/file.ini`,
/// `config/file.torrent`, `files/`, `chunks/<name>/<sha1-hex>.bin`, all under one root
/// (`--root`, default `.`).
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config/peers.ini`.
    pub fn peers_ini(&self) -> PathBuf {
        self.root.join("config").join("peers.ini")
    }

    /// `config/file.ini`.
    pub fn file_ini(&self) -> PathBuf {
        self.root.join("config").join("file.ini")
    }

    /// `config/file.torrent`: the course file as a BitTorrent v1 torrent (its info-hash
    /// is the file id, see [`crate::torrent`]).
    pub fn file_torrent(&self) -> PathBuf {
        self.root.join("config").join("file.torrent")
    }

    /// `chunks/`, the parent of every peer's chunk directory.
    pub fn chunks_root(&self) -> PathBuf {
        self.root.join("chunks")
    }

    /// `files/`, where the original files are.
    pub fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    /// `chunks/<name>/`; `name` must be a plain name (see [`check_name`]).
    pub fn chunk_dir(&self, name: &str) -> PathBuf {
        self.root.join("chunks").join(name)
    }
}

/// The file name of a chunk: lowercase hex of its SHA-1 and `.bin`. Built only from the
/// 20 raw bytes, so no hash, whatever its bytes, names a path outside the directory.
pub fn chunk_file_name(hash: &ChunkHash) -> String {
    let mut s = hex::encode(hash);
    s.push_str(".bin");
    s
}

/// Accepts a name usable as one path component: not empty, not `.` or `..`, no `/`,
/// `\` or NUL, at most 255 bytes. Used for peer names and for file names that come from
/// the network (FILE_INFO) before a path is built from them.
pub fn check_name(name: &str) -> Result<&str, UnsafeName> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > 255
        || name.contains(['/', '\\', '\0']);
    if bad {
        Err(UnsafeName(name.to_owned()))
    } else {
        Ok(name)
    }
}

/// The temporary name a file is written under before it is renamed into place.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `data` to a temporary name beside `path`, fsyncs it, renames it to `path`
/// and fsyncs the directory: a reader, a restart after a kill or a crash sees the old
/// file or the whole new one, never a part.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, true)?;
    sync_parent(path)
}

/// [`write_atomic`] without the fsyncs, for a chunk that is verified by its SHA-1 at
/// every start (a chunk a crash left torn is found and fetched again): a kill still
/// leaves the old file or the whole new one.
pub fn write_atomic_unsynced(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, false)
}

fn write_via_temp(path: &Path, data: &[u8], sync: bool) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        if sync {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs the directory that holds `path`, so that a rename into it survives a crash.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs::File::open(dir)?.sync_all(),
        _ => fs::File::open(".")?.sync_all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "x\0y",
            &"n".repeat(256),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for ok in ["alice", "test.txt", "été.bin", "..hidden", "a..b"] {
            assert!(check_name(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn chunk_names_are_hex_whatever_the_bytes() {
        let mut h = [0u8; 20];
        h[..6].copy_from_slice(b"../../");
        let n = chunk_file_name(&h);
        assert_eq!(n.len(), 44);
        assert!(n.starts_with("2e2e2f2e2e2f"));
        assert!(check_name(&n).is_ok());
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two!").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two!");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
