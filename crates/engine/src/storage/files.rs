//! [`FileStorage`]: a torrent's files under an output directory.
//!
//! Every path is checked when the storage is opened ([`safe_relative_path`], no
//! two files at one path, no file where another needs a directory, no symbolic
//! link on the way), before anything is created. A file is written as
//! `<name>.part` and, once every piece that covers it is verified, fsynced and
//! renamed to `<name>` (and its directory fsynced), so a complete name on disk
//! always holds verified bytes and a kill leaves only `.part` files to resume from.
//! A complete file whose piece fails verification at resume is renamed back to
//! `.part` before it is written.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::path::safe_relative_path;
use super::Storage;
use crate::error::StorageError;
use crate::Layout;

/// Most files kept open for writing at once.
const MAX_OPEN: usize = 64;

/// One file of a torrent, as its metainfo gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// Path components (unchecked: [`FileStorage::open`] checks them).
    pub path: Vec<String>,
    /// Length in bytes.
    pub length: u64,
}

#[derive(Debug)]
struct FileState {
    /// Relative path (checked), for messages.
    rel: PathBuf,
    final_path: PathBuf,
    part_path: PathBuf,
    offset: u64,
    length: u64,
    /// Renamed to its final name (all its pieces verified, or found complete).
    complete: bool,
}

/// A torrent's files under a directory. See the [module documentation](self).
#[derive(Debug)]
pub struct FileStorage {
    root: PathBuf,
    layout: Layout,
    files: Vec<FileState>,
    verified: Vec<bool>,
    open: HashMap<usize, File>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn with_part_suffix(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

impl FileStorage {
    /// The storage of a torrent named `name` with `files` under `dir` (created if
    /// absent). A multi-file torrent goes in `dir/name/…`, a single file is
    /// `dir/name`. Fails, before creating anything but `dir`, on an unsafe path,
    /// a duplicate, a symbolic link on the way, or lengths that do not add up to
    /// the layout.
    pub fn open(
        dir: &Path,
        name: &str,
        files: &[FileSpec],
        multi_file: bool,
        layout: Layout,
    ) -> Result<FileStorage, StorageError> {
        let sum = files
            .iter()
            .try_fold(0u64, |a, f| a.checked_add(f.length))
            .unwrap_or(u64::MAX);
        if sum != layout.total() {
            return Err(StorageError::SizeMismatch {
                files: sum,
                layout: layout.total(),
            });
        }
        let mut rels = Vec::with_capacity(files.len());
        for f in files {
            let mut comps = vec![name.to_string()];
            if multi_file {
                comps.extend(f.path.iter().cloned());
            }
            rels.push(safe_relative_path(&comps)?);
        }
        // No two files at one path (or at each other's temporary name), no file
        // where another needs a directory.
        let mut names: HashSet<PathBuf> = HashSet::new();
        let mut dirs: HashSet<PathBuf> = HashSet::new();
        for r in &rels {
            for a in r.ancestors().skip(1) {
                if !a.as_os_str().is_empty() {
                    dirs.insert(a.to_path_buf());
                }
            }
        }
        for r in &rels {
            let dup = || StorageError::DuplicatePath(r.display().to_string());
            if dirs.contains(r) || !names.insert(r.clone()) || !names.insert(with_part_suffix(r)) {
                return Err(dup());
            }
        }
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let root = fs::canonicalize(dir).map_err(io_err(dir))?;
        let mut out = Vec::with_capacity(files.len());
        let mut offset = 0;
        for (f, rel) in files.iter().zip(rels) {
            let final_path = root.join(&rel);
            let part_path = with_part_suffix(&final_path);
            no_symlink_on_the_way(&root, &rel)?;
            let complete =
                fs::symlink_metadata(&final_path).is_ok_and(|m| m.is_file() && m.len() == f.length);
            out.push(FileState {
                rel,
                final_path,
                part_path,
                offset,
                length: f.length,
                complete,
            });
            offset += f.length;
        }
        let mut s = FileStorage {
            root,
            layout,
            files: out,
            verified: vec![false; layout.num_pieces() as usize],
            open: HashMap::new(),
        };
        // Empty files depend on no piece: create them now.
        for i in 0..s.files.len() {
            if s.files[i].length == 0 && !s.files[i].complete {
                s.finish(i)?;
            }
        }
        Ok(s)
    }

    /// The directory the files go under (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The final path of every file.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.final_path.clone()).collect()
    }

    /// True when every file has its final name.
    pub fn is_complete(&self) -> bool {
        self.files.iter().all(|f| f.complete)
    }

    /// The files overlapping `[start, start + len)` of the torrent, with the range
    /// inside each: (file index, offset in file, offset in the range, length).
    fn spans(&self, start: u64, len: u64) -> Vec<(usize, u64, usize, usize)> {
        let end = start + len;
        let first = self.files.partition_point(|f| f.offset + f.length <= start);
        let mut out = Vec::new();
        for (i, f) in self.files.iter().enumerate().skip(first) {
            if f.offset >= end {
                break;
            }
            if f.length == 0 {
                continue;
            }
            let a = start.max(f.offset);
            let b = end.min(f.offset + f.length);
            out.push((i, a - f.offset, (a - start) as usize, (b - a) as usize));
        }
        out
    }

    fn range(&self, piece: u32, begin: u32, len: usize) -> Result<u64, StorageError> {
        let size = self.layout.piece_size(piece);
        if piece >= self.layout.num_pieces() || u64::from(begin) + len as u64 > u64::from(size) {
            return Err(StorageError::OutOfRange {
                piece,
                begin: u64::from(begin),
                length: len as u64,
            });
        }
        Ok(self.layout.piece_offset(piece) + u64::from(begin))
    }

    /// The open `.part` file `i`, created (with its directories, checked) at its
    /// length when absent; a complete file is first renamed back to `.part`.
    fn handle(&mut self, i: usize) -> Result<&mut File, StorageError> {
        if !self.open.contains_key(&i) {
            if self.open.len() >= MAX_OPEN {
                self.open.clear();
            }
            let f = &mut self.files[i];
            no_symlink_on_the_way(&self.root, &f.rel)?;
            if f.complete {
                fs::rename(&f.final_path, &f.part_path).map_err(io_err(&f.final_path))?;
                f.complete = false;
            }
            if let Some(parent) = f.part_path.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            // Directories were created above: check again that none is a link.
            no_symlink_on_the_way(&self.root, &f.rel)?;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&f.part_path)
                .map_err(io_err(&f.part_path))?;
            let len = file.metadata().map_err(io_err(&f.part_path))?.len();
            if len != f.length {
                file.set_len(f.length).map_err(io_err(&f.part_path))?;
            }
            self.open.insert(i, file);
        }
        Ok(self.open.get_mut(&i).expect("inserted above"))
    }

    /// Every piece of file `i` is verified: fsync, rename, fsync the directory.
    fn finish(&mut self, i: usize) -> Result<(), StorageError> {
        let file = match self.open.remove(&i) {
            Some(f) => f,
            None => {
                // Resumed: the .part was never opened in this run (or an empty file).
                let _ = self.handle(i)?;
                self.open.remove(&i).expect("opened above")
            }
        };
        let f = &mut self.files[i];
        file.sync_all().map_err(io_err(&f.part_path))?;
        drop(file);
        fs::rename(&f.part_path, &f.final_path).map_err(io_err(&f.part_path))?;
        if let Some(parent) = f.final_path.parent() {
            if let Ok(d) = File::open(parent) {
                let _ = d.sync_all();
            }
        }
        f.complete = true;
        Ok(())
    }

    fn pieces_of(&self, i: usize) -> std::ops::Range<u32> {
        let f = &self.files[i];
        let pl = self.layout.piece_length().max(1);
        let first = (f.offset / pl) as u32;
        let last = (f.offset + f.length).div_ceil(pl) as u32;
        first..last
    }
}

/// Refuses a symbolic link at any existing component of `root/rel` (the file
/// itself and its `.part` included).
fn no_symlink_on_the_way(root: &Path, rel: &Path) -> Result<(), StorageError> {
    let mut p = root.to_path_buf();
    for c in rel.components() {
        p.push(c);
        for q in [p.clone(), with_part_suffix(&p)] {
            if fs::symlink_metadata(&q).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(StorageError::Symlink(q));
            }
        }
    }
    Ok(())
}

impl Storage for FileStorage {
    fn write(&mut self, piece: u32, begin: u32, data: &[u8]) -> Result<(), StorageError> {
        let start = self.range(piece, begin, data.len())?;
        for (i, at, from, len) in self.spans(start, data.len() as u64) {
            let path = self.files[i].part_path.clone();
            let f = self.handle(i)?;
            f.seek(SeekFrom::Start(at)).map_err(io_err(&path))?;
            f.write_all(&data[from..from + len])
                .map_err(io_err(&path))?;
        }
        Ok(())
    }

    fn read(&self, piece: u32, begin: u32, buf: &mut [u8]) -> Result<bool, StorageError> {
        let start = self.range(piece, begin, buf.len())?;
        for (i, at, from, len) in self.spans(start, buf.len() as u64) {
            let f = &self.files[i];
            let path = if f.complete {
                &f.final_path
            } else {
                &f.part_path
            };
            let mut file = match File::open(path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(io_err(path)(e)),
            };
            if file.metadata().map_err(io_err(path))?.len() < at + len as u64 {
                return Ok(false);
            }
            file.seek(SeekFrom::Start(at)).map_err(io_err(path))?;
            file.read_exact(&mut buf[from..from + len])
                .map_err(io_err(path))?;
        }
        Ok(true)
    }

    fn stored_len(&self, piece: u32) -> Option<u32> {
        let size = self.layout.piece_size(piece);
        let start = self.layout.piece_offset(piece);
        for (i, at, _, len) in self.spans(start, u64::from(size)) {
            let f = &self.files[i];
            let path = if f.complete {
                &f.final_path
            } else {
                &f.part_path
            };
            let m = fs::symlink_metadata(path).ok()?;
            if !m.is_file() || m.len() < at + len as u64 {
                return None;
            }
        }
        (piece < self.layout.num_pieces()).then_some(size)
    }

    fn piece_verified(&mut self, piece: u32) -> Result<(), StorageError> {
        let Some(v) = self.verified.get_mut(piece as usize) else {
            return Err(StorageError::OutOfRange {
                piece,
                begin: 0,
                length: 0,
            });
        };
        *v = true;
        let start = self.layout.piece_offset(piece);
        let size = u64::from(self.layout.piece_size(piece));
        for (i, ..) in self.spans(start, size) {
            if !self.files[i].complete && self.pieces_of(i).all(|p| self.verified[p as usize]) {
                self.finish(i)?;
            }
        }
        Ok(())
    }

    fn piece_failed(&mut self, piece: u32) -> Result<(), StorageError> {
        if let Some(v) = self.verified.get_mut(piece as usize) {
            *v = false;
        }
        Ok(())
    }
}
