//! Hostile input: hand-made seeders that lie, flood or stall, each beside an honest
//! libtorrent seeder (the download must finish from it, the hostile one dropped or
//! banned); and hostile metainfo (refused with a clear error, nothing written
//! outside the output directory). Addresses: 127.64.x.y.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_bt_wire::metainfo::Metainfo;
use swarmlab_bt_wire::wire::{Decoder, Handshake, Message, HANDSHAKE_LEN};
use swarmlab_bt_wire::InfoHash;

use crate::support::*;

/// What a hostile seeder does once the handshakes are done.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Announces every piece, unchokes, answers every request with zeros.
    WrongData,
    /// Sends a 16 MiB message.
    HugeMessage,
    /// Sends a bitfield three bytes too long.
    BadBitfield,
    /// Announces every piece, unchokes, answers requests with blocks nobody asked
    /// for: beyond the last piece, past the piece's end, another offset.
    Spray,
    /// Announces every piece and never unchokes.
    NeverUnchoke,
    /// Announces every piece, unchokes, takes every request and never answers.
    Silent,
}

/// Starts a hostile seeder of `torrent` on `bind`; returns its address.
fn hostile_seed(bind: &str, torrent: &Path, mode: Mode) -> SocketAddr {
    let meta = Metainfo::from_bytes(&std::fs::read(torrent).unwrap()).unwrap();
    let info_hash = meta.info.info_hash;
    let n = meta.info.pieces.len();
    let l = TcpListener::bind(bind).unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = serve_one(s, info_hash, n, mode);
            });
        }
    });
    addr
}

fn serve_one(mut s: TcpStream, info_hash: InfoHash, n: usize, mode: Mode) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut hs = [0u8; HANDSHAKE_LEN];
    s.read_exact(&mut hs)?;
    let ours = Handshake {
        reserved: [0; 8],
        info_hash,
        peer_id: *b"-HX0001-hostileseed!",
    };
    s.write_all(&ours.encode())?;
    let full = {
        let mut b = vec![0xFFu8; n.div_ceil(8)];
        if !n.is_multiple_of(8) {
            let last = b.len() - 1;
            b[last] = 0xFFu8 << (8 - n % 8);
        }
        b
    };
    match mode {
        Mode::HugeMessage => {
            s.write_all(&(16u32 << 20).to_be_bytes())?;
            s.write_all(&[7u8; 65536])?;
            std::thread::sleep(Duration::from_secs(5));
            return Ok(());
        }
        Mode::BadBitfield => {
            let mut b = full.clone();
            b.extend_from_slice(&[0xFF; 3]);
            s.write_all(&Message::Bitfield(b).encode())?;
        }
        _ => s.write_all(&Message::Bitfield(full).encode())?,
    }
    let mut dec = Decoder::new(1 << 20);
    let mut buf = vec![0u8; 65536];
    loop {
        let k = s.read(&mut buf)?;
        if k == 0 {
            return Ok(());
        }
        dec.extend(&buf[..k]);
        while let Ok(Some(m)) = dec.next_message() {
            match (mode, m) {
                (Mode::NeverUnchoke, _) => {}
                (_, Message::Interested) => s.write_all(&Message::Unchoke.encode())?,
                (
                    Mode::WrongData,
                    Message::Request {
                        index,
                        begin,
                        length,
                    },
                ) => {
                    let block = vec![0u8; length as usize];
                    s.write_all(
                        &Message::Piece {
                            index,
                            begin,
                            data: block,
                        }
                        .encode(),
                    )?;
                }
                (
                    Mode::Spray,
                    Message::Request {
                        index,
                        begin,
                        length,
                    },
                ) => {
                    let junk = vec![1u8; length as usize];
                    for (i, b) in [
                        (n as u32 + 5, 0),
                        (index, u32::MAX - 10),
                        (index, begin + 1),
                    ] {
                        s.write_all(
                            &Message::Piece {
                                index: i,
                                begin: b,
                                data: junk.clone(),
                            }
                            .encode(),
                        )?;
                    }
                }
                _ => {}
            }
        }
    }
}

/// A honest libtorrent seeder and a hostile one; fetch is given both (the hostile
/// one first) and must finish with the payload's bytes.
fn against(mode: Mode, third: u8) -> (serde_json::Value, SocketAddr) {
    against_with(mode, third, &[], &[])
}

/// [`against`], with more arguments for the honest seeder and for fetch.
fn against_with(
    mode: Mode,
    third: u8,
    seeder_args: &[&str],
    fetch_args: &[&str],
) -> (serde_json::Value, SocketAddr) {
    let honest = format!("127.64.{third}.2");
    let mut args = vec!["--listen", &honest, "--size", "3000000"];
    args.extend_from_slice(seeder_args);
    let seed = LtSeed::start(&args);
    let bad = hostile_seed(&format!("127.64.{third}.3:0"), &seed.info.torrent, mode);
    let out = tempfile::tempdir().unwrap();
    let (b, h) = (bad.to_string(), seed.info.peers[0].to_string());
    let mut args = vec![
        seed.info.torrent.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--no-dht",
        "--peer",
        &b,
        "--peer",
        &h,
    ];
    args.extend_from_slice(fetch_args);
    let rep = fetch_ok(&args);
    assert_eq!(
        tree(&out.path().join("payload.bin")),
        tree(&seed.info.payload),
        "{mode:?}"
    );
    // Accepted bytes: the payload, plus the liar's pieces that failed their hash.
    assert!(
        rep["downloaded_bytes"].as_u64().unwrap() >= 3_000_000,
        "{rep}"
    );
    (rep, bad)
}

#[test]
fn a_seeder_sending_wrong_data_is_banned_and_the_download_finishes() {
    let (rep, bad) = against(Mode::WrongData, 1);
    let p = peer(&rep, &bad).expect("the liar is in the report");
    assert_eq!(p["banned"], true, "{rep}");
    assert!(p["bad_pieces"].as_u64().unwrap() >= 2, "{rep}");
    assert!(rep["hash_failures"].as_u64().unwrap() >= 2, "{rep}");
}

#[test]
fn a_16_mib_message_ends_that_peer_only() {
    let (rep, bad) = against(Mode::HugeMessage, 2);
    let p = peer(&rep, &bad).expect("in the report");
    assert_eq!(p["bytes"], 0);
    assert!(
        p["error"]
            .as_str()
            .unwrap_or("")
            .contains("exceeds the limit"),
        "{p}"
    );
}

#[test]
fn a_bitfield_of_the_wrong_length_ends_that_peer_only() {
    let (rep, bad) = against(Mode::BadBitfield, 3);
    let p = peer(&rep, &bad).expect("in the report");
    assert_eq!(p["bytes"], 0);
    assert!(
        p["error"].as_str().unwrap_or("").contains("bitfield"),
        "{p}"
    );
}

#[test]
fn unrequested_and_out_of_range_blocks_are_dropped() {
    let (rep, bad) = against(Mode::Spray, 4);
    let p = peer(&rep, &bad).expect("in the report");
    assert_eq!(p["bytes"], 0, "{p}");
    assert_eq!(rep["hash_failures"], 0, "{rep}");
}

#[test]
fn a_peer_that_never_unchokes_does_not_hold_the_download() {
    let (rep, bad) = against(Mode::NeverUnchoke, 5);
    let p = peer(&rep, &bad).expect("in the report");
    assert_eq!(p["bytes"], 0);
}

/// A peer that takes requests and never answers: after `--request-timeout` (1 s
/// here) with requests in flight and no block, fetch drops it, its requests go
/// back to the picker, and the honest seeder (upload-limited so that the download
/// outlasts the timeout: about 3 s) sends them.
#[test]
fn a_peer_that_never_sends_the_piece_is_dropped_after_the_request_timeout() {
    let (rep, bad) = against_with(
        Mode::Silent,
        6,
        &["--upload-rate", "1000000"],
        &["--request-timeout", "1"],
    );
    let p = peer(&rep, &bad).expect("in the report");
    assert_eq!(p["bytes"], 0, "{p}");
    assert!(
        p["error"]
            .as_str()
            .unwrap_or("")
            .contains("no block for 1 s"),
        "{p}"
    );
    assert!(rep["seconds"].as_f64().unwrap() > 1.0, "{rep}");
}

/// A .torrent of `info` entries.
fn torrent_file(dir: &Path, info: Vec<(&str, Value)>) -> std::path::PathBuf {
    let t = dict([("info", dict(info))]).encode();
    let p = dir.join("hostile.torrent");
    std::fs::write(&p, t).unwrap();
    p
}

fn multi(paths: &[&[&str]], piece_length: i64) -> Vec<(&'static str, Value)> {
    let files = paths
        .iter()
        .map(|p| {
            dict([
                ("length", Value::Int(1000)),
                (
                    "path",
                    Value::List(p.iter().map(|c| Value::bytes(c.as_bytes())).collect()),
                ),
            ])
        })
        .collect();
    let total = 1000 * paths.len() as i64;
    let n = (total + piece_length - 1) / piece_length.max(1);
    vec![
        ("name", Value::bytes("t")),
        ("piece length", Value::Int(piece_length)),
        ("pieces", Value::Bytes(vec![0u8; 20 * n as usize])),
        ("files", Value::List(files)),
    ]
}

/// Runs `fetch` on the torrent of `info` (to a peer where nothing listens, no
/// DHT, a 2 s stall timeout): the directory it ran in, the output directory, and
/// what it said.
fn fetch_torrent(
    info: Vec<(&str, Value)>,
) -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let tmp = tempfile::tempdir().unwrap();
    let t = torrent_file(tmp.path(), info);
    let out = tmp.path().join("out");
    let r = swarmlab(&[
        "fetch",
        t.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-dht",
        "--peer",
        "127.64.9.9:9",
        "--stall-timeout",
        "2",
        "--quiet",
    ]);
    (tmp, out, r)
}

/// Fetch on a hostile torrent must fail, say `why`, and leave nothing outside the
/// output directory (nor anything but directories inside it).
fn refused(info: Vec<(&str, Value)>, why: &str) {
    let (tmp, out, r) = fetch_torrent(info);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "accepted: {why}");
    assert!(err.contains(why), "{why:?} not in: {err}");
    let outside: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "hostile.torrent" && n != "out")
        .collect();
    assert!(outside.is_empty(), "written outside: {outside:?}");
    if out.exists() {
        assert!(tree(&out).is_empty(), "a file written in out/");
    }
}

#[test]
fn hostile_metainfo_is_refused_with_a_clear_error() {
    // The same torrent with safe paths gets past the checks (the next test): the
    // refusals below are the paths' and sizes'.
    refused(multi(&[&["..", "evil"]], 16384), "unsafe path");
    refused(
        multi(&[&["ok"], &["a", "..", "..", "evil"]], 16384),
        "unsafe path",
    );
    refused(multi(&[&["/etc/evil"]], 16384), "unsafe path");
    refused(multi(&[&["ok", ""]], 16384), "unsafe path");
    let mut dotdot = multi(&[&["x"]], 16384);
    dotdot[0] = ("name", Value::bytes(".."));
    refused(dotdot, "unsafe path");
    refused(multi(&[&["x"]], 3 * 16384), "not a power of two");
    refused(multi(&[&["x"]], 0), "piece length");
    let mut odd = multi(&[&["x"]], 16384);
    odd[2] = ("pieces", Value::Bytes(vec![0u8; 21]));
    refused(odd, "20");
    // 2^50 bytes in 1 GiB pieces (2^20 hashes): refused before any allocation.
    let huge = vec![
        ("name", Value::bytes("huge")),
        ("piece length", Value::Int(1 << 30)),
        ("pieces", Value::Bytes(vec![0u8; 20 << 20])),
        ("length", Value::Int(1 << 50)),
    ];
    refused(huge, "total size");
}

#[test]
fn a_safe_torrent_gets_past_the_checks() {
    // The counterpart of the refusals: the same shape with safe paths fails only
    // for want of peers, after creating its directory.
    let (_tmp, out, r) = fetch_torrent(multi(&[&["ok"], &["sub", "x"]], 16384));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success());
    assert!(err.contains("no piece verified"), "{err}");
    assert!(out.is_dir(), "{err}");
}
