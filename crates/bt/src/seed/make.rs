//! The info dictionary of a file or a directory (BEP 3, v1): files in name order,
//! symbolic links skipped (never followed), pieces hashed in one pass.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_engine::verify::sha1;

use crate::error::SeedError;

/// The piece length for `total` bytes: a power of two giving about 1,500 pieces,
/// between 16 KiB and 4 MiB.
pub fn default_piece_length(total: u64) -> u64 {
    (total / 1500).next_power_of_two().clamp(16 << 10, 4 << 20)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SeedError + '_ {
    move |source| SeedError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The regular files under `dir`, recursively, sorted by path; links skipped.
fn walk(
    dir: &Path,
    rel: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, PathBuf, u64)>,
) -> Result<(), SeedError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e
            .file_name()
            .into_string()
            .map_err(|_| SeedError::Name(path.clone()))?;
        let ft = e.file_type().map_err(io(&path))?;
        if ft.is_symlink() {
            tracing::warn!("{}: symbolic link skipped", path.display());
        } else if ft.is_dir() {
            rel.push(name);
            walk(&path, rel, out)?;
            rel.pop();
        } else if ft.is_file() {
            let len = e.metadata().map_err(io(&path))?.len();
            let mut p = rel.clone();
            p.push(name);
            out.push((p, path, len));
        }
    }
    Ok(())
}

/// The `.torrent` file's bytes for `path` (a file or a directory), with
/// `piece_length` (default [`default_piece_length`]) and `trackers` (the first is
/// `announce`, all are in `announce-list`).
pub fn make_torrent(
    path: &Path,
    piece_length: Option<u64>,
    trackers: &[String],
) -> Result<Vec<u8>, SeedError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| SeedError::Name(path.to_path_buf()))?
        .to_string();
    let mut files = Vec::new();
    if meta.is_dir() {
        walk(path, &mut Vec::new(), &mut files)?;
    } else {
        files.push((vec![name.clone()], path.to_path_buf(), meta.len()));
    }
    let total: u64 = files.iter().map(|f| f.2).sum();
    if total == 0 {
        return Err(SeedError::Empty(path.to_path_buf()));
    }
    let pl = piece_length.unwrap_or_else(|| default_piece_length(total));
    let mut pieces = Vec::new();
    let mut buf = vec![0u8; pl as usize];
    let mut fill = 0usize;
    for (_, p, _) in &files {
        let mut f = File::open(p).map_err(io(p))?;
        loop {
            let n = f.read(&mut buf[fill..]).map_err(io(p))?;
            if n == 0 {
                break;
            }
            fill += n;
            if fill == buf.len() {
                pieces.extend_from_slice(&sha1(&buf));
                fill = 0;
            }
        }
    }
    if fill > 0 {
        pieces.extend_from_slice(&sha1(&buf[..fill]));
    }
    let mut info = vec![
        ("name", Value::bytes(name.as_bytes())),
        ("piece length", Value::Int(pl as i64)),
        ("pieces", Value::Bytes(pieces)),
    ];
    if meta.is_dir() {
        let list = files
            .iter()
            .map(|(rel, _, len)| {
                dict([
                    ("length", Value::Int(*len as i64)),
                    (
                        "path",
                        Value::List(rel.iter().map(|c| Value::bytes(c.as_bytes())).collect()),
                    ),
                ])
            })
            .collect();
        info.push(("files", Value::List(list)));
    } else {
        info.push(("length", Value::Int(total as i64)));
    }
    let mut top = vec![("info", dict(info))];
    if let Some(first) = trackers.first() {
        top.push(("announce", Value::bytes(first.as_bytes())));
        top.push((
            "announce-list",
            Value::List(
                trackers
                    .iter()
                    .map(|t| Value::List(vec![Value::bytes(t.as_bytes())]))
                    .collect(),
            ),
        ));
    }
    top.push((
        "created by",
        Value::bytes(concat!("swarmlab/", env!("CARGO_PKG_VERSION"))),
    ));
    Ok(dict(top).encode())
}
