//! Integration tests of the course roles: the real `swarmlab` binary's peers, trackers
//! and Charlie on loopback, each test on its own 127.0.N.x addresses and its own
//! discovery port so that tests run in parallel.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A course tree in a temporary directory.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    /// A root whose peers.ini puts the tracker, alice and bob on 127.0.`net`.1/2/3.
    fn new(net: u8) -> Root {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        let r = Root { dir };
        r.write(
            "config/peers.ini",
            format!(
                "[tracker]\nip_address = 127.0.{net}.1\nport_number = 8000\n\n[alice]\nip_address = 127.0.{net}.2\nport_number = 8001\n\n[bob]\nip_address = 127.0.{net}.3\nport_number = 8002\n"
            )
            .as_bytes(),
        );
        r
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn write(&self, rel: &str, data: &[u8]) {
        std::fs::write(self.path().join(rel), data).unwrap();
    }
    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path().join(rel)).unwrap()
    }
    /// Runs a swarmlab command to completion.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--root")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap()
    }
    /// Starts a long-running role; killed when dropped.
    fn spawn(&self, args: &[&str]) -> Proc {
        let child = Command::new(BIN)
            .arg("--root")
            .arg(self.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Proc(child)
    }
    /// A random file of `size` bytes in files/, chunked with `chunk_size`.
    fn file(&self, name: &str, size: usize, chunk_size: usize) -> Vec<u8> {
        let data: Vec<u8> = (0..size)
            .map(|i| (i as u32).wrapping_mul(2654435761).to_be_bytes()[1])
            .collect();
        self.write(&format!("files/{name}"), &data);
        let out = self.run(&[
            "chunks",
            "create",
            name,
            "--chunk-size",
            &chunk_size.to_string(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        data
    }
    fn chunk_names(&self, who: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path().join("chunks").join(who))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts TCP connections on `addr`.
fn wait_tcp(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        thread::sleep(Duration::from_millis(20));
    }
}

fn start_peers(r: &Root, net: u8) -> (Proc, Proc) {
    let a = r.spawn(&["peer", "alice"]);
    let b = r.spawn(&["peer", "bob"]);
    wait_tcp(&format!("127.0.{net}.2:8001"));
    wait_tcp(&format!("127.0.{net}.3:8002"));
    (a, b)
}

fn json(out: &Output) -> serde_json::Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&s).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {s}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn chunks_from(report: &serde_json::Value, addr: &str) -> u64 {
    report["download"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == addr)
        .map(|p| p["chunks"].as_u64().unwrap())
        .unwrap_or(0)
}

fn conn(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).unwrap();
    b
}

const IMF: &str = "010600000000000300000000";
const INVALID_REQUEST: &str = "010600000000000300010000";
const NOT_FOUND: &str = "010600000000000300020000";

// ---------------------------------------------------------------- chunk tools

#[test]
fn chunk_tools_reproduce_the_course_scripts() {
    let r = Root::new(1);
    r.write("files/hello.txt", b"The quick brown fox jumps");
    let out = r.run(&["chunks", "create", "hello.txt", "--chunk-size", "10"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Done\n");
    assert_eq!(
        String::from_utf8(r.read("config/file.ini")).unwrap(),
        "[description]\nfilename = hello.txt\nchunks_count = 3\n\n[chunks]\n0 = 4d39faadbf264f3fb59268228994276c36fc3172\n1 = 729e3121ba0b87facdd975695c0e907a1f89d244\n2 = eda92612cf24747e95b6d9df90a329a254dcfa36\n\n[chunks_peers]\n0 = alice\n1 = alice, bob\n2 = bob\n\n"
    );
    assert_eq!(r.chunk_names("alice").len(), 2);
    assert_eq!(r.chunk_names("bob").len(), 2);
    let out = r.run(&["chunks", "merge"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Missing chunks\n");
    assert!(!out.status.success());
    let out = r.run(&["chunks", "create", "nope.txt"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Error: file does not exist"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn charlie_step_number_errors_are_the_course_messages() {
    let r = Root::new(2);
    let out = r.run(&["charlie"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: missing step number\n"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = r.run(&["charlie", "4"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: invalid step number\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

// ---------------------------------------------------------------- downloads

#[test]
fn step_1_downloads_from_both_peers_in_parallel() {
    let r = Root::new(3);
    let data = r.file("big.bin", 3_000_001, 64 * 1024);
    let _peers = start_peers(&r, 3);
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = json(&out);
    assert_eq!(rep["identical"], true);
    assert_eq!(rep["download"]["chunks"], 46);
    assert_eq!(rep["download"]["bytes"], 3_000_001);
    // Both peers served (each has chunks only it holds).
    assert!(chunks_from(&rep, "127.0.3.2:8001") >= 16);
    assert!(chunks_from(&rep, "127.0.3.3:8002") >= 15);
    assert_eq!(r.read("chunks/charlie/big.bin"), data);
    // No temporary file is left behind.
    assert!(r.chunk_names("charlie").iter().all(|n| !n.contains("tmp")));
    // The course's check agrees.
    let out = r.run(&["chunks", "check"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Files are identical\n"
    );
}

#[test]
fn step_2_asks_the_tracker() {
    let r = Root::new(4);
    let data = r.file("t.bin", 200_000, 30_000);
    let _peers = start_peers(&r, 4);
    let _t = r.spawn(&["tracker", "--no-discovery"]);
    wait_tcp("127.0.4.1:8000");
    // Step 2 uses only the tracker: file.ini is not needed by Charlie.
    std::fs::rename(
        r.path().join("config/file.ini"),
        r.path().join("config/file.ini.bak"),
    )
    .unwrap();
    let out = r.run(&["charlie", "2", "--json"]);
    // The tracker itself needs file.ini: it re-reads it per request, so it now fails.
    assert!(!out.status.success());
    std::fs::rename(
        r.path().join("config/file.ini.bak"),
        r.path().join("config/file.ini"),
    )
    .unwrap();
    let out = r.run(&["charlie", "2", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rep = json(&out);
    assert_eq!(rep["discovery"][0]["source"], "tracker");
    assert_eq!(r.read("chunks/charlie/t.bin"), data);
}

#[test]
fn step_3_broadcast_with_two_trackers_prefers_the_named_one() {
    let r = Root::new(5);
    let data = r.file("s.bin", 100_000, 10_000);
    let _peers = start_peers(&r, 5);
    // A second tracker on another root, answering on the same discovery port, with a
    // file.ini of another file: Charlie must pick the tracker named "tracker".
    let other = Root::new(6);
    other.file("other.bin", 5000, 1000);
    let _other_peers = start_peers(&other, 6);
    let _t2 = other.spawn(&["tracker", "--name", "decoy", "--discovery-port", "19005"]);
    wait_tcp("127.0.6.1:8000");
    let _t1 = r.spawn(&["tracker", "--discovery-port", "19005"]);
    wait_tcp("127.0.5.1:8000");
    let out = r.run(&[
        "charlie",
        "3",
        "--json",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19005",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rep = json(&out);
    let detail = rep["discovery"][0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("2 tracker(s) answered"), "{detail}");
    assert!(detail.contains("\"tracker\" at 127.0.5.1:8000"), "{detail}");
    assert_eq!(r.read("chunks/charlie/s.bin"), data);
    // Preferring the decoy's name takes the other file.
    let out = r.run(&[
        "charlie",
        "3",
        "--json",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19005",
        "--tracker-name",
        "decoy",
    ]);
    let rep = json(&out);
    assert_eq!(rep["filename"], "other.bin");
}

#[test]
fn step_3_without_any_tracker_fails_clearly() {
    let r = Root::new(7);
    let out = r.run(&[
        "charlie",
        "3",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19007",
        "--discovery-wait-ms",
        "200",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no tracker answered on UDP port 19007"),
        "{err}"
    );
}

#[test]
fn a_chunk_deleted_from_alice_comes_from_bob() {
    let r = Root::new(8);
    let data = r.file("d.bin", 90_000, 10_000); // 9 chunks: A A A AB AB AB B B B
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let shared_hash = ini.lines().find(|l| l.starts_with("3 = ")).unwrap()[4..].to_string();
    let _peers = start_peers(&r, 8);
    // Deleted while Alice runs: the directory is the truth.
    std::fs::remove_file(r.path().join(format!("chunks/alice/{shared_hash}.bin"))).unwrap();
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(r.read("chunks/charlie/d.bin"), data);
    let rep = json(&out);
    let alice = rep["download"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == "127.0.8.2:8001")
        .unwrap()
        .clone();
    // Either Bob took it first, or Alice said CHUNK_NOT_FOUND and Bob gave it.
    assert!(alice["chunks"].as_u64().unwrap() <= 5);
}

#[test]
fn a_chunk_only_alice_had_fails_with_a_clear_error_then_resumes() {
    let r = Root::new(9);
    let data = r.file("e.bin", 90_000, 10_000);
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let only_alice = ini.lines().find(|l| l.starts_with("0 = ")).unwrap()[4..].to_string();
    let saved = r.read(&format!("chunks/alice/{only_alice}.bin"));
    std::fs::remove_file(r.path().join(format!("chunks/alice/{only_alice}.bin"))).unwrap();
    let _peers = start_peers(&r, 9);
    let out = r.run(&["charlie", "1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&only_alice) && err.contains("not_found"),
        "{err}"
    );
    // The 8 other chunks are on disk, verified; put the chunk back and run again:
    // only that chunk is fetched.
    assert_eq!(r.chunk_names("charlie").len(), 8);
    r.write(&format!("chunks/alice/{only_alice}.bin"), &saved);
    let out = r.run(&["charlie", "1", "--json"]);
    let rep = json(&out);
    assert_eq!(rep["download"]["resumed_chunks"], 8);
    assert_eq!(rep["download"]["fetched_chunks"], 1);
    assert_eq!(r.read("chunks/charlie/e.bin"), data);
}

#[test]
fn resume_refetches_a_corrupt_chunk_and_nothing_verified() {
    let r = Root::new(10);
    let data = r.file("f.bin", 60_000, 10_000);
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let hashes: Vec<String> = ini
        .lines()
        .filter(|l| l.len() == 44 && l.as_bytes()[1] == b' ')
        .map(|l| l[4..].to_string())
        .collect();
    assert_eq!(hashes.len(), 6);
    std::fs::create_dir_all(r.path().join("chunks/charlie")).unwrap();
    // Chunks 0 and 1 already downloaded; chunk 2 on disk but corrupt; a stale temp file.
    for i in 0..2 {
        r.write(
            &format!("chunks/charlie/{}.bin", hashes[i]),
            &data[i * 10_000..(i + 1) * 10_000],
        );
    }
    r.write(&format!("chunks/charlie/{}.bin", hashes[2]), b"garbage");
    r.write(&format!("chunks/charlie/{}.bin.tmp123", hashes[3]), b"half");
    let _peers = start_peers(&r, 10);
    let rep = json(&r.run(&["charlie", "1", "--json"]));
    assert_eq!(rep["download"]["resumed_chunks"], 2);
    assert_eq!(rep["download"]["fetched_chunks"], 4);
    assert_eq!(r.read("chunks/charlie/f.bin"), data);
    assert!(r.chunk_names("charlie").iter().all(|n| !n.contains("tmp")));
}

#[test]
fn a_wrong_digest_is_never_kept_and_the_other_peer_is_asked() {
    let r = Root::new(11);
    let data = r.file("g.bin", 60_000, 10_000); // A A AB AB B B
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let shared = ini.lines().find(|l| l.starts_with("2 = ")).unwrap()[4..].to_string();
    // Alice's copy of a shared chunk is corrupt (right name, wrong bytes).
    r.write(&format!("chunks/alice/{shared}.bin"), &[0u8; 10_000]);
    let _peers = start_peers(&r, 11);
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(out.status.success());
    assert_eq!(r.read("chunks/charlie/g.bin"), data);
}

/// Copies Alice's chunks to Bob and lists Bob for every chunk in file.ini.
fn give_bob_everything(r: &Root) {
    for n in r.chunk_names("alice") {
        std::fs::copy(
            r.path().join("chunks/alice").join(&n),
            r.path().join("chunks/bob").join(&n),
        )
        .unwrap();
    }
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    r.write(
        "config/file.ini",
        ini.replace("= alice\n", "= alice, bob\n").as_bytes(),
    );
}

/// A fake peer: accepts connections and, per request, does `behave`.
fn fake_peer(addr: &str, behave: fn(&mut TcpStream)) {
    let l = TcpListener::bind(addr).unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || behave(&mut s));
        }
    });
}

#[test]
fn a_silent_peer_times_out_and_a_dropping_peer_is_left() {
    let r = Root::new(12);
    let data = r.file("h.bin", 60_000, 10_000);
    // Alice accepts, reads the request and never answers.
    fake_peer("127.0.12.2:8001", |s| {
        let mut b = [0u8; 28];
        let _ = s.read_exact(&mut b);
        thread::sleep(Duration::from_secs(30));
    });
    let _bob = r.spawn(&["peer", "bob"]);
    wait_tcp("127.0.12.3:8002");
    // Bob has only the shared and his own chunks: Alice's own chunks cannot come.
    let out = r.run(&["charlie", "1", "--json", "--request-timeout", "1"]);
    assert!(!out.status.success());
    let rep = json(&out);
    assert!(rep["error"].as_str().unwrap().contains("timeout"), "{rep}");
    // Give Bob every chunk: the shared and Alice's ones come from him after the timeout.
    give_bob_everything(&r);
    let rep = json(&r.run(&["charlie", "1", "--json", "--request-timeout", "1"]));
    assert_eq!(rep["identical"], true, "{rep}");
    assert_eq!(r.read("chunks/charlie/h.bin"), data);

    // A peer that closes the connection on every request.
    let r = Root::new(13);
    let data = r.file("i.bin", 30_000, 10_000);
    fake_peer("127.0.13.2:8001", |s| {
        let mut b = [0u8; 28];
        let _ = s.read_exact(&mut b);
    });
    give_bob_everything(&r);
    let _bob = r.spawn(&["peer", "bob"]);
    wait_tcp("127.0.13.3:8002");
    let rep = json(&r.run(&["charlie", "1", "--json"]));
    assert_eq!(rep["identical"], true, "{rep}");
    assert_eq!(r.read("chunks/charlie/i.bin"), data);
}

// ---------------------------------------------------------------- deviations

#[test]
fn charlie_accepts_a_type_5_file_info_and_a_split_tracker_info() {
    let r = Root::new(14);
    let data = r.file("j.bin", 25_000, 10_000);
    let _peers = start_peers(&r, 14);
    // A deployed-style tracker: FILE_INFO with type byte 5, reading the request with
    // one recv; TRACKER_INFO sent as two datagrams.
    let info = {
        let _real = r.spawn(&["tracker", "--no-discovery", "--bind", "127.0.14.9:8000"]);
        wait_tcp("127.0.14.9:8000");
        let mut s = conn("127.0.14.9:8000".parse().unwrap());
        s.write_all(&h("0102000000000002")).unwrap();
        let head = read_n(&mut s, 8);
        let words = u32::from_be_bytes(head[4..8].try_into().unwrap()) as usize;
        let mut msg = head.clone();
        msg.extend(read_n(&mut s, words * 4 - 8));
        msg
    };
    let l = TcpListener::bind("127.0.14.1:8000").unwrap();
    let mut type5 = info.clone();
    type5[1] = 5;
    thread::spawn(move || {
        for s in l.incoming() {
            let mut s = s.unwrap();
            let mut b = [0u8; 64];
            let _ = s.read(&mut b);
            let _ = s.write_all(&type5);
        }
    });
    let udp = UdpSocket::bind("0.0.0.0:19014").unwrap();
    thread::spawn(move || {
        let mut b = [0u8; 64];
        while let Ok((_, from)) = udp.recv_from(&mut b) {
            let msg = h("01010000000000067f000e011f400007747261636b657200"); // 127.0.14.1:8000
            udp.send_to(&msg[..8], from).unwrap();
            thread::sleep(Duration::from_millis(20));
            udp.send_to(&msg[8..], from).unwrap();
        }
    });
    let out = r.run(&[
        "charlie",
        "3",
        "--json",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19014",
    ]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r.read("chunks/charlie/j.bin"), data);
}

// ---------------------------------------------------------------- bad input

fn peer_with_chunk(net: u8) -> (Root, Proc, SocketAddr, String) {
    let r = Root::new(net);
    r.file("k.bin", 3_000_000, 3_000_000);
    let hash = r.chunk_names("alice")[0]
        .trim_end_matches(".bin")
        .to_string();
    let p = r.spawn(&["peer", "alice", "--idle-timeout", "2"]);
    let addr = format!("127.0.{net}.2:8001");
    wait_tcp(&addr);
    (r, p, addr.parse().unwrap(), hash)
}

fn get_chunk(hash: &str) -> Vec<u8> {
    let mut m = h("0104000000000007");
    m.extend(h(hash));
    m
}

#[test]
fn peer_answers_bad_requests_and_keeps_the_connection() {
    let (_r, _p, addr, hash) = peer_with_chunk(20);
    let mut s = conn(addr);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (h("0204000000000002"), IMF),                            // version 2
        (h("0109000000000002"), IMF),                            // type 9
        (h("0104000000000000"), IMF),                            // msg_length 0
        (h("0104000000000001"), IMF),                            // msg_length 1
        (h("0102000000000002"), INVALID_REQUEST),                // GET_FILE_INFO to a peer
        ([h("0104000000000008"), vec![0xab; 24]].concat(), IMF), // GET_CHUNK, wrong length
        (h("0104000000000002"), IMF),                            // GET_CHUNK without a hash
        (get_chunk(&"00".repeat(20)), NOT_FOUND),
        (
            [h("0104000000000007"), b"../../../../etc/pass".to_vec()].concat(),
            NOT_FOUND,
        ),
        ([h("0204000000000007"), vec![1; 20]].concat(), IMF), // version 2 with a body
    ];
    for (req, want) in &cases {
        s.write_all(req).unwrap();
        assert_eq!(
            hex::encode(read_n(&mut s, 12)),
            *want,
            "request {}",
            hex::encode(req)
        );
    }
    // Still open: a valid request is served on the same connection.
    s.write_all(&get_chunk(&hash)).unwrap();
    let head = read_n(&mut s, 32);
    assert_eq!(&head[..2], &[1, 5]);
    let n = u32::from_be_bytes(head[28..32].try_into().unwrap()) as usize;
    let content = read_n(&mut s, n + (4 - n % 4) % 4);
    assert_eq!(hex::encode(Sha1::digest(&content[..n])), hash);
}

#[test]
fn peer_accepts_split_and_batched_requests() {
    let (_r, _p, addr, hash) = peer_with_chunk(21);
    let mut s = conn(addr);
    s.set_nodelay(true).unwrap();
    let req = get_chunk(&hash);
    // A header in two segments.
    for part in [&req[..3], &req[3..11], &req[11..]] {
        s.write_all(part).unwrap();
        thread::sleep(Duration::from_millis(30));
    }
    let head = read_n(&mut s, 32);
    let n = u32::from_be_bytes(head[28..32].try_into().unwrap()) as usize;
    read_n(&mut s, n);
    // Three messages in one segment: three replies in order.
    let batch = [
        get_chunk(&"11".repeat(20)),
        h("0102000000000002"),
        get_chunk(&"22".repeat(20)),
    ]
    .concat();
    s.write_all(&batch).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), NOT_FOUND);
    assert_eq!(hex::encode(read_n(&mut s, 12)), INVALID_REQUEST);
    assert_eq!(hex::encode(read_n(&mut s, 12)), NOT_FOUND);
}

#[test]
fn peer_survives_hostile_clients_and_keeps_serving() {
    let (_r, _p, addr, hash) = peer_with_chunk(22);
    // A header announcing 16 GiB: an ERROR, then a clean close.
    let mut s = conn(addr);
    s.write_all(&h("01040000ffffffff")).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), IMF);
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
    // Half a message, then silence: closed after the idle timeout (2 s here).
    let mut half = conn(addr);
    half.write_all(&get_chunk(&hash)[..13]).unwrap();
    // A client that asks for 3 MB and disconnects at once.
    for _ in 0..20 {
        let mut s = conn(addr);
        s.write_all(&get_chunk(&hash)).unwrap();
        drop(s);
    }
    // 1000 idle connections.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Others are still served, and quickly.
    let mut s = conn(addr);
    s.write_all(&get_chunk(&hash)).unwrap();
    let head = read_n(&mut s, 32);
    assert_eq!(&head[..2], &[1, 5]);
    let mut b = [0u8; 1];
    let t0 = Instant::now();
    assert_eq!(half.read(&mut b).unwrap(), 0, "half message not closed");
    assert!(t0.elapsed() < Duration::from_secs(9));
    drop(idle);
}

#[test]
fn tracker_answers_bad_requests_over_tcp_and_udp() {
    let r = Root::new(23);
    r.file("l.bin", 25, 10);
    let _t = r.spawn(&["tracker", "--discovery-port", "19023"]);
    wait_tcp("127.0.23.1:8000");
    let mut s = conn("127.0.23.1:8000".parse().unwrap());
    s.write_all(&get_chunk(&"4d".repeat(20))).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), INVALID_REQUEST);
    s.write_all(&h("0202000000000002")).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), IMF);
    // Two GET_FILE_INFO on one connection: two identical FILE_INFO.
    s.write_all(&[h("0102000000000002"), h("0102000000000002")].concat())
        .unwrap();
    let a = read_n(&mut s, 8);
    assert_eq!(&a[..2], &[1, 3]);
    let words = u32::from_be_bytes(a[4..8].try_into().unwrap()) as usize;
    let body_a = read_n(&mut s, words * 4 - 8);
    let b = read_n(&mut s, words * 4);
    assert_eq!([a, body_a].concat(), b);

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 100];
    for (req, want) in [
        (
            h("0100000000000002"),
            "01010000000000067f0017011f400007747261636b657200",
        ),
        (h("0102000000000002"), INVALID_REQUEST),
        (h("0200000000000002"), IMF),
        (h("0100"), IMF),
    ] {
        udp.send_to(&req, "127.0.0.1:19023").unwrap();
        let (n, _) = udp.recv_from(&mut buf).unwrap();
        assert_eq!(
            hex::encode(&buf[..n]),
            want,
            "UDP request {}",
            hex::encode(&req)
        );
    }
}

// ---------------------------------------------------------------- demo and namespaces

#[test]
fn demo_runs_all_three_steps() {
    let out = Command::new(BIN)
        .args([
            "demo",
            "--size",
            "3MiB",
            "--chunk-size",
            "256KiB",
            "--discovery-port",
            "19030",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = json(&out);
    let steps = rep["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    for s in steps {
        assert_eq!(s["ok"], true, "{s}");
        assert_eq!(s["bytes"], 3 << 20);
        assert_eq!(s["chunks"], 12);
    }
    assert!(rep["sha1_limit_mb_s"].as_f64().unwrap() > 0.0);
}

/// Step 3 with its default destinations (255.255.255.255 and every interface's
/// broadcast address) and the real port 9000, inside a private network namespace
/// where 255.255.255.255 stays on the namespace's loopback.
#[test]
fn step_3_default_broadcast_inside_a_network_namespace() {
    let r = Root::new(0);
    r.write(
        "config/peers.ini",
        swarmlab_course::config::DEFAULT_PEERS_INI.as_bytes(),
    );
    let data = r.file("ns.bin", 100_000, 16_384);
    let script = r#"
        set -e
        ip link set lo up
        ip route add default dev lo
        "$BIN" --root "$ROOT" peer alice >/dev/null 2>&1 &
        "$BIN" --root "$ROOT" peer bob >/dev/null 2>&1 &
        "$BIN" --root "$ROOT" tracker >/dev/null 2>&1 &
        for p in 8001 8002 8000; do
          for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
        done
        "$BIN" --root "$ROOT" charlie 3 --json
        status=$?
        kill $(jobs -p)
        exit $status
    "#;
    let out = Command::new("unshare")
        .args(["-n", "bash", "-c", script])
        .env("BIN", BIN)
        .env("ROOT", r.path())
        .output()
        .expect("unshare (util-linux) is needed for the namespace test");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = json(&out);
    let detail = rep["discovery"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("\"tracker\" at 127.0.0.1:8000"), "{detail}");
    assert_eq!(r.read("chunks/charlie/ns.bin"), data);
}

#[test]
fn many_charlies_at_once_from_the_same_peers() {
    let r = Root::new(24);
    let data = r.file("m.bin", 2_000_000, 100_000);
    let _peers = start_peers(&r, 24);
    // Eight clients, each in its own root with the same configuration, all at once.
    let clients: Vec<Root> = (0..8)
        .map(|_| {
            let c = Root::new(24);
            c.write("config/file.ini", &r.read("config/file.ini"));
            c.write("files/m.bin", &data);
            c
        })
        .collect();
    let children: Vec<_> = clients
        .iter()
        .map(|c| {
            Command::new(BIN)
                .arg("--root")
                .arg(c.path())
                .args(["charlie", "1", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (c, child) in clients.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out)["identical"], true);
        assert_eq!(c.read("chunks/charlie/m.bin"), data);
    }
}
