//! What the BitTorrent-mode tests share: a course tree whose roles live on
//! 127.`net`.0.x, the real binary's roles as child processes (each killed by its own
//! handle when dropped), a loopback DHT testnet of ours, the libtorrent client
//! (`tests/python/lt_fetch.py`) and DHT lookups through `swarmlab lookup`.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

/// A course tree in a temporary directory; its peers.ini puts the tracker, alice and
/// bob on 127.`net`.0.1/2/3 (ports 8000, 8001, 8002).
pub struct Root {
    pub dir: tempfile::TempDir,
    pub net: u8,
}

impl Root {
    pub fn new(net: u8) -> Root {
        let dir = tempfile::tempdir().unwrap();
        for d in ["config", "files"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let r = Root { dir, net };
        r.write(
            "config/peers.ini",
            format!(
                "[tracker]\nip_address = 127.{net}.0.1\nport_number = 8000\n\n[alice]\nip_address = 127.{net}.0.2\nport_number = 8001\n\n[bob]\nip_address = 127.{net}.0.3\nport_number = 8002\n"
            )
            .as_bytes(),
        );
        r
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    /// 127.`net`.0.`last`:`port`.
    pub fn addr(&self, last: u8, port: u16) -> String {
        format!("127.{}.0.{last}:{port}", self.net)
    }
    pub fn alice(&self) -> String {
        self.addr(2, 8001)
    }
    pub fn bob(&self) -> String {
        self.addr(3, 8002)
    }
    pub fn write(&self, rel: &str, data: &[u8]) {
        let p = self.path().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, data).unwrap();
    }
    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path().join(rel)).unwrap()
    }
    /// Runs a swarmlab command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--root")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap()
    }
    /// Runs a swarmlab command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "swarmlab {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    /// Starts a long-running role; killed when dropped.
    pub fn spawn(&self, args: &[&str]) -> Proc {
        let child = Command::new(BIN)
            .arg("--root")
            .arg(self.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Proc(child)
    }
    /// A file of `size` bytes in files/, chunked with `chunk_size`; returns its bytes
    /// and the magnet link `chunks create` printed.
    pub fn file(&self, name: &str, size: usize, chunk_size: usize) -> (Vec<u8>, String) {
        let data: Vec<u8> = (0..size)
            .map(|i| (i as u32).wrapping_mul(2654435761).to_be_bytes()[1])
            .collect();
        self.write(&format!("files/{name}"), &data);
        let out = self.ok(&[
            "chunks",
            "create",
            name,
            "--chunk-size",
            &chunk_size.to_string(),
        ]);
        let magnet = out
            .lines()
            .find(|l| l.starts_with("magnet:?"))
            .unwrap_or_else(|| panic!("no magnet link in {out:?}"))
            .to_string();
        (data, magnet)
    }
    /// The names of the files in chunks/`who`/, sorted.
    pub fn chunk_names(&self, who: &str) -> Vec<String> {
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

/// A child process, killed (by its own handle) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_tcp(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `cond` holds, or panics saying `what`.
pub fn eventually(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "never: {what}");
        thread::sleep(Duration::from_millis(200));
    }
}

/// `swarmlab testnet`: `n` DHT nodes of ours on 127.`net`.1.1.. port 6881, up once
/// it printed its addresses. The first node's address is the bootstrap.
pub struct Testnet {
    _proc: Proc,
    pub bootstrap: String,
}

pub fn testnet(net: u8, n: usize) -> Testnet {
    let first = format!("127.{net}.1.1");
    let mut child = Command::new(BIN)
        .args(["testnet", "--nodes", &n.to_string(), "--first", &first])
        .args(["--port", "6881"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let proc = Proc(child);
    let mut lines = BufReader::new(out).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("testnet:") {
            break;
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    thread::spawn(move || for _ in lines {});
    Testnet {
        _proc: proc,
        bootstrap: format!("{first}:6881"),
    }
}

/// The peers a DHT lookup of `hash` finds (`swarmlab lookup` from `bind`).
pub fn dht_peers(hash: &str, bind: &str, bootstrap: &str) -> Vec<String> {
    let out = Command::new(BIN)
        .args([
            "lookup",
            hash,
            "--bind",
            bind,
            "--bootstrap",
            bootstrap,
            "--json",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["peers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the libtorrent client (`lt_fetch.py`) to the end: its JSON report.
pub fn lt_fetch(magnet: &str, save: &Path, listen: &str, extra: &[&str]) -> Value {
    swarmlab_tests::require_libtorrent();
    let out = Command::new(swarmlab_tests::python())
        .arg(swarmlab_tests::script("lt_fetch.py"))
        .args(["--magnet", magnet, "--listen", listen, "--timeout", "90"])
        .arg("--save")
        .arg(save)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "lt_fetch.py printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The pieces libtorrent got from `peer`, per its report.
pub fn pieces_from(report: &Value, peer: &str) -> Vec<u64> {
    let mut v: Vec<u64> = report["peers"][peer]["pieces"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    v.sort();
    v
}

pub fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The file id (hex) in a magnet link.
pub fn file_id_of(magnet: &str) -> String {
    magnet["magnet:?xt=urn:btih:".len()..][..40].to_string()
}

/// Runs `python3 -c code` under the libtorrent interpreter: its standard output.
pub fn python(code: &str) -> String {
    swarmlab_tests::require_libtorrent();
    let out = Command::new(swarmlab_tests::python())
        .args(["-c", code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
