//! Shared helpers of the audit integration tests: a real libtorrent swarm (through
//! tests/python/swarm.py), and small HTTP and UDP trackers of our own.
#![allow(dead_code)]

use serde::Deserialize;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use swarmlab_bt_wire::tracker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const PYTHON: &str = "/usr/bin/python3";

#[derive(Debug, Clone, Deserialize)]
pub struct SwarmPeer {
    pub addr: SocketAddr,
    /// "seed", "leech" (fixed completion, upload mode) or "download" (rate-limited downloader).
    pub role: String,
    pub session: usize,
    pub seed: bool,
    pub pieces: usize,
    pub have: Vec<u32>,
    pub completion: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SwarmInfo {
    pub torrent: PathBuf,
    pub info_hash: String,
    pub num_pieces: usize,
    pub piece_size: u64,
    pub total_size: u64,
    pub libtorrent_version: String,
    pub peers: Vec<SwarmPeer>,
}

/// A running swarm; stops when dropped (its stdin closes).
pub struct Swarm {
    pub info: SwarmInfo,
    pub dir: tempfile::TempDir,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Swarm {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn helper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/swarm.py")
}

/// Start `swarm.py` with `args`. Fails loudly when libtorrent is missing.
pub fn start_swarm(args: &[&str]) -> Swarm {
    let check = Command::new(PYTHON)
        .args(["-c", "import libtorrent"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {PYTHON}: {e}; these tests need Debian's python3-libtorrent")
        });
    assert!(
        check.status.success(),
        "python3-libtorrent is missing: `apt-get install python3-libtorrent` (these tests run real libtorrent peers): {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(PYTHON)
        .arg(helper())
        .arg("--dir")
        .arg(dir.path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn swarm.py");
    let stdin = child.stdin.take();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read swarm.py output");
    let info: SwarmInfo = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("swarm.py did not start ({e}): {line}"));
    Swarm {
        info,
        dir,
        child,
        stdin,
    }
}

/// A small HTTP tracker answering every announce for `info_hash` with `peers` (compact).
pub struct HttpTracker {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
}

pub async fn http_tracker(
    info_hash: [u8; 20],
    peers: Vec<SocketAddr>,
    failure: Option<&'static str>,
) -> HttpTracker {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let peers = peers.clone();
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
                let query = path.split_once('?').map(|x| x.1).unwrap_or("");
                let body = if let Some(f) = failure {
                    format!("d14:failure reason{}:{}e", f.len(), f).into_bytes()
                } else if tracker::http_query_info_hash(query).map(|i| i.0) == Some(info_hash) {
                    h.fetch_add(1, Ordering::SeqCst);
                    tracker::http_response_body(60, &peers)
                } else {
                    b"d14:failure reason17:unknown info_hashe".to_vec()
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
                let _ = s.shutdown().await;
            });
        }
    });
    HttpTracker { url, hits }
}

/// A small UDP tracker (BEP 15). It ignores the first `drop_first` packets it gets,
/// so the client's retries are exercised.
pub struct UdpTracker {
    pub url: String,
    pub packets: Arc<AtomicUsize>,
}

pub async fn udp_tracker(
    info_hash: [u8; 20],
    peers: Vec<SocketAddr>,
    drop_first: usize,
) -> UdpTracker {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let url = format!("udp://{}/announce", sock.local_addr().unwrap());
    let packets = Arc::new(AtomicUsize::new(0));
    let p = packets.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        let cid: u64 = 0x1234_5678_9abc_def0;
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let k = p.fetch_add(1, Ordering::SeqCst);
            if k < drop_first {
                continue;
            }
            let reply = match tracker::udp_parse_request(&buf[..n]) {
                Ok(tracker::UdpRequest::Connect { transaction_id }) => {
                    tracker::udp_connect_response(transaction_id, cid).to_vec()
                }
                Ok(tracker::UdpRequest::Announce {
                    connection_id,
                    transaction_id,
                    info_hash: ih,
                    ..
                }) => {
                    if connection_id != cid {
                        tracker::udp_error_response(transaction_id, "bad connection id")
                    } else if ih.0 != info_hash {
                        tracker::udp_error_response(transaction_id, "unknown info_hash")
                    } else {
                        tracker::udp_announce_response(transaction_id, 60, 1, 1, &peers)
                    }
                }
                Err(_) => continue,
            };
            let _ = sock.send_to(&reply, from).await;
        }
    });
    UdpTracker { url, packets }
}

pub fn info_hash_bytes(hex_str: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    hex::decode_to_slice(hex_str, &mut out).unwrap();
    out
}
