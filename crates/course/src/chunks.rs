//! The course's helper scripts: `create_chunks.py`, `merge_chunks.py`, `check_file.py`.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use swarmlab_course_wire::ChunkHash;

use crate::config::{ConfigError, FileIni};
use crate::layout::{check_name, chunk_file_name, temp_path, write_atomic, Layout, UnsafeName};

/// The course's default chunk size: 512 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 512 * 1024;
/// The largest chunk size accepted (the decoders' default maximum message is 64 MiB).
pub const MAX_CHUNK_SIZE: usize = 64 << 20;

/// Errors of the chunk tools; their `Display` is the course scripts' message where the
/// course defines one.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("Error: file does not exist ({0})")]
    NoSuchFile(PathBuf),
    #[error("chunk size {0} is outside 1 byte ..= 64 MiB")]
    ChunkSize(usize),
    #[error("{0} has more than 65535 chunks, the most FILE_INFO can describe: use larger chunks")]
    TooManyChunks(String),
    #[error("Missing chunks ({missing} of {total})")]
    MissingChunks { missing: usize, total: usize },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Name(#[from] UnsafeName),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

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
/// directories of its owners and writes `config/file.ini`.
pub fn create(layout: &Layout, filename: &str, chunk_size: usize) -> Result<FileIni, ChunkError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(ChunkError::ChunkSize(chunk_size));
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
    Ok(ini)
}

/// Concatenates `dir/<hash>.bin` for every hash, in order, into `dir/<filename>`
/// (temporary name, then rename). Fails with [`ChunkError::MissingChunks`] before writing
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
        w.flush().map_err(io_err(&tmp))?;
        drop(w);
        fs::rename(&tmp, &out).map_err(io_err(&out))
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

/// Parses a size: a number with an optional unit. `K`, `KiB`, `M`, `MiB`, `G`, `GiB`
/// are powers of 1024; `KB`, `MB`, `GB` powers of 1000; `B` or nothing is bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        u => {
            return Err(format!(
                "unknown unit {u:?} in {s:?} (use B, KiB, MiB, GiB, KB, MB, GB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
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
            Err(ChunkError::ChunkSize(0))
        ));
        assert!(matches!(
            create(&l, "hello.txt", MAX_CHUNK_SIZE + 1),
            Err(ChunkError::ChunkSize(_))
        ));
        assert!(matches!(
            create(&l, "nope.txt", 10),
            Err(ChunkError::NoSuchFile(_))
        ));
        assert!(create(&l, "../hello.txt", 10).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("32MiB").unwrap(), 32 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("77").unwrap(), 77);
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
