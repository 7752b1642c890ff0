//! The course's helper scripts: `create_chunks.py`, `merge_chunks.py`, `check_file.py`,
//! and the file's torrent (`config/file.torrent`, see [`crate::torrent`]).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use swarmlab_course_wire::{ChunkHash, MAX_CHUNK_LEN};

use crate::config::FileIni;
use crate::error::ChunkError;
use crate::layout::{check_name, chunk_file_name, sync_parent, temp_path, write_atomic, Layout};
use crate::torrent::CourseTorrent;

/// The course's default chunk size: 512 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 512 * 1024;
/// The largest chunk size accepted: the most a CHUNK carries, which every peer serves
/// and Charlie accepts (64 MiB).
pub const MAX_CHUNK_SIZE: usize = MAX_CHUNK_LEN;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ChunkError + '_ {
    move |source| ChunkError::Io {
        path: path.to_owned(),
        source,
    }
}

/// SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> ChunkHash {
    Sha1::digest(data).into()
}

/// Which peers hold the k-th chunk (k from 1) of n, as `create_chunks.py` decides:
/// k ≤ ⌈n/3⌉ → alice; k ≤ ⌈2n/3⌉ → alice and bob; else bob.
pub fn course_owners(k: usize, n: usize) -> &'static [&'static str] {
    if k <= n.div_ceil(3) {
        &["alice"]
    } else if k <= (2 * n).div_ceil(3) {
        &["alice", "bob"]
    } else {
        &["bob"]
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the file.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `create_chunks.py FILENAME`: splits `files/FILENAME` into chunks of `chunk_size`
/// bytes, deletes every `*.bin` of chunks/{alice,bob,charlie}, writes each chunk to the
/// directories of its owners and writes `config/file.ini`, then `config/file.torrent`
/// (an empty file has no torrent: a stale file.torrent is removed instead).
pub fn create(layout: &Layout, filename: &str, chunk_size: usize) -> Result<FileIni, ChunkError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(ChunkError::ChunkSize {
            size: chunk_size,
            max: MAX_CHUNK_SIZE,
        });
    }
    check_name(filename)?;
    let src = layout.files_dir().join(filename);
    if !src.is_file() {
        return Err(ChunkError::NoSuchFile(src));
    }
    let size = fs::metadata(&src).map_err(io_err(&src))?.len();
    let n = size.div_ceil(chunk_size as u64) as usize;
    if n > u16::MAX as usize {
        return Err(ChunkError::TooManyChunks(filename.to_owned()));
    }
    for name in ["alice", "bob", "charlie"] {
        let dir = layout.chunk_dir(name);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        for e in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let p = e.map_err(io_err(&dir))?.path();
            if p.extension().is_some_and(|x| x == "bin") {
                fs::remove_file(&p).map_err(io_err(&p))?;
            }
        }
    }
    let mut file = fs::File::open(&src).map_err(io_err(&src))?;
    let mut buf = vec![0u8; chunk_size.min(size as usize).max(1)];
    let mut ini = FileIni {
        filename: filename.to_owned(),
        chunks: Vec::with_capacity(n),
        chunk_peers: Vec::with_capacity(n),
    };
    for k in 1..=n {
        let got = read_full(&mut file, &mut buf).map_err(io_err(&src))?;
        if got == 0 {
            break; // the file shrank while we read it
        }
        let chunk = &buf[..got];
        let hash = sha1(chunk);
        let owners = course_owners(k, n);
        for owner in owners {
            let p = layout.chunk_dir(owner).join(chunk_file_name(&hash));
            write_atomic(&p, chunk).map_err(io_err(&p))?;
        }
        ini.chunks.push(hash);
        ini.chunk_peers
            .push(owners.iter().map(|s| s.to_string()).collect());
    }
    let cfg = layout.file_ini();
    if let Some(parent) = cfg.parent() {
        fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    write_atomic(&cfg, ini.to_text().as_bytes()).map_err(io_err(&cfg))?;
    if ini.chunks.is_empty() {
        let t = layout.file_torrent();
        match fs::remove_file(&t) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&t)(e)),
            _ => {}
        }
    } else {
        // The piece length is the first chunk's size (see crate::torrent).
        let piece = (chunk_size as u64).min(size);
        CourseTorrent::new(filename, size, piece, &ini.chunks)?.write(layout)?;
    }
    Ok(ini)
}

/// `chunks torrent`: builds the torrent of the file `config/file.ini` describes from
/// the chunk files under `chunks/` (any of them: the course's own scripts' chunks
/// too), checking their sizes, and writes `config/file.torrent`.
pub fn torrent(layout: &Layout) -> Result<(FileIni, CourseTorrent), ChunkError> {
    let ini = FileIni::load(&layout.file_ini())?;
    let t = CourseTorrent::from_chunks(layout, &ini)?;
    t.write(layout)?;
    Ok((ini, t))
}

/// Concatenates `dir/<hash>.bin` for every hash, in order, into `dir/<filename>`
/// (temporary name, fsync, then rename). Fails with [`ChunkError::MissingChunks`] before writing
/// anything when a chunk is absent.
pub fn merge_into(dir: &Path, filename: &str, chunks: &[ChunkHash]) -> Result<PathBuf, ChunkError> {
    check_name(filename)?;
    let paths: Vec<PathBuf> = chunks
        .iter()
        .map(|h| dir.join(chunk_file_name(h)))
        .collect();
    let missing = paths.iter().filter(|p| !p.is_file()).count();
    if missing > 0 {
        return Err(ChunkError::MissingChunks {
            missing,
            total: chunks.len(),
        });
    }
    let out = dir.join(filename);
    let tmp = temp_path(&out);
    let result = (|| {
        let mut w =
            io::BufWriter::with_capacity(1 << 20, fs::File::create(&tmp).map_err(io_err(&tmp))?);
        for p in &paths {
            let mut r = fs::File::open(p).map_err(io_err(p))?;
            io::copy(&mut r, &mut w).map_err(io_err(p))?;
        }
        let f = w.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
        f.sync_all().map_err(io_err(&tmp))?;
        drop(f);
        fs::rename(&tmp, &out).map_err(io_err(&out))?;
        sync_parent(&out).map_err(io_err(dir))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|_| out)
}

/// `merge_chunks.py`: builds `chunks/charlie/<filename>` from config/file.ini.
pub fn merge(layout: &Layout) -> Result<PathBuf, ChunkError> {
    let ini = FileIni::load(&layout.file_ini())?;
    merge_into(&layout.chunk_dir("charlie"), &ini.filename, &ini.chunks)
}

/// True when the two files have the same bytes.
pub fn same_contents(a: &Path, b: &Path) -> Result<bool, ChunkError> {
    let mut fa = io::BufReader::with_capacity(1 << 20, fs::File::open(a).map_err(io_err(a))?);
    let mut fb = io::BufReader::with_capacity(1 << 20, fs::File::open(b).map_err(io_err(b))?);
    let ma = fa.get_ref().metadata().map_err(io_err(a))?;
    let mb = fb.get_ref().metadata().map_err(io_err(b))?;
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let mut ba = vec![0u8; 1 << 20];
    let mut bb = vec![0u8; 1 << 20];
    loop {
        let na = read_full(&mut fa, &mut ba).map_err(io_err(a))?;
        let nb = read_full(&mut fb, &mut bb).map_err(io_err(b))?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

/// `check_file.py`: compares `files/<filename>` with `chunks/charlie/<filename>`.
pub fn check(layout: &Layout) -> Result<bool, ChunkError> {
    let ini = FileIni::load(&layout.file_ini())?;
    check_name(&ini.filename)?;
    same_contents(
        &layout.files_dir().join(&ini.filename),
        &layout.chunk_dir("charlie").join(&ini.filename),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_match_the_course_distribution() {
        let table = [
            "A",
            "A AB",
            "A AB B",
            "A A AB B",
            "A A AB AB B",
            "A A AB AB B B",
            "A A A AB AB B B",
            "A A A AB AB AB B B",
        ];
        for (i, want) in table.iter().enumerate() {
            let n = i + 1;
            let got: Vec<String> = (1..=n)
                .map(|k| match course_owners(k, n) {
                    ["alice"] => "A".to_string(),
                    ["alice", "bob"] => "AB".to_string(),
                    _ => "B".to_string(),
                })
                .collect();
            assert_eq!(got.join(" "), *want, "n = {n}");
        }
    }

    fn setup(content: &[u8]) -> (tempfile::TempDir, Layout) {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path());
        fs::create_dir_all(l.files_dir()).unwrap();
        fs::write(l.files_dir().join("hello.txt"), content).unwrap();
        (d, l)
    }

    #[test]
    fn create_reproduces_setup_a_exactly() {
        let (_d, l) = setup(b"The quick brown fox jumps");
        fs::create_dir_all(l.chunk_dir("charlie")).unwrap();
        fs::write(l.chunk_dir("charlie").join("stale.bin"), b"x").unwrap();
        create(&l, "hello.txt", 10).unwrap();
        let text = fs::read_to_string(l.file_ini()).unwrap();
        assert_eq!(text, "[description]\nfilename = hello.txt\nchunks_count = 3\n\n[chunks]\n0 = 4d39faadbf264f3fb59268228994276c36fc3172\n1 = 729e3121ba0b87facdd975695c0e907a1f89d244\n2 = eda92612cf24747e95b6d9df90a329a254dcfa36\n\n[chunks_peers]\n0 = alice\n1 = alice, bob\n2 = bob\n\n");
        let names = |who: &str| {
            let mut v: Vec<String> = fs::read_dir(l.chunk_dir(who))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            names("alice"),
            [
                "4d39faadbf264f3fb59268228994276c36fc3172.bin",
                "729e3121ba0b87facdd975695c0e907a1f89d244.bin"
            ]
        );
        assert_eq!(
            names("bob"),
            [
                "729e3121ba0b87facdd975695c0e907a1f89d244.bin",
                "eda92612cf24747e95b6d9df90a329a254dcfa36.bin"
            ]
        );
        assert!(names("charlie").is_empty());
        assert_eq!(
            fs::read(
                l.chunk_dir("bob")
                    .join("eda92612cf24747e95b6d9df90a329a254dcfa36.bin")
            )
            .unwrap(),
            b"jumps"
        );
    }

    #[test]
    fn create_writes_the_torrent_and_torrent_rebuilds_the_same() {
        let (_d, l) = setup(b"The quick brown fox jumps");
        let ini = create(&l, "hello.txt", 10).unwrap();
        let written = CourseTorrent::load(&l).unwrap();
        assert_eq!(written.chunks(), ini.chunks.as_slice());
        fs::remove_file(l.file_torrent()).unwrap();
        let (_, rebuilt) = torrent(&l).unwrap();
        assert_eq!(rebuilt.file_id(), written.file_id());
        assert_eq!(fs::read(l.file_torrent()).unwrap(), written.metainfo());
        // An empty file: no torrent, and the stale one is gone.
        fs::write(l.files_dir().join("e.bin"), b"").unwrap();
        create(&l, "e.bin", 10).unwrap();
        assert!(!l.file_torrent().exists());
        assert!(matches!(
            torrent(&l),
            Err(ChunkError::Torrent(crate::error::TorrentError::NoChunks))
        ));
    }

    #[test]
    fn merge_then_check() {
        let (_d, l) = setup(b"The quick brown fox jumps");
        create(&l, "hello.txt", 10).unwrap();
        assert!(matches!(
            merge(&l),
            Err(ChunkError::MissingChunks {
                missing: 3,
                total: 3
            })
        ));
        for who in ["alice", "bob"] {
            for e in fs::read_dir(l.chunk_dir(who)).unwrap() {
                let e = e.unwrap();
                fs::copy(e.path(), l.chunk_dir("charlie").join(e.file_name())).unwrap();
            }
        }
        let out = merge(&l).unwrap();
        assert_eq!(fs::read(out).unwrap(), b"The quick brown fox jumps");
        assert!(check(&l).unwrap());
        fs::write(
            l.chunk_dir("charlie").join("hello.txt"),
            b"The quick brown fox jumpz",
        )
        .unwrap();
        assert!(!check(&l).unwrap());
    }

    #[test]
    fn chunk_sizes_from_one_byte_and_empty_files() {
        let (_d, l) = setup(b"abc");
        assert_eq!(create(&l, "hello.txt", 1).unwrap().chunks.len(), 3);
        let (_d, l) = setup(b"");
        let ini = create(&l, "hello.txt", 512 * 1024).unwrap();
        assert_eq!(ini.chunks.len(), 0);
        assert!(fs::read_to_string(l.file_ini())
            .unwrap()
            .contains("chunks_count = 0\n"));
        assert!(matches!(
            create(&l, "hello.txt", 0),
            Err(ChunkError::ChunkSize { size: 0, .. })
        ));
        let e = create(&l, "hello.txt", MAX_CHUNK_SIZE + 1).unwrap_err();
        assert!(
            matches!(e, ChunkError::ChunkSize { size, max } if size == max + 1),
            "{e}"
        );
        assert!(e.to_string().contains("67108864 bytes (64 MiB"), "{e}");
        assert!(matches!(
            create(&l, "nope.txt", 10),
            Err(ChunkError::NoSuchFile(_))
        ));
    }

    #[test]
    fn create_refuses_a_name_that_leaves_files() {
        // root/hello.txt exists, so files/../hello.txt names a real file: only the
        // name check stops it.
        let (d, l) = setup(b"inside");
        fs::write(d.path().join("hello.txt"), b"outside files/").unwrap();
        let e = create(&l, "../hello.txt", 10).unwrap_err();
        assert!(matches!(e, ChunkError::Name(_)), "{e}");
        assert!(!l.file_ini().exists());
        let abs = d.path().join("hello.txt");
        let e = create(&l, abs.to_str().unwrap(), 10).unwrap_err();
        assert!(matches!(e, ChunkError::Name(_)), "{e}");
    }

    #[test]
    fn merge_refuses_a_name_that_leaves_its_directory() {
        let (d, l) = setup(b"The quick brown fox jumps");
        let ini = create(&l, "hello.txt", 10).unwrap();
        let charlie = l.chunk_dir("charlie");
        for who in ["alice", "bob"] {
            for e in fs::read_dir(l.chunk_dir(who)).unwrap() {
                let e = e.unwrap();
                fs::copy(e.path(), charlie.join(e.file_name())).unwrap();
            }
        }
        // Every chunk is there and chunks/ exists: only the name check stops a merge
        // into chunks/charlie/../escaped.bin or an absolute path.
        let outside = d.path().join("escaped.bin");
        for bad in ["../escaped.bin", outside.to_str().unwrap()] {
            let e = merge_into(&charlie, bad, &ini.chunks).unwrap_err();
            assert!(matches!(e, ChunkError::Name(_)), "{bad}: {e}");
        }
        assert!(!l.root().join("chunks/escaped.bin").exists());
        assert!(!outside.exists());
    }
}
