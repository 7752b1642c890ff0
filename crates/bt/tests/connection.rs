//! Two connections over loopback TCP (127.151.0.x): a seed that accepts incoming
//! sessions for the torrents it serves, and a client that dials it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sha1::{Digest, Sha1};
use swarmlab_bt::{Connection, ConnectionError};
use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{BlockRef, Event, SessionConfig, Torrent};
use swarmlab_bt_wire::wire::BLOCK_SIZE;
use swarmlab_bt_wire::{InfoHash, SessionError};
use tokio::net::TcpListener;

fn torrent(pieces: usize) -> (Info, Arc<Vec<u8>>) {
    let plen = 2 * BLOCK_SIZE as usize;
    let payload: Vec<u8> = (0..pieces * plen - 1000).map(|i| (i % 253) as u8).collect();
    let hashes: Vec<u8> = payload
        .chunks(plen)
        .flat_map(|c| Sha1::digest(c).to_vec())
        .collect();
    let raw = dict([
        ("length", Value::Int(payload.len() as i64)),
        ("name", Value::bytes("x")),
        ("piece length", Value::Int(plen as i64)),
        ("pieces", Value::Bytes(hashes)),
    ])
    .encode();
    (Info::from_bytes(&raw).unwrap(), Arc::new(payload))
}

/// A listener serving `info` to every peer that asks for it (and refusing others):
/// have_all, unchoke, and every request answered from the payload.
async fn seed(bind: &str, info: Info, payload: Arc<Vec<u8>>) -> SocketAddr {
    let l = TcpListener::bind(bind).await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = l.accept().await {
            let (info, payload) = (info.clone(), payload.clone());
            tokio::spawn(async move {
                let mut c = Connection::incoming(stream, SessionConfig::new([2; 20])).unwrap();
                while let Ok(ev) = c.next_event().await {
                    match ev {
                        Event::HandshakeReceived(h) if h.info_hash == info.info_hash => {
                            c.accept(Torrent::from_info(&info)).unwrap()
                        }
                        Event::HandshakeReceived(_) => c.refuse().unwrap(),
                        Event::Established(_) => {
                            let s = c.session_mut();
                            s.send_have_all().unwrap();
                            s.unchoke().unwrap();
                        }
                        Event::Request(r) => {
                            let at =
                                r.index as usize * info.piece_length as usize + r.begin as usize;
                            let data = &payload[at..at + r.length as usize];
                            c.session_mut().send_piece(r.index, r.begin, data).unwrap();
                        }
                        _ => {}
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_client_downloads_every_block_from_a_seed() {
    let (info, payload) = torrent(6);
    let addr = seed("127.151.0.1:0", info.clone(), payload.clone()).await;
    let mut c = Connection::connect(
        addr,
        Duration::from_secs(5),
        SessionConfig::new([1; 20]),
        Torrent::new(info.info_hash),
    )
    .await
    .unwrap();
    assert_eq!(c.peer_addr(), addr);
    let mut got = vec![0u8; payload.len()];
    let mut blocks = 0;
    let mut wanted = Vec::new();
    loop {
        match c.next_event().await.unwrap() {
            Event::ExtHandshake(h) => {
                assert_eq!(h.metadata_size, Some(info.raw.len() as u64));
                c.session_mut().request_metadata().unwrap();
            }
            Event::Metadata(raw) => {
                assert_eq!(raw, info.raw);
                c.session_mut()
                    .set_torrent(Torrent::from_info(&info))
                    .unwrap();
                c.session_mut().interested().unwrap();
            }
            Event::Unchoke => {
                for i in 0..info.num_pieces() as u32 {
                    let size = info.piece_size(i as usize) as u32;
                    for begin in (0..size).step_by(BLOCK_SIZE as usize) {
                        let r = BlockRef {
                            index: i,
                            begin,
                            length: (size - begin).min(BLOCK_SIZE),
                        };
                        c.session_mut().request(r).unwrap();
                        wanted.push(r);
                    }
                }
            }
            Event::Block { index, begin, data } => {
                let at = index as usize * info.piece_length as usize + begin as usize;
                got[at..at + data.len()].copy_from_slice(&data);
                blocks += 1;
                if blocks == wanted.len() {
                    break;
                }
            }
            _ => {}
        }
    }
    assert_eq!(&got[..], &payload[..]);
    assert_eq!(c.session().stats().unrequested_blocks, 0);
}

#[tokio::test]
async fn a_refused_torrent_and_a_silent_peer_end_with_their_errors() {
    let (info, payload) = torrent(2);
    let addr = seed("127.151.0.2:0", info, payload).await;
    // The seed does not serve this torrent: it closes without a handshake.
    let mut c = Connection::connect(
        addr,
        Duration::from_secs(5),
        SessionConfig::new([1; 20]),
        Torrent::new(InfoHash([7; 20])),
    )
    .await
    .unwrap();
    let e = c.next_event().await.unwrap_err();
    assert!(matches!(e, ConnectionError::PeerClosed), "{e:?}");
    assert!(!c.session().is_established());
    assert!(matches!(c.next_event().await, Err(ConnectionError::Ended)));

    // A listener that accepts and says nothing: the handshake timeout ends it.
    let l = TcpListener::bind("127.151.0.3:0").await.unwrap();
    let silent = l.local_addr().unwrap();
    let keep = tokio::spawn(async move { l.accept().await });
    let mut cfg = SessionConfig::new([1; 20]);
    cfg.timeouts.handshake = Duration::from_millis(200);
    let mut c = Connection::connect(
        silent,
        Duration::from_secs(5),
        cfg,
        Torrent::new(InfoHash([7; 20])),
    )
    .await
    .unwrap();
    let e = c.next_event().await.unwrap_err();
    assert!(
        matches!(
            e,
            ConnectionError::Session(SessionError::HandshakeTimeout(_))
        ),
        "{e:?}"
    );
    drop(keep);

    // Nothing listens: the connect fails.
    let free = std::net::TcpListener::bind("127.151.0.4:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = Connection::connect(
        free,
        Duration::from_secs(5),
        SessionConfig::new([1; 20]),
        Torrent::new(InfoHash([7; 20])),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, ConnectionError::Connect(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_caller_deadline_returns_none_and_the_connection_goes_on() {
    let (info, payload) = torrent(2);
    let addr = seed("127.151.0.5:0", info.clone(), payload).await;
    let mut c = Connection::connect(
        addr,
        Duration::from_secs(5),
        SessionConfig::new([1; 20]),
        Torrent::from_info(&info),
    )
    .await
    .unwrap();
    // Established, ExtHandshake, HaveAll, Unchoke, then nothing more comes.
    let mut seen = Vec::new();
    loop {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        match c.next_event_until(Some(deadline)).await.unwrap() {
            Some(e) => seen.push(e),
            None => break,
        }
    }
    assert!(
        seen.contains(&Event::HaveAll) && seen.contains(&Event::Unchoke),
        "{seen:?}"
    );
    // Still usable after the deadline.
    c.session_mut().interested().unwrap();
    c.session_mut()
        .request(BlockRef {
            index: 0,
            begin: 0,
            length: 10,
        })
        .unwrap();
    let ev = c.next_event().await.unwrap();
    assert!(
        matches!(ev, Event::Block { index: 0, begin: 0, ref data } if data.len() == 10),
        "{ev:?}"
    );
}
