//! The engine against peers that misbehave.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::error::DownloadError;

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
