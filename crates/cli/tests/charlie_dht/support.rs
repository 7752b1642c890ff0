//! What the tests of this target share: a course tree on 127.18x addresses, a DHT
//! testnet process, DHT-announcing peers, waiting for an announce, the file id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use swarmlab_course::torrent::CourseTorrent;
use swarmlab_course::Layout;

pub use crate::course_support::{json, wait_tcp, Proc, Root, BIN};

/// A course tree whose peers.ini puts the tracker, alice and bob on `{base}.1`,
/// `{base}.2`, `{base}.3` (ports 8000, 8001, 8002).
pub fn root(base: &str) -> Root {
    let r = Root::new(0);
    r.write(
        "config/peers.ini",
        format!(
            "[tracker]\nip_address = {base}.1\nport_number = 8000\n\n[alice]\nip_address = {base}.2\nport_number = 8001\n\n[bob]\nip_address = {base}.3\nport_number = 8002\n"
        )
        .as_bytes(),
    );
    r
}

/// A root with nothing but `files/<name>` (the reference Charlie compares with): no
/// configuration at all.
pub fn bare_root(name: &str, data: &[u8]) -> Root {
    let r = Root::new(0);
    std::fs::remove_dir_all(r.path().join("config")).unwrap();
    r.write(&format!("files/{name}"), data);
    r
}

/// `swarmlab testnet` of `n` nodes from `first`; returns it and its first node.
pub fn testnet(first: &str, n: usize) -> (Proc, String) {
    let mut child = Command::new(BIN)
        .args(["testnet", "--nodes", &n.to_string(), "--first", first])
        .args(["--port", "6881"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let first_node = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(!first_node.is_empty(), "the testnet printed nothing");
    // Keep reading so that the pipe never fills.
    thread::spawn(move || for _ in out.lines() {});
    (Proc(child), first_node)
}

/// Peer `name` of `r` with a DHT node on its own address, bootstrapping from `boot`.
pub fn dht_peer(r: &Root, name: &str, addr: &str, boot: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["peer", name, "--dht", "--dht-bootstrap", boot];
    args.extend_from_slice(extra);
    let p = r.spawn(&args);
    wait_tcp(addr);
    p
}

/// The file id of `r`'s config/file.torrent, and its magnet link without peers.
pub fn file_id(r: &Root) -> (String, String) {
    let t = CourseTorrent::load(&Layout::new(r.path())).unwrap();
    (t.file_id().to_hex(), t.magnet(&[]))
}

/// Polls `swarmlab lookup KEY` (a read-only node on `bind`) until every peer of
/// `want` is returned for `key`.
pub fn wait_announced(key: &str, boot: &str, bind: &str, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(BIN)
            .args(["lookup", key, "--bootstrap", boot, "--bind", bind, "--json"])
            .output()
            .unwrap();
        let peers: Vec<String> = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v["peers"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect();
        if want.iter().all(|w| peers.iter().any(|p| p == w)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{want:?} not announced for {key}: lookup gave {peers:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// Runs Charlie in `r` with `args` and `--json`; returns its report and exit status.
pub fn charlie(r: &Root, args: &[&str]) -> (serde_json::Value, bool) {
    let mut a = vec!["charlie"];
    a.extend_from_slice(args);
    a.push("--json");
    let out = r.run(&a);
    (json(&out), out.status.success())
}

/// The runs of source `name` in `report`'s discovery, in order.
pub fn runs<'a>(report: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    report["discovery"]
        .as_array()
        .map(|d| d.iter().filter(|s| s["source"] == name).collect())
        .unwrap_or_default()
}

/// Chunks `report` says `addr` gave.
pub fn chunks_from(report: &serde_json::Value, addr: &str) -> u64 {
    crate::course_support::chunks_from(report, addr)
}

/// Alice and Bob announcing a file into a testnet, all on 127.`b`.x.y: the testnet
/// from 127.`b`.0.1, the peers on 127.`b`.1.2 and .3, lookups from 127.`b`.9.1.
pub struct Announced {
    /// The testnet, then the peers (stopped when dropped).
    _procs: Vec<Proc>,
    /// The peers' course tree (removed when dropped).
    _root: Root,
    /// The testnet's first node.
    pub boot: String,
    /// The file.
    pub data: Vec<u8>,
    /// Its file id.
    pub id: String,
    /// Its magnet link, without peers.
    pub magnet: String,
}

impl Announced {
    /// Charlie's arguments for a trackerless run: the magnet, the testnet's first
    /// node, a DHT node of its own on `bind`.
    pub fn trackerless_args<'a>(&'a self, bind: &'a str) -> [&'a str; 6] {
        [
            "--magnet",
            &self.magnet,
            "--dht-bootstrap",
            &self.boot,
            "--dht-bind",
            bind,
        ]
    }
}

/// Starts [`Announced`] for a file `name` of `size` bytes in chunks of `chunk`, and
/// waits until both peers are found under the file id.
pub fn announced(b: u8, name: &str, size: usize, chunk: usize) -> Announced {
    let (net, boot) = testnet(&format!("127.{b}.0.1"), 8);
    let root = root(&format!("127.{b}.1"));
    let data = root.file(name, size, chunk);
    let (a, p) = (format!("127.{b}.1.2:8001"), format!("127.{b}.1.3:8002"));
    let alice = dht_peer(&root, "alice", &a, &boot, &[]);
    let bob = dht_peer(&root, "bob", &p, &boot, &[]);
    let (id, magnet) = file_id(&root);
    wait_announced(&id, &boot, &format!("127.{b}.9.1:0"), &[&a, &p]);
    Announced {
        _procs: vec![net, alice, bob],
        _root: root,
        boot,
        data,
        id,
        magnet,
    }
}
