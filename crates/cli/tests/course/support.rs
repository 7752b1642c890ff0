//! What the course tests share: a course tree in a temporary directory, the real
//! binary's roles as child processes, and small socket helpers.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A course tree in a temporary directory.
pub struct Root {
    pub dir: tempfile::TempDir,
}

impl Root {
    /// A root whose peers.ini puts the tracker, alice and bob on 127.0.`net`.1/2/3.
    pub fn new(net: u8) -> Root {
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
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn write(&self, rel: &str, data: &[u8]) {
        std::fs::write(self.path().join(rel), data).unwrap();
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
    /// Starts a long-running role; killed when dropped.
    pub fn spawn(&self, args: &[&str]) -> Proc {
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
    pub fn file(&self, name: &str, size: usize, chunk_size: usize) -> Vec<u8> {
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

pub fn start_peers(r: &Root, net: u8) -> (Proc, Proc) {
    let a = r.spawn(&["peer", "alice"]);
    let b = r.spawn(&["peer", "bob"]);
    wait_tcp(&format!("127.0.{net}.2:8001"));
    wait_tcp(&format!("127.0.{net}.3:8002"));
    (a, b)
}

pub fn json(out: &Output) -> serde_json::Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&s).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {s}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn chunks_from(report: &serde_json::Value, addr: &str) -> u64 {
    report["download"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == addr)
        .map(|p| p["chunks"].as_u64().unwrap())
        .unwrap_or(0)
}

pub fn conn(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

pub fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).unwrap();
    b
}

pub const IMF: &str = "010600000000000300000000";

pub const INVALID_REQUEST: &str = "010600000000000300010000";

pub const NOT_FOUND: &str = "010600000000000300020000";

/// Copies Alice's chunks to Bob and lists Bob for every chunk in file.ini.
pub fn give_bob_everything(r: &Root) {
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
pub fn fake_peer(addr: &str, behave: fn(&mut TcpStream)) {
    let l = TcpListener::bind(addr).unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || behave(&mut s));
        }
    });
}

pub fn peer_with_chunk(net: u8) -> (Root, Proc, SocketAddr, String) {
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

pub fn get_chunk(hash: &str) -> Vec<u8> {
    let mut m = h("0104000000000007");
    m.extend(h(hash));
    m
}
