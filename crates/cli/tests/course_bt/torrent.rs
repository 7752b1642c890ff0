//! The file id: `chunks create` and `chunks torrent` against libtorrent's own
//! reading (`torrent_info`) and making (`create_torrent`) of the same file.

use crate::support::*;

/// libtorrent's view of config/file.torrent: info-hash, piece length, pieces, size.
fn lt_info(r: &Root) -> String {
    let path = r.path().join("config/file.torrent");
    python(&format!(
        "import libtorrent as lt; t = lt.torrent_info({:?}); print(t.info_hash(), t.piece_length(), t.num_pieces(), t.total_size(), t.name())",
        path.to_str().unwrap()
    ))
}

/// The info-hash libtorrent's create_torrent gives `files/name` in pieces of `plen`.
fn lt_create(r: &Root, name: &str, plen: usize) -> String {
    let files = r.path().join("files");
    python(&format!(
        "import libtorrent as lt\nfs = lt.file_storage(); lt.add_files(fs, {:?})\nct = lt.create_torrent(fs, {plen}, flags=lt.create_torrent.v1_only); lt.set_piece_hashes(ct, {:?})\nprint(lt.torrent_info(ct.generate()).info_hash())",
        files.join(name).to_str().unwrap(),
        files.to_str().unwrap()
    ))
    .trim()
    .to_string()
}

#[test]
fn chunks_create_writes_the_torrent_libtorrent_would_make_and_prints_the_magnet() {
    let r = Root::new(160);
    let (_, magnet) = r.file("f.bin", 100_000, 16384);
    let id = file_id_of(&magnet);
    assert_eq!(
        magnet,
        format!(
            "magnet:?xt=urn:btih:{id}&dn=f.bin&x.pe={}&x.pe={}",
            r.alice(),
            r.bob()
        )
    );
    assert_eq!(lt_info(&r).trim(), format!("{id} 16384 7 100000 f.bin"));
    assert_eq!(lt_create(&r, "f.bin", 16384), id);
    // libtorrent reads the peers of our magnet link.
    let peers = python(&format!(
        "import libtorrent as lt; print(lt.parse_magnet_uri({magnet:?}).peers)"
    ));
    assert_eq!(
        peers.trim(),
        format!("[('127.160.0.2', 8001), ('127.160.0.3', 8002)]")
    );
}

#[test]
fn the_course_vectors_hello_txt_with_chunks_of_10_bytes_is_a_valid_torrent() {
    let r = Root::new(160);
    r.write("files/hello.txt", b"The quick brown fox jumps");
    r.ok(&["chunks", "create", "hello.txt", "--chunk-size", "10"]);
    assert_eq!(
        lt_info(&r).trim(),
        "febbf8e95b049176d890551d584ed319f19d62de 10 3 25 hello.txt"
    );
}

/// The chunks and file.ini the course's `create_chunks.py` makes (chunks of 512 KiB
/// named by their SHA-1, file.ini written by configparser), made here by Python.
const COURSE_SCRIPT: &str = r#"
import configparser, hashlib, os, sys
root, name = sys.argv[1], sys.argv[2]
size = 512 * 1024
data = open(os.path.join(root, "files", name), "rb").read()
chunks = [data[i:i + size] for i in range(0, len(data), size)]
n = len(chunks)
cfg = configparser.ConfigParser()
cfg["description"] = {"filename": name, "chunks_count": str(n)}
cfg["chunks"] = {}
cfg["chunks_peers"] = {}
for k, c in enumerate(chunks, 1):
    h = hashlib.sha1(c).hexdigest()
    owners = ["alice"] if k <= -(-n // 3) else (["alice", "bob"] if k <= -(-2 * n // 3) else ["bob"])
    for o in owners:
        d = os.path.join(root, "chunks", o)
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, h + ".bin"), "wb").write(c)
    cfg["chunks"][str(k - 1)] = h
    cfg["chunks_peers"][str(k - 1)] = ", ".join(owners)
with open(os.path.join(root, "config", "file.ini"), "w") as f:
    cfg.write(f)
"#;

#[test]
fn chunks_torrent_builds_the_same_from_the_course_scripts_chunks_and_says_what_is_wrong() {
    let r = Root::new(160);
    let data: Vec<u8> = (0..1_300_000u32).map(|i| (i % 241) as u8).collect();
    r.write("files/course.bin", &data);
    let out = std::process::Command::new(swarmlab_tests::python())
        .args(["-c", COURSE_SCRIPT])
        .arg(r.path())
        .arg("course.bin")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!r.path().join("config/file.torrent").exists());
    let printed = r.ok(&["chunks", "torrent"]);
    let id = lt_create(&r, "course.bin", 512 * 1024);
    assert!(
        printed.contains(&format!(
            "1300000 bytes in 3 chunks of 524288 bytes, file id {id}"
        )),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("magnet:?xt=urn:btih:{id}&dn=course.bin&x.pe=")),
        "{printed}"
    );
    assert!(lt_info(&r).starts_with(&id));

    // A middle chunk cut short (in every directory that has it): refused, saying why.
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let second = ini
        .lines()
        .find_map(|l| l.strip_prefix("1 = "))
        .unwrap()
        .to_string();
    for who in ["alice", "bob"] {
        let p = r
            .path()
            .join("chunks")
            .join(who)
            .join(format!("{second}.bin"));
        if p.exists() {
            std::fs::write(&p, &data[524288..524288 + 1000]).unwrap();
        }
    }
    let out = r.run(&["chunks", "torrent"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "chunk 1 ({second}) is 1000 bytes, but every chunk but the last must have the first chunk's 524288 bytes"
        )),
        "{err}"
    );
    // A chunk in no directory.
    for who in ["alice", "bob"] {
        let _ = std::fs::remove_file(
            r.path()
                .join("chunks")
                .join(who)
                .join(format!("{second}.bin")),
        );
    }
    let out = r.run(&["chunks", "torrent"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is in no directory under"), "{err}");
}
