//! What the fetch tests share.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use swarmlab_bt_wire::tracker;
pub use swarmlab_tests::lt_seed::LtSeed;

pub const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

/// A recording HTTP tracker: every announce is remembered (the connection's IP and
/// the `port` asked) and answered with every peer of the torrent. Runs on a thread
/// until the test process ends.
pub fn http_tracker(bind: &str) -> String {
    let l = TcpListener::bind(bind).unwrap();
    let addr = l.local_addr().unwrap();
    let peers: Arc<Mutex<HashMap<[u8; 20], Vec<SocketAddr>>>> = Arc::default();
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
                let list = {
                    let mut m = peers.lock().unwrap();
                    let e = m.entry(ih.0).or_default();
                    if let Some(p) = port {
                        let a = SocketAddr::new(ip, p);
                        if !e.contains(&a) {
                            e.push(a);
                        }
                    }
                    e.clone()
                };
                let body = tracker::http_response_body(5, &list);
                let _ = s.write_all(
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                let _ = s.write_all(&body);
            });
        }
    });
    format!("http://{addr}/announce")
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
