//! What the fetch tests share.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swarmlab_bt_wire::{tracker, InfoHash};
pub use swarmlab_tests::lt_seed::LtSeed;

pub const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

/// The peers announced to a recording tracker, per info-hash, in the order they
/// first announced: the IP a query came from and the port it asked.
#[derive(Clone, Default)]
pub struct Announced(Arc<Mutex<HashMap<[u8; 20], Vec<SocketAddr>>>>);

impl Announced {
    /// Records `from` (when the query gave a port) and returns every peer of the
    /// torrent, `from` included.
    fn record(&self, ih: [u8; 20], from: Option<SocketAddr>) -> Vec<SocketAddr> {
        let mut m = self.0.lock().unwrap();
        let e = m.entry(ih).or_default();
        if let Some(a) = from.filter(|a| !e.contains(a)) {
            e.push(a);
        }
        e.clone()
    }

    /// Waits up to `timeout` for `addr` to announce `info_hash` (hex); whether it did.
    pub fn wait_for(&self, info_hash: &str, addr: SocketAddr, timeout: Duration) -> bool {
        let t0 = Instant::now();
        loop {
            let found =
                self.0.lock().unwrap().iter().any(|(ih, peers)| {
                    InfoHash(*ih).to_hex() == info_hash && peers.contains(&addr)
                });
            if found || t0.elapsed() > timeout {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A recording tracker running on a thread until the test process ends: every
/// announce is remembered and answered with every peer of its torrent (interval 5 s).
pub struct Tracker {
    /// Its announce URL.
    pub url: String,
    /// Who announced.
    pub announced: Announced,
}

/// A recording HTTP tracker on `bind`.
pub fn http_tracker(bind: &str) -> Tracker {
    let l = TcpListener::bind(bind).unwrap();
    let url = format!("http://{}/announce", l.local_addr().unwrap());
    let announced = Announced::default();
    let peers = announced.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let peers = peers.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    if s.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split_whitespace().nth(1).unwrap_or("");
                let query = target.split_once('?').map(|x| x.1).unwrap_or("");
                let Some(ih) = tracker::http_query_info_hash(query) else {
                    return;
                };
                let port: Option<u16> = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("port="))
                    .and_then(|p| p.parse().ok());
                let ip = s.peer_addr().unwrap().ip();
                let list = peers.record(ih.0, port.map(|p| SocketAddr::new(ip, p)));
                let body = tracker::http_response_body(5, &list);
                let _ = s.write_all(
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                let _ = s.write_all(&body);
            });
        }
    });
    Tracker { url, announced }
}

/// A recording UDP tracker (BEP 15) on `bind`.
pub fn udp_tracker(bind: &str) -> Tracker {
    let sock = UdpSocket::bind(bind).unwrap();
    let url = format!("udp://{}/announce", sock.local_addr().unwrap());
    let announced = Announced::default();
    let peers = announced.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 2048];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                return;
            };
            let answer =
                |ih: InfoHash, port| Ok(peers.record(ih.0, Some(SocketAddr::new(from.ip(), port))));
            let Some(reply) = swarmlab_tests::udp_tracker::reply(&buf[..n], 5, answer) else {
                continue;
            };
            let _ = sock.send_to(&reply, from);
        }
    });
    Tracker { url, announced }
}

/// Runs the binary to the end.
pub fn swarmlab(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// `fetch ARGS --json --quiet`, which must succeed; its JSON summary.
pub fn fetch_ok(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["fetch"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "--quiet"]);
    let out = swarmlab(&all);
    assert!(
        out.status.success(),
        "fetch failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Every regular file under `root`, by relative path, with its bytes.
pub fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, d: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let mut es: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap()).collect();
        es.sort_by_key(|e| e.file_name());
        for e in es {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    if root.is_dir() {
        walk(root, root, &mut out);
    } else {
        out.push((
            PathBuf::from(root.file_name().unwrap()),
            std::fs::read(root).unwrap(),
        ));
    }
    out
}

/// The peer entry of `addr` in a fetch summary.
pub fn peer<'a>(rep: &'a serde_json::Value, addr: &SocketAddr) -> Option<&'a serde_json::Value> {
    rep["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == addr.to_string())
}

/// A `swarmlab` process killed when dropped, its standard output read by line.
pub struct Running {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts the binary with `args`.
    pub fn start(args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        Running { child, out }
    }

    /// Reads lines until one starts with `prefix`, and returns it (trimmed).
    pub fn line_starting(&mut self, prefix: &str) -> String {
        loop {
            let mut line = String::new();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "the output ended before a line starting {prefix:?}");
            if line.starts_with(prefix) {
                return line.trim().to_string();
            }
        }
    }

    /// Reads up to the line `seed` and `fetch --seed` print once they serve, and
    /// returns the address in it (`… on ADDR (Ctrl-C to stop)`).
    pub fn serving_addr(&mut self) -> SocketAddr {
        let line = self.line_starting("seeding");
        let (_, rest) = line.rsplit_once(" on ").unwrap();
        let addr = rest.split_whitespace().next().unwrap();
        addr.parse()
            .unwrap_or_else(|e| panic!("{e}: no address in {line:?}"))
    }
}

/// Starts `swarmlab seed ARGS`; its magnet link, its address, and the process.
pub fn start_seed(args: &[&str]) -> (String, SocketAddr, Running) {
    let mut all = vec!["seed"];
    all.extend_from_slice(args);
    let mut seed = Running::start(&all);
    let magnet = seed.line_starting("magnet:?xt=urn:btih:");
    let addr = seed.serving_addr();
    (magnet, addr, seed)
}

/// The info-hash (hex) of a magnet link.
pub fn magnet_info_hash(magnet: &str) -> String {
    let at = magnet.find("btih:").unwrap() + 5;
    magnet[at..at + 40].to_ascii_lowercase()
}

/// A libtorrent client (`lt_fetch.py`, run to its end) on `listen` downloading
/// `magnet` into a new directory, with more of the script's arguments: the
/// directory and the script's JSON line.
pub fn lt_fetch_magnet(
    magnet: &str,
    listen: &str,
    args: &[&str],
) -> (tempfile::TempDir, serde_json::Value) {
    let save = tempfile::tempdir().unwrap();
    let mut all = vec![
        "--magnet",
        magnet,
        "--save",
        save.path().to_str().unwrap(),
        "--listen",
        listen,
    ];
    all.extend_from_slice(args);
    swarmlab_tests::require_libtorrent();
    let out = Command::new(swarmlab_tests::python())
        .arg(swarmlab_tests::script("lt_fetch.py"))
        .args(&all)
        .output()
        .unwrap();
    let rep = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("lt_fetch: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    (save, rep)
}

/// `n` bytes of a fixed pseudo-random sequence, written at `path`.
pub fn write_payload(path: &Path, n: usize) {
    let mut x: u32 = 0x9e37_79b9 ^ n as u32;
    let data: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(path, data).unwrap();
}

/// A 12-node DHT testnet of ours from `first` on (node i on `first` + i), each
/// node knowing at least 6 others; the runtime it runs on comes with it.
pub fn dht_testnet(first: &str) -> (tokio::runtime::Runtime, Vec<swarmlab_dht_driver::Dht>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let net = rt.block_on(async {
        let cfg = swarmlab_dht::node::NodeConfig {
            limits: swarmlab_dht::limits::Limits::unlimited(),
            ..Default::default()
        };
        let net = swarmlab_dht_driver::testnet(12, first.parse().unwrap(), 6881, cfg)
            .await
            .unwrap();
        net[11]
            .wait_for_nodes(6, Duration::from_secs(10))
            .await
            .unwrap();
        net
    });
    (rt, net)
}

/// Waits up to 30 s for `path` to exist; whether it does.
pub fn wait_for_file(path: &Path) -> bool {
    let t0 = Instant::now();
    while !path.exists() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    path.exists()
}
