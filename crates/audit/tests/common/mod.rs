//! Shared helpers of the audit integration tests: small HTTP and UDP trackers of our
//! own (the real libtorrent swarm is `swarmlab_tests::swarm`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use swarmlab_bt_wire::tracker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The head of an HTTP request (up to the blank line, at most 8 KiB).
async fn read_request(s: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = vec![0u8; 8192];
    let mut n = 0;
    while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
        match s.read(&mut buf[n..]).await {
            Ok(0) | Err(_) => return None,
            Ok(k) => n += k,
        }
    }
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
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
                let Some(req) = read_request(&mut s).await else {
                    return;
                };
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
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let k = p.fetch_add(1, Ordering::SeqCst);
            if k < drop_first {
                continue;
            }
            let answer = |ih: swarmlab_bt_wire::InfoHash, _port| {
                if ih.0 == info_hash {
                    Ok(peers.clone())
                } else {
                    Err("unknown info_hash")
                }
            };
            let Some(reply) = swarmlab_tests::udp_tracker::reply(&buf[..n], 60, answer) else {
                continue;
            };
            let _ = sock.send_to(&reply, from).await;
        }
    });
    UdpTracker { url, packets }
}

/// An HTTP tracker that answers every request with `head` (status line and headers,
/// without the blank line) and then `body`; then it closes the connection when
/// `close`, or keeps it open for a while (so a client that waits for a declared
/// length waits).
pub async fn raw_http_tracker(head: String, body: Vec<u8>, close: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let (head, body) = (head.clone(), body.clone());
            tokio::spawn(async move {
                if read_request(&mut s).await.is_none() {
                    return;
                }
                let _ = s.write_all(format!("{head}\r\n\r\n").as_bytes()).await;
                let _ = s.write_all(&body).await;
                let _ = s.flush().await;
                if !close {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                }
            });
        }
    });
    url
}
