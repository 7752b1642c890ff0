//! The engine against peers that misbehave.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::error::DownloadError;
use swarmlab_course_wire::ChunkHash;

/// A peer that answers every GET_CHUNK with the header and prefix of a CHUNK of
/// 4 GiB for the hash asked, consistent in every field, then sends nothing more and
/// keeps the connection open.
async fn peer_announcing_4_gib() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            tokio::spawn(async move {
                let mut req = [0u8; 28];
                while s.read_exact(&mut req).await.is_ok() {
                    let n: u32 = u32::MAX - 35; // 32 + n is a multiple of 4
                    let mut reply = vec![1, 5, 0, 0];
                    reply.extend_from_slice(&((32 + u64::from(n)) as u32 / 4).to_be_bytes());
                    reply.extend_from_slice(&req[8..28]);
                    reply.extend_from_slice(&n.to_be_bytes());
                    s.write_all(&reply).await.unwrap();
                }
                std::future::pending::<()>().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_chunk_larger_than_the_largest_is_refused_before_its_body() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = peer_announcing_4_gib().await;
    let manifest = Manifest {
        filename: "f".into(),
        chunks: vec![[7; 20]],
    };
    let mut opts = EngineOptions::new(dir.path().to_path_buf());
    // Long enough that waiting for the body (what happens without the size check)
    // ends as a timeout, not as the protocol error expected here.
    opts.request_timeout = Duration::from_secs(60);
    opts.max_peer_failures = 1;
    let e = download(&manifest, &[vec![hostile]], &opts)
        .await
        .unwrap_err();
    let DownloadError::Incomplete(missing) = e else {
        panic!("{e}")
    };
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].failures, vec![(hostile, FailureKind::Protocol)]);
    assert!(
        missing[0].to_string().contains("protocol"),
        "{}",
        missing[0]
    );
}

/// Chunks of `data` split in `n` parts, written under `dir` (a peer's directory).
fn chunks_in(dir: &std::path::Path, parts: &[&[u8]]) -> Vec<ChunkHash> {
    std::fs::create_dir_all(dir).unwrap();
    parts
        .iter()
        .map(|p| {
            let h = crate::chunks::sha1(p);
            std::fs::write(dir.join(crate::layout::chunk_file_name(&h)), p).unwrap();
            h
        })
        .collect()
}

/// A peer serving `dir` on 127.0.0.1.
async fn serve(dir: &std::path::Path) -> crate::running::Running {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    crate::running::start_server(
        l,
        crate::peer::PeerResponder::new(dir.to_path_buf()),
        crate::server::ServerLimits::default(),
    )
    .unwrap()
}

/// Answers each refill with the next scripted list, recording what it was asked.
struct Scripted {
    answers: Vec<Vec<(ChunkHash, SocketAddr)>>,
    asked: Vec<Vec<ChunkHash>>,
}

impl Refill for Scripted {
    fn refill<'a>(&'a mut self, lacking: &'a Lacking) -> futures::future::BoxFuture<'a, Refilled> {
        self.asked.push(lacking.chunks.clone());
        let holders = if self.answers.is_empty() {
            Vec::new()
        } else {
            self.answers.remove(0)
        };
        Box::pin(async move {
            Refilled {
                holders,
                presumed: Vec::new(),
            }
        })
    }
}

#[tokio::test]
async fn a_chunk_missing_everywhere_known_is_refilled_during_the_download() {
    let root = tempfile::tempdir().unwrap();
    let parts: [&[u8]; 3] = [b"first chunk", b"second chunk", b"third chunk"];
    let hashes = chunks_in(&root.path().join("alice"), &parts);
    // Alice is listed for every chunk but lost the second; Bob, whom nobody listed,
    // has it.
    std::fs::remove_file(
        root.path()
            .join("alice")
            .join(crate::layout::chunk_file_name(&hashes[1])),
    )
    .unwrap();
    chunks_in(&root.path().join("bob"), &parts[1..2]);
    let alice = serve(&root.path().join("alice")).await;
    let bob = serve(&root.path().join("bob")).await;
    let manifest = Manifest {
        filename: "f".into(),
        chunks: hashes.clone(),
    };
    let opts = EngineOptions::new(root.path().join("charlie"));
    let mut refill = Scripted {
        answers: vec![vec![(hashes[1], bob.addr), ([9; 20], bob.addr)]],
        asked: Vec::new(),
    };
    let holders = vec![vec![alice.addr]; 3];
    let r = download_with(&manifest, &holders, &[], &opts, Some(&mut refill))
        .await
        .unwrap();
    assert_eq!(refill.asked, vec![vec![hashes[1]]]);
    assert_eq!(r.refills, 1);
    assert_eq!(r.fetched_chunks, 3);
    let by = |a: SocketAddr| r.peers.iter().find(|p| p.addr == a.to_string()).unwrap();
    assert_eq!(by(alice.addr).chunks, 2);
    assert_eq!(by(alice.addr).failures[&FailureKind::NotFound], 1);
    assert_eq!(by(bob.addr).chunks, 1);
    assert!(r.first_chunk_s.is_some());
}

#[tokio::test]
async fn a_refill_that_finds_nothing_is_asked_once_and_the_chunk_fails() {
    let root = tempfile::tempdir().unwrap();
    let hashes = chunks_in(&root.path().join("alice"), &[b"only chunk"]);
    let missing = crate::chunks::sha1(b"nobody has this");
    let alice = serve(&root.path().join("alice")).await;
    let manifest = Manifest {
        filename: "f".into(),
        chunks: vec![hashes[0], missing],
    };
    let opts = EngineOptions::new(root.path().join("charlie"));
    let mut refill = Scripted {
        answers: Vec::new(),
        asked: Vec::new(),
    };
    let holders = vec![vec![alice.addr], vec![]];
    let e = download_with(&manifest, &holders, &[], &opts, Some(&mut refill))
        .await
        .unwrap_err();
    let DownloadError::Incomplete(m) = e else {
        panic!("{e}")
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].hash, missing);
    assert_eq!(refill.asked, vec![vec![missing]]);
}

#[tokio::test]
async fn a_peer_given_up_mid_download_is_replaced_by_the_refill() {
    let root = tempfile::tempdir().unwrap();
    let parts: [&[u8]; 2] = [b"chunk a", b"chunk b"];
    let hashes = chunks_in(&root.path().join("bob"), &parts);
    let bob = serve(&root.path().join("bob")).await;
    // Nothing listens here: three refused connections and the peer is given up.
    let dead: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let manifest = Manifest {
        filename: "f".into(),
        chunks: hashes.clone(),
    };
    let opts = EngineOptions::new(root.path().join("charlie"));
    let mut refill = Scripted {
        answers: vec![hashes.iter().map(|h| (*h, bob.addr)).collect()],
        asked: Vec::new(),
    };
    let r = download_with(
        &manifest,
        &[vec![dead], vec![dead]],
        &[],
        &opts,
        Some(&mut refill),
    )
    .await
    .unwrap();
    assert_eq!(refill.asked.len(), 1);
    let mut asked = refill.asked[0].clone();
    asked.sort();
    let mut want = hashes.clone();
    want.sort();
    assert_eq!(asked, want);
    let by = |a: SocketAddr| r.peers.iter().find(|p| p.addr == a.to_string()).unwrap();
    assert_eq!(by(bob.addr).chunks, 2);
    assert_eq!(by(dead).failures[&FailureKind::Connection], 3);
}

#[tokio::test]
async fn refills_stop_at_max_refills_even_when_each_names_a_new_peer() {
    let root = tempfile::tempdir().unwrap();
    let manifest = Manifest {
        filename: "f".into(),
        chunks: vec![[5; 20]],
    };
    // Each answer names a new peer that refuses connections.
    let dead = |i: u8| SocketAddr::from(([127, 169, 220, i], 9));
    let mut refill = Scripted {
        answers: (1..=10).map(|i| vec![([5; 20], dead(i))]).collect(),
        asked: Vec::new(),
    };
    let mut opts = EngineOptions::new(root.path().join("charlie"));
    opts.max_refills = 3;
    opts.max_peer_failures = 1;
    let e = download_with(&manifest, &[vec![]], &[], &opts, Some(&mut refill))
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::Incomplete(_)), "{e}");
    assert_eq!(refill.asked.len(), 3);
}
