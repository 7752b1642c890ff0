//! Misbehaving peers (our own fakes on loopback) and the command's outputs:
//! every failure is recorded for that peer, nothing panics, memory stays bounded.

use sha1::{Digest, Sha1};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use swarmlab_audit::report::PeerRecord;
use swarmlab_audit::{audit, AuditConfig, FailureReason, RoundInputs, RoundReport, Target, Watch};
use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_bt_wire::ext::{ExtHandshake, MetadataMsg, PexMessage};
use swarmlab_bt_wire::wire::{reserved, Decoder, Handshake, Message};
use swarmlab_bt_wire::InfoHash;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PIECES: usize = 20;
const PIECE_LEN: usize = 16384;

/// A torrent of PIECES pieces written to a temp dir; returns (dir, path, info bytes, hash).
fn torrent() -> (tempfile::TempDir, String, Vec<u8>, InfoHash) {
    torrent_with(PIECE_LEN)
}

fn payload_of(piece_len: usize) -> Vec<u8> {
    (0..PIECES * piece_len).map(|i| (i % 251) as u8).collect()
}

fn torrent_with(piece_len: usize) -> (tempfile::TempDir, String, Vec<u8>, InfoHash) {
    let payload = payload_of(piece_len);
    let mut hashes = Vec::new();
    for c in payload.chunks(piece_len) {
        hashes.extend_from_slice(&Sha1::digest(c));
    }
    let info = dict([
        ("length", Value::Int(payload.len() as i64)),
        ("name", Value::bytes("fake.bin")),
        ("piece length", Value::Int(piece_len as i64)),
        ("pieces", Value::Bytes(hashes)),
    ]);
    let info_bytes = info.encode();
    let ih = InfoHash::of(&info_bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.torrent");
    std::fs::write(&path, dict([("info", info)]).encode()).unwrap();
    (dir, path.to_str().unwrap().to_string(), info_bytes, ih)
}

/// A fake peer: every accepted connection runs `behave`.
async fn fake_peer<F, Fut>(behave: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let b = behave.clone();
            tokio::spawn(async move { b(s).await });
        }
    });
    addr
}

/// A peer that accepts exactly one connection, then stops listening.
async fn one_shot_peer(ih: InfoHash) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        if let Ok((s, _)) = l.accept().await {
            drop(l);
            honest(s, ih, |_| {}).await;
        }
    });
    addr
}

async fn read_handshake(s: &mut TcpStream) -> Option<Handshake> {
    let mut b = [0u8; 68];
    s.read_exact(&mut b).await.ok()?;
    Handshake::decode(&b).ok()
}

fn our_handshake(ih: InfoHash) -> [u8; 68] {
    Handshake {
        reserved: reserved::ours(),
        info_hash: ih,
        peer_id: *b"-qB4630-fakefakefake",
    }
    .encode()
}

/// Handshake, extension handshake, a full bitfield, then `extra` messages, then idle.
async fn honest(mut s: TcpStream, ih: InfoHash, extra: impl Fn(&mut Vec<u8>)) {
    if read_handshake(&mut s).await.is_none() {
        return;
    }
    let mut out = our_handshake(ih).to_vec();
    let mut h = ExtHandshake::ours("FakePeer/1.0", None);
    h.p = Some(7000);
    out.extend(
        Message::Extended {
            id: 0,
            payload: h.encode(),
        }
        .encode(),
    );
    out.extend(Message::Bitfield(vec![0xff, 0xff, 0xf0]).encode());
    out.extend(Message::Port(6999).encode());
    extra(&mut out);
    let _ = s.write_all(&out).await;
    let mut sink = vec![0u8; 4096];
    while let Ok(n) = s.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

fn cfg() -> AuditConfig {
    AuditConfig {
        use_dht: false,
        connect_timeout: Duration::from_millis(500),
        peer_budget: Duration::from_secs(5),
        linger: Duration::from_millis(200),
        ..AuditConfig::default()
    }
}

/// One round on `target` with `peers` given by hand and the settings `cfg`.
async fn round(target: &str, peers: Vec<SocketAddr>, cfg: &AuditConfig) -> RoundReport {
    let inputs = RoundInputs {
        peers,
        ..RoundInputs::default()
    };
    audit(target, &inputs, cfg).await.unwrap()
}

fn rec(r: &RoundReport, a: SocketAddr) -> &PeerRecord {
    r.peers
        .iter()
        .find(|p| p.addr == a.to_string())
        .expect("record for peer")
}

#[tokio::test]
async fn handshake_failures_are_recorded_per_peer() {
    let (_d, path, _info, ih) = torrent();
    let wrong = fake_peer(move |mut s| async move {
        if read_handshake(&mut s).await.is_some() {
            let _ = s.write_all(&our_handshake(InfoHash([9; 20]))).await;
        }
    })
    .await;
    let http = fake_peer(|mut s| async move {
        let _ = s.write_all(&[b'H'; 100]).await;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    })
    .await;
    let silent = fake_peer(|s| async move {
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        drop(s);
    })
    .await;
    let hangup = fake_peer(|mut s| async move {
        let _ = read_handshake(&mut s).await;
    })
    .await;
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let good = fake_peer(move |s| honest(s, ih, |_| {})).await;
    let r = round(
        &path,
        vec![wrong, http, silent, hangup, refused, good],
        &cfg(),
    )
    .await;
    let reason = |a| rec(&r, a).failure.as_ref().map(|f| f.reason);
    assert_eq!(reason(wrong), Some(FailureReason::WrongInfoHash));
    assert_eq!(reason(http), Some(FailureReason::BadHandshake));
    assert_eq!(reason(silent), Some(FailureReason::Timeout));
    assert_eq!(rec(&r, silent).failure.as_ref().unwrap().stage, "handshake");
    assert_eq!(reason(hangup), Some(FailureReason::Disconnected));
    assert_eq!(reason(refused), Some(FailureReason::Refused));
    for a in [wrong, http, silent, hangup, refused] {
        assert!(!rec(&r, a).reached);
    }
    let g = rec(&r, good);
    assert!(g.reached && g.failure.is_none(), "{g:#?}");
    assert_eq!(g.client_from_peer_id.as_deref(), Some("qBittorrent 4.6.3"));
    assert_eq!(g.client_version.as_deref(), Some("FakePeer/1.0"));
    assert_eq!(g.seed, Some(true));
    assert_eq!(g.dht_port, Some(6999));
    assert_eq!(g.ext.as_ref().unwrap().p, Some(7000));
    assert_eq!(r.summary.failed, 5);
    assert_eq!(r.summary.reached, 1);
    for k in [
        "wrong_info_hash",
        "bad_handshake",
        "timeout",
        "disconnected",
        "refused",
    ] {
        assert_eq!(r.summary.failed_by_reason.get(k), Some(&1), "{k}");
    }
}

#[tokio::test]
async fn hostile_messages_end_that_peer_only() {
    let (_d, path, _info, ih) = torrent();
    // A 4 GiB length prefix.
    let huge = fake_peer(move |s| honest(s, ih, |o| o.extend([0xff, 0xff, 0xff, 0xff]))).await;
    // A bitfield of the wrong length (20 pieces need 3 bytes).
    let badbf = fake_peer(move |mut s| async move {
        if read_handshake(&mut s).await.is_some() {
            let mut out = our_handshake(ih).to_vec();
            out.extend(Message::Bitfield(vec![0xff; 10]).encode());
            let _ = s.write_all(&out).await;
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
    })
    .await;
    let good = fake_peer(move |s| honest(s, ih, |_| {})).await;
    let r = round(&path, vec![huge, badbf, good], &cfg()).await;
    let h = rec(&r, huge);
    assert!(h.reached);
    let f = h.failure.as_ref().unwrap();
    assert_eq!(f.reason, FailureReason::ProtocolError);
    assert!(f.detail.contains("4294967295"), "{f:?}");
    let b = rec(&r, badbf);
    assert!(b.reached);
    let f = b.failure.as_ref().unwrap();
    assert_eq!(f.reason, FailureReason::ProtocolError);
    assert!(f.detail.contains("bitfield of wrong length"), "{f:?}");
    assert_eq!(b.completion, None);
    assert_eq!(rec(&r, good).seed, Some(true));
    assert_eq!(
        r.summary.errors_after_handshake.get("protocol_error"),
        Some(&2)
    );
}

#[tokio::test]
async fn bad_metadata_is_a_recorded_failure() {
    let (_d, _path, info, ih) = torrent();
    let info = Arc::new(info);
    let liar = fake_peer(move |mut s| {
        let info = info.clone();
        async move {
            if read_handshake(&mut s).await.is_none() {
                return;
            }
            let mut fake_info = info.to_vec();
            fake_info[10] ^= 1;
            let mut h = ExtHandshake::ours("Liar/1.0", Some(fake_info.len() as u64));
            h.m.insert("ut_metadata".into(), 3);
            let mut out = our_handshake(ih).to_vec();
            out.extend(
                Message::Extended {
                    id: 0,
                    payload: h.encode(),
                }
                .encode(),
            );
            out.extend(Message::HaveAll.encode());
            let _ = s.write_all(&out).await;
            let mut dec = Decoder::default();
            let mut buf = vec![0u8; 4096];
            loop {
                let n = match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                dec.extend(&buf[..n]);
                while let Ok(Some(m)) = dec.next_message() {
                    if let Message::Extended { id: 3, payload } = m {
                        if let Ok(MetadataMsg::Request { piece }) = MetadataMsg::decode(&payload) {
                            let start = piece as usize * 16384;
                            let end = (start + 16384).min(fake_info.len());
                            let reply = MetadataMsg::Data {
                                piece,
                                total_size: fake_info.len() as u64,
                                data: fake_info[start..end].to_vec(),
                            };
                            let msg = Message::Extended {
                                id: 2,
                                payload: reply.encode(),
                            };
                            let _ = s.write_all(&msg.encode()).await;
                        }
                    }
                }
            }
        }
    })
    .await;
    let r = round(&ih.to_hex(), vec![liar], &cfg()).await;
    let l = rec(&r, liar);
    assert!(l.reached);
    assert_eq!(l.metadata.as_deref(), Some("bad_hash"), "{l:#?}");
    let f = l.failure.as_ref().unwrap();
    assert_eq!(f.reason, FailureReason::ProtocolError);
    assert!(f.detail.contains("does not hash"), "{f:?}");
    assert!(!r.metadata_fetched);
    assert_eq!(r.num_pieces, None);
    // have_all still tells us it is a seed.
    assert_eq!(l.seed, Some(true));
}

#[tokio::test]
async fn pex_flood_is_capped() {
    let (_d, path, _info, ih) = torrent();
    let flooder = fake_peer(move |s| {
        honest(s, ih, |o| {
            // 10,000 loopback addresses on port 1, where nothing listens.
            let added: Vec<SocketAddr> = (0..10_000u32)
                .map(|i| SocketAddr::from(([127, 3, (i >> 8) as u8, i as u8], 1)))
                .collect();
            let m = PexMessage {
                added,
                ..Default::default()
            };
            o.extend(
                Message::Extended {
                    id: 1,
                    payload: m.encode(),
                }
                .encode(),
            );
        })
    })
    .await;
    let c = AuditConfig {
        max_peers: 40,
        ..cfg()
    };
    let r = round(&path, vec![flooder], &c).await;
    let f = rec(&r, flooder);
    assert!(f.reached && f.failure.is_none(), "{f:#?}");
    assert_eq!(f.pex_messages, 1);
    assert_eq!(f.pex_neighbours.len(), 500);
    assert_eq!(f.pex_truncated, 9_500);
    assert!(
        f.warnings.iter().any(|w| w.contains("10000")),
        "{:?}",
        f.warnings
    );
    assert_eq!(
        r.peers.len(),
        40,
        "the round keeps at most --max-peers addresses"
    );
    assert_eq!(r.summary.failed_by_reason.get("refused"), Some(&39));
}

#[tokio::test]
async fn watch_reports_the_peer_that_left() {
    let (_d, path, _info, ih) = torrent();
    let stays = fake_peer(move |s| honest(s, ih, |_| {})).await;
    let leaves = one_shot_peer(ih).await;
    let inputs = RoundInputs {
        peers: vec![stays, leaves],
        ..RoundInputs::default()
    };
    let mut w = Watch::new(Target::resolve(&path).unwrap(), inputs, cfg());
    let r1 = w.next_round(None).await;
    let r2 = w.next_round(None).await;
    assert_eq!((r1.round, r2.round), (1, 2));
    assert_eq!(r1.summary.reached, 2);
    assert_eq!(r2.summary.reached, 1);
    assert!(r1.churn.is_none());
    let churn = r2.churn.unwrap();
    assert_eq!(churn.left, vec![leaves.to_string()]);
    assert!(churn.joined.is_empty());
    let gone = r2
        .peers
        .iter()
        .find(|p| p.addr == leaves.to_string())
        .unwrap();
    assert_eq!(
        gone.failure.as_ref().unwrap().reason,
        FailureReason::Refused
    );
}

#[tokio::test]
async fn bad_targets_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let trunc = d.path().join("t.torrent");
    let (_d2, path, _, _) = torrent();
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&trunc, &full[..full.len() / 2]).unwrap();
    for (target, want) in [
        (trunc.to_str().unwrap().to_string(), "invalid .torrent"),
        ("magnet:?xt=urn:btih:xyz".to_string(), "invalid magnet link"),
        ("magnet:?dn=nohash".to_string(), "invalid magnet link"),
        ("not-a-thing".to_string(), "TARGET must be"),
    ] {
        let e = audit(&target, &RoundInputs::default(), &cfg())
            .await
            .unwrap_err();
        assert!(e.to_string().contains(want), "{target}: {e}");
    }
}

/// `--max-conns`: 12 peers, each holding a connection for 300 ms; with `max_conns`
/// 3, connections in flight never exceed 3 (and reach it). Without the semaphore all
/// 12 would be open at once. Each peer counts itself out *before* it closes, and
/// the auditor (lingering longer) only leaves when it sees the close, so the
/// count can never run ahead of the auditor's own.
#[tokio::test]
async fn connections_in_flight_never_exceed_max_conns() {
    let (_d, path, _info, ih) = torrent();
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut peers = Vec::new();
    for i in 0..12u8 {
        let l = TcpListener::bind((std::net::Ipv4Addr::new(127, 152, 0, i + 1), 0))
            .await
            .unwrap();
        peers.push(l.local_addr().unwrap());
        let (open, peak) = (open.clone(), peak.clone());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let (open, peak) = (open.clone(), peak.clone());
                tokio::spawn(async move {
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    if read_handshake(&mut s).await.is_some() {
                        let mut out = our_handshake(ih).to_vec();
                        out.extend(Message::HaveAll.encode());
                        let _ = s.write_all(&out).await;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                    drop(s);
                });
            }
        });
    }
    let c = AuditConfig {
        max_conns: 3,
        linger: Duration::from_secs(10),
        ..cfg()
    };
    let r = round(&path, peers, &c).await;
    assert_eq!(r.summary.reached, 12, "{:#?}", r.summary);
    assert!(
        r.peers.iter().all(|p| p.ended == "peer_closed"),
        "{:#?}",
        r.peers
    );
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn probed_pieces_are_verified_even_out_of_order() {
    const PL: usize = 4 * 16384;
    let (_d, path, _info, ih) = torrent_with(PL);
    // A seed that answers each piece's four block requests in reverse order and
    // corrupts piece 1.
    let seed = fake_peer(move |mut s| async move {
        if read_handshake(&mut s).await.is_none() {
            return;
        }
        let payload = payload_of(PL);
        let mut out = our_handshake(ih).to_vec();
        out.extend(Message::HaveAll.encode());
        let _ = s.write_all(&out).await;
        let mut dec = Decoder::default();
        let mut buf = vec![0u8; 4096];
        let mut pending = Vec::new();
        loop {
            let n = match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            dec.extend(&buf[..n]);
            while let Ok(Some(m)) = dec.next_message() {
                match m {
                    Message::Interested => {
                        let _ = s.write_all(&Message::Unchoke.encode()).await;
                    }
                    Message::Request {
                        index,
                        begin,
                        length,
                    } => {
                        pending.push((index, begin, length));
                        if pending.len() == 4 {
                            for (index, begin, length) in pending.drain(..).rev() {
                                let at = index as usize * PL + begin as usize;
                                let mut data = payload[at..at + length as usize].to_vec();
                                if index == 1 {
                                    data[7] ^= 0xff;
                                }
                                let m = Message::Piece { index, begin, data };
                                let _ = s.write_all(&m.encode()).await;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    })
    .await;
    let c = AuditConfig {
        probe_pieces: 3,
        ..cfg()
    };
    let r = round(&path, vec![seed], &c).await;
    let p = rec(&r, seed);
    let probe = p.probe.as_ref().expect("probe result");
    assert!(probe.unchoked);
    assert_eq!(probe.pieces_wanted, 3);
    assert_eq!(probe.pieces_verified, 2, "{probe:?}");
    assert_eq!(probe.pieces_failed, 1, "{probe:?}");
    assert_eq!(probe.bytes, 3 * PL as u64);
    assert!(probe.rate_bps.unwrap() > 0.0);
    assert_eq!(r.summary.probed_pieces_failed, 1);
}

/// A loopback address whose accept queue is full: the kernel drops our SYNs, so the
/// connect times out (the loopback equivalent of a black-holed address).
fn full_backlog_listener() -> (socket2::Socket, Vec<std::net::TcpStream>, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let l = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    l.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    l.listen(0).unwrap();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(s) =
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
        {
            fillers.push(s);
        }
    }
    (l, fillers, addr)
}

#[tokio::test]
async fn connect_timeout_is_recorded() {
    let (_d, path, _info, _ih) = torrent();
    let (_l, _fillers, addr) = full_backlog_listener();
    let r = round(&path, vec![addr], &cfg()).await;
    let p = rec(&r, addr);
    assert!(!p.reached);
    let f = p.failure.as_ref().unwrap();
    assert_eq!(
        (f.reason, f.stage),
        (FailureReason::Timeout, "connect"),
        "{f:?}"
    );
    assert_eq!(r.summary.failed_by_reason.get("timeout"), Some(&1));
}
