use std::fs;

use super::*;
use crate::{resume, verify, Layout, LayoutLimits};

fn spec(path: &[&str], length: u64) -> FileSpec {
    FileSpec {
        path: path.iter().map(|s| s.to_string()).collect(),
        length,
    }
}

/// Content of a torrent of `total` bytes: byte k is k mod 251.
fn content(total: usize) -> Vec<u8> {
    (0..total).map(|k| (k % 251) as u8).collect()
}

fn hashes(data: &[u8], pl: usize) -> Vec<[u8; 20]> {
    data.chunks(pl).map(verify::sha1).collect()
}

fn layout(total: u64, pl: u64) -> Layout {
    Layout::new(
        total,
        pl,
        total.div_ceil(pl) as usize,
        &LayoutLimits::default(),
    )
    .unwrap()
}

/// Writes every piece of `data` and marks it verified.
fn write_all(s: &mut FileStorage, data: &[u8], pl: usize) {
    for (i, c) in data.chunks(pl).enumerate() {
        s.write(i as u32, 0, c).unwrap();
        s.piece_verified(i as u32).unwrap();
    }
}

#[test]
fn multi_file_torrent_is_written_as_part_files_then_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        spec(&["a.bin"], 20_000),
        spec(&["sub", "b.bin"], 30_000),
        spec(&["empty"], 0),
    ];
    let data = content(50_000);
    let mut s = FileStorage::open(dir.path(), "t", &files, true, layout(50_000, 16384)).unwrap();
    let root = dir.path().join("t");
    assert!(root.join("empty").is_file(), "an empty file needs no piece");
    // Piece 0 and 1 (0..32768) cover a.bin (0..20000): a.bin completes with them.
    s.write(0, 0, &data[..16384]).unwrap();
    s.piece_verified(0).unwrap();
    assert!(root.join("a.bin.part").is_file());
    assert!(!root.join("a.bin").exists());
    s.write(1, 0, &data[16384..32768]).unwrap();
    s.piece_verified(1).unwrap();
    assert!(root.join("a.bin").is_file());
    assert!(!root.join("a.bin.part").exists());
    assert!(root.join("sub/b.bin.part").is_file());
    for (i, c) in data.chunks(16384).enumerate().skip(2) {
        s.write(i as u32, 0, c).unwrap();
        s.piece_verified(i as u32).unwrap();
    }
    assert!(s.is_complete());
    assert_eq!(fs::read(root.join("a.bin")).unwrap(), &data[..20_000]);
    assert_eq!(fs::read(root.join("sub/b.bin")).unwrap(), &data[20_000..]);
    let mut buf = vec![0; 100];
    assert!(s.read(1, 3000, &mut buf).unwrap());
    assert_eq!(buf, &data[16384 + 3000..16384 + 3100]);
    assert!(matches!(
        s.write(3, 0, &[0; 16384]),
        Err(StorageError::OutOfRange { .. })
    ));
}

#[test]
fn paths_that_leave_the_directory_are_refused_before_anything_is_written() {
    // The same torrent with a safe path succeeds, so each refusal is the path's.
    let ok = tempfile::tempdir().unwrap();
    assert!(
        FileStorage::open(ok.path(), "t", &[spec(&["x"], 10)], true, layout(10, 16384)).is_ok()
    );
    for (name, path) in [
        ("t", &["..", "x"][..]),
        ("t", &["a", "..", "..", "x"]),
        ("t", &["/tmp/x"]),
        ("..", &["x"]),
        ("/tmp", &["x"]),
        ("t", &["", "x"]),
        ("t", &["."]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let r = FileStorage::open(&out, name, &[spec(path, 10)], true, layout(10, 16384));
        assert!(
            matches!(r, Err(StorageError::UnsafePath { .. })),
            "{name} {path:?}"
        );
        // Nothing at all was created, not even the output directory.
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{name} {path:?}"
        );
    }
    // A single-file torrent's name is a path too.
    let dir = tempfile::tempdir().unwrap();
    let r = FileStorage::open(
        dir.path(),
        "../x",
        &[spec(&[], 10)],
        false,
        layout(10, 16384),
    );
    assert!(matches!(r, Err(StorageError::UnsafePath { .. })));
}

#[test]
fn duplicates_and_file_directory_clashes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for files in [
        vec![spec(&["a"], 5), spec(&["a"], 5)],
        vec![spec(&["a"], 5), spec(&["a", "b"], 5)],
        vec![spec(&["a"], 5), spec(&["a.part"], 5)],
    ] {
        let r = FileStorage::open(dir.path(), "t", &files, true, layout(10, 16384));
        assert!(
            matches!(r, Err(StorageError::DuplicatePath(_))),
            "{files:?}"
        );
    }
    let r = FileStorage::open(dir.path(), "t", &[spec(&["a"], 5)], true, layout(10, 16384));
    assert!(matches!(r, Err(StorageError::SizeMismatch { .. })));
}

#[test]
fn a_symlink_on_the_way_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(out.join("t")).unwrap();
    std::os::unix::fs::symlink(outside.path(), out.join("t").join("sub")).unwrap();
    let files = [spec(&["sub", "x"], 10)];
    let r = FileStorage::open(&out, "t", &files, true, layout(10, 16384));
    assert!(matches!(r, Err(StorageError::Symlink(_))), "{r:?}");
    // Without the link the same torrent opens and writes.
    fs::remove_file(out.join("t").join("sub")).unwrap();
    let mut s = FileStorage::open(&out, "t", &files, true, layout(10, 16384)).unwrap();
    s.write(0, 0, &[1; 10]).unwrap();
    // A link planted after opening is refused at the write that would follow it.
    let mut s2 = FileStorage::open(
        &out,
        "t",
        &[spec(&["sub2", "y"], 10)],
        true,
        layout(10, 16384),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), out.join("t").join("sub2")).unwrap();
    assert!(matches!(
        s2.write(0, 0, &[1; 10]),
        Err(StorageError::Symlink(_))
    ));
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn resume_keeps_the_verified_pieces_of_part_and_complete_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = [spec(&["a"], 40_000), spec(&["b"], 25_000)];
    let data = content(65_000);
    let pl = 16384;
    let hs = hashes(&data, pl);
    let l = layout(65_000, pl as u64);
    {
        let mut s = FileStorage::open(dir.path(), "t", &files, true, l).unwrap();
        write_all(&mut s, &data, pl);
        assert!(s.is_complete());
    }
    // A kill mid-download: b back to .part with piece 3 (49152..65000) corrupted.
    let root = dir.path().join("t");
    let mut b = fs::read(root.join("b")).unwrap();
    b[20_000] ^= 1;
    fs::write(root.join("b.part"), &b).unwrap();
    fs::remove_file(root.join("b")).unwrap();
    let mut s = FileStorage::open(dir.path(), "t", &files, true, l).unwrap();
    let mut hashed = 0;
    let ok = resume::verify_existing(&mut s, &hs, &mut |_| hashed += 1).unwrap();
    assert_eq!(ok, vec![0, 1, 2]);
    assert_eq!(hashed, 4);
    assert!(root.join("a").is_file());
    assert!(root.join("b.part").is_file(), "b is not verified yet");
    s.write(3, 0, &data[3 * pl..]).unwrap();
    assert!(verify::piece_matches(&s, 3, (65_000 - 3 * pl) as u32, &hs[3]).unwrap());
    s.piece_verified(3).unwrap();
    assert!(s.is_complete());
    assert_eq!(fs::read(root.join("b")).unwrap(), &data[40_000..]);
    // Nothing on disk: nothing hashed.
    let empty = tempfile::tempdir().unwrap();
    let mut s = FileStorage::open(empty.path(), "t", &files, true, l).unwrap();
    let mut hashed = 0;
    assert!(resume::verify_existing(&mut s, &hs, &mut |_| hashed += 1)
        .unwrap()
        .is_empty());
    assert_eq!(hashed, 0);
}
