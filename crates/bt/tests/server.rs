//! The server over loopback TCP (127.161.0.x), with a torrent held in memory: a
//! client of ours downloads from it, and a raw peer sends it what a hostile peer
//! would. Every server runs on a runtime of its own thread, so the raw peer's
//! blocking reads never stall it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};
use swarmlab_bt::server::{PieceSource, Server, ServerConfig, ServerStats};
use swarmlab_bt::{Connection, PieceError};
use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_bt_wire::ext::{MetadataMsg, PexMessage};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{BlockRef, Event, SessionConfig, Torrent};
use swarmlab_bt_wire::wire::{Bitfield, Message, BLOCK_SIZE};
use swarmlab_tests::raw_bt::{RawPeer, OUR_UT_METADATA};

/// A torrent in memory: `held` says which pieces the source has now, `corrupt`
/// which ones fail their hash check.
struct Mem {
    info: Info,
    payload: Vec<u8>,
    held: Mutex<Arc<Bitfield>>,
    corrupt: Mutex<HashSet<u32>>,
    peers: Vec<SocketAddr>,
    reads: AtomicU64,
}

impl Mem {
    fn new(pieces: usize, plen: usize, held: &[usize]) -> Arc<Mem> {
        let payload: Vec<u8> = (0..pieces * plen - 100).map(|i| (i % 251) as u8).collect();
        let hashes: Vec<u8> = payload
            .chunks(plen)
            .flat_map(|c| Sha1::digest(c).to_vec())
            .collect();
        let raw = dict([
            ("length", Value::Int(payload.len() as i64)),
            ("name", Value::bytes("mem.bin")),
            ("piece length", Value::Int(plen as i64)),
            ("pieces", Value::Bytes(hashes)),
        ])
        .encode();
        let mut bits = Bitfield::new(pieces);
        for &i in held {
            bits.set(i);
        }
        Arc::new(Mem {
            info: Info::from_bytes(&raw).unwrap(),
            payload,
            held: Mutex::new(Arc::new(bits)),
            corrupt: Mutex::default(),
            peers: vec![
                "127.161.9.1:7001".parse().unwrap(),
                "127.161.9.2:7002".parse().unwrap(),
            ],
            reads: AtomicU64::new(0),
        })
    }

    fn hold(&self, i: usize) {
        let mut h = self.held.lock().unwrap();
        let mut b = (**h).clone();
        b.set(i);
        *h = Arc::new(b);
    }
}

impl PieceSource for Mem {
    fn info(&self) -> &Info {
        &self.info
    }
    fn held(&self) -> Arc<Bitfield> {
        self.held.lock().unwrap().clone()
    }
    fn read(&self, index: u32, begin: u32, length: u32) -> Result<Vec<u8>, PieceError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if self.corrupt.lock().unwrap().contains(&index) {
            return Err(PieceError::Corrupt(index));
        }
        let at = index as usize * self.info.piece_length as usize + begin as usize;
        Ok(self.payload[at..at + length as usize].to_vec())
    }
    fn pex_peers(&self) -> Vec<SocketAddr> {
        self.peers.clone()
    }
}

fn config() -> ServerConfig {
    let mut c = ServerConfig::new(*b"-SL0100-servertest00");
    c.listen_port = Some(6999);
    c.tick = Duration::from_millis(50);
    c
}

/// Starts `server` on `bind` on a thread of its own.
fn start(bind: &str, server: &Server) -> SocketAddr {
    let l = std::net::TcpListener::bind(bind).unwrap();
    let addr = l.local_addr().unwrap();
    l.set_nonblocking(true).unwrap();
    let s = server.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(l).unwrap();
            let _ = s.serve(l).await;
        });
    });
    addr
}

fn get(c: &AtomicU64) -> u64 {
    ServerStats::get(c)
}

/// Waits until `cond` holds (the server counts on its own threads).
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// An established raw peer that has read the server's handshake and extension
/// handshake.
fn raw(addr: SocketAddr, mem: &Mem) -> RawPeer {
    let mut p = RawPeer::connect(addr, mem.info.info_hash.0).unwrap();
    let h = p.read_handshake().unwrap();
    assert_eq!(h.info_hash, mem.info.info_hash);
    p.send_ext_handshake(Some(7777)).unwrap();
    p.expect(|m| matches!(m, Message::Extended { id: 0, .. }))
        .unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gets_the_metadata_every_piece_held_haves_pex_and_the_dht_port() {
    let plen = 2 * BLOCK_SIZE as usize + 100; // not a power of two: blocks of 16 KiB and a tail
    let mem = Mem::new(5, plen, &[0, 1, 2, 3]);
    let server = Server::new(config());
    server.add_torrent(mem.clone());
    server.set_dht_port(Some(6881));
    let addr = start("127.161.0.1:0", &server);

    let mut c = Connection::connect(
        addr,
        Duration::from_secs(5),
        SessionConfig::new([1; 20]),
        Torrent::new(mem.info.info_hash),
    )
    .await
    .unwrap();
    let (mut bitfield, mut pex, mut port, mut haves) = (None, None, None, vec![]);
    let mut got = vec![0u8; mem.payload.len()];
    let mut wanted = 0;
    let mut blocks = 0;
    while blocks == 0 || blocks < wanted {
        match c.next_event().await.unwrap() {
            Event::ExtHandshake(h) => {
                assert_eq!(h.p, Some(6999));
                assert_eq!(h.metadata_size, Some(mem.info.raw.len() as u64));
                assert_eq!(h.upload_only, Some(true));
                assert!(h.v.as_deref().unwrap().starts_with("swarmlab/"));
                c.session_mut().request_metadata().unwrap();
            }
            Event::Metadata(raw) => {
                assert_eq!(raw, mem.info.raw);
                c.session_mut()
                    .set_torrent(Torrent::from_info(&mem.info))
                    .unwrap();
                c.session_mut().interested().unwrap();
            }
            Event::Bitfield(b) => bitfield = Some(b),
            Event::Pex(m) => pex = Some(m),
            Event::DhtPort(p) => port = Some(p),
            Event::Have(i) => haves.push(i),
            Event::Unchoke => {
                // Piece 4 appears while we are connected: a have follows.
                mem.hold(4);
                for i in 0..5u32 {
                    let size = mem.info.piece_size(i as usize) as u32;
                    for begin in (0..size).step_by(BLOCK_SIZE as usize) {
                        let length = (size - begin).min(BLOCK_SIZE);
                        if i < 4 {
                            c.session_mut()
                                .request(BlockRef {
                                    index: i,
                                    begin,
                                    length,
                                })
                                .unwrap();
                            wanted += 1;
                        }
                    }
                }
            }
            Event::Block { index, begin, data } => {
                let at = index as usize * plen + begin as usize;
                got[at..at + data.len()].copy_from_slice(&data);
                blocks += 1;
            }
            _ => {}
        }
    }
    assert_eq!(got[..4 * plen], mem.payload[..4 * plen]);
    assert_eq!(bitfield.unwrap(), vec![0b1111_0000]);
    assert_eq!(port, Some(6881));
    let pex = pex.expect("a PEX message");
    assert_eq!(pex.added, mem.peers);
    // The have for piece 4 comes on a tick.
    while !haves.contains(&4) {
        if let Event::Have(i) = c.next_event().await.unwrap() {
            haves.push(i);
        }
    }
    assert_eq!(get(&server.stats().haves_sent), 1);
    assert_eq!(get(&server.stats().blocks_sent), wanted);
}

#[test]
fn a_handshake_for_another_torrent_is_refused_and_closed() {
    let mem = Mem::new(2, 1000, &[0, 1]);
    let server = Server::new(config());
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.2:0", &server);
    let mut p = RawPeer::connect(addr, [0xee; 20]).unwrap();
    assert!(p.read_handshake().is_err(), "no handshake back");
    eventually("refused", || get(&server.stats().refused_torrent) == 1);
    assert_eq!(get(&server.stats().accepted), 0);
    // The right torrent is still served.
    let _ = raw(addr, &mem);
    assert_eq!(get(&server.stats().accepted), 1);
    // A server with no torrent refuses every handshake.
    let empty = Server::new(config());
    let addr = start("127.161.0.3:0", &empty);
    let mut p = RawPeer::connect(addr, mem.info.info_hash.0).unwrap();
    assert!(p.read_handshake().is_err());
    eventually("refused", || get(&empty.stats().refused_torrent) == 1);
}

#[test]
fn requests_out_of_range_too_long_for_pieces_not_held_and_metadata_out_of_range_are_rejected() {
    let mem = Mem::new(4, 1000, &[0, 1]);
    let server = Server::new(config());
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.4:0", &server);
    let mut p = raw(addr, &mem);
    p.send(&Message::Interested).unwrap();
    p.expect(|m| *m == Message::Unchoke).unwrap();
    let reject = |index, begin, length| Message::RejectRequest {
        index,
        begin,
        length,
    };
    for (index, begin, length) in [
        (2, 0, 1000),     // not held
        (9, 0, 1000),     // no such piece
        (0, 900, 200),    // past the end of the piece
        (0, 0, 16 << 20), // 16 MiB
        (3, 0, 900),      // the short last piece, not held
    ] {
        p.send(&Message::Request {
            index,
            begin,
            length,
        })
        .unwrap();
        let got = p
            .expect(|m| matches!(m, Message::RejectRequest { .. } | Message::Piece { .. }))
            .unwrap();
        assert_eq!(got, reject(index, begin, length));
    }
    // ut_metadata beyond the info dictionary's single piece.
    p.request_metadata(1).unwrap();
    let got = p
        .expect(|m| {
            matches!(
                m,
                Message::Extended {
                    id: OUR_UT_METADATA,
                    ..
                }
            )
        })
        .unwrap();
    let Message::Extended { payload, .. } = got else {
        unreachable!()
    };
    assert_eq!(
        MetadataMsg::decode(&payload).unwrap(),
        MetadataMsg::Reject { piece: 1 }
    );
    // Nothing was read for any of them, and the connection still serves.
    assert_eq!(mem.reads.load(Ordering::Relaxed), 0);
    p.send(&Message::Request {
        index: 1,
        begin: 0,
        length: 1000,
    })
    .unwrap();
    let got = p.expect(|m| matches!(m, Message::Piece { .. })).unwrap();
    assert_eq!(
        got,
        Message::Piece {
            index: 1,
            begin: 0,
            data: mem.payload[1000..2000].to_vec()
        }
    );
    assert_eq!(get(&server.stats().requests_refused), 5);
    assert_eq!(get(&server.stats().metadata_refused), 1);
}

/// The guard: a block the source cannot give (here: its piece fails its hash
/// check) is rejected, never sent.
#[test]
fn a_piece_the_source_cannot_give_is_rejected() {
    let mem = Mem::new(2, 1000, &[0, 1]);
    mem.corrupt.lock().unwrap().insert(1);
    let server = Server::new(config());
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.5:0", &server);
    let mut p = raw(addr, &mem);
    p.send(&Message::Interested).unwrap();
    p.expect(|m| *m == Message::Unchoke).unwrap();
    p.send(&Message::Request {
        index: 1,
        begin: 0,
        length: 500,
    })
    .unwrap();
    let got = p
        .expect(|m| matches!(m, Message::RejectRequest { .. } | Message::Piece { .. }))
        .unwrap();
    assert_eq!(
        got,
        Message::RejectRequest {
            index: 1,
            begin: 0,
            length: 500
        }
    );
    assert_eq!(get(&server.stats().reads_failed), 1);
    assert_eq!(get(&server.stats().blocks_sent), 0);
}

#[test]
fn a_pex_flood_is_capped_and_ignored_and_the_connection_goes_on() {
    let mem = Mem::new(2, 1000, &[0, 1]);
    let server = Server::new(config());
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.6:0", &server);
    let mut p = raw(addr, &mem);
    let many: Vec<SocketAddr> = (0..5000u32)
        .map(|i| SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 6881)))
        .collect();
    let flood = PexMessage {
        added: many,
        ..PexMessage::default()
    };
    // Ten messages of 5,000 peers within a second.
    for _ in 0..10 {
        p.send_pex(&flood).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    eventually("every PEX message counted", || {
        get(&server.stats().pex_received) + get(&server.stats().pex_ignored) == 10
    });
    // BEP 11: two accepted in a minute (500 peers kept of each), the rest ignored.
    assert_eq!(get(&server.stats().pex_received), 2);
    assert_eq!(get(&server.stats().pex_ignored), 8);
    assert_eq!(get(&server.stats().pex_truncated), 2 * 4500);
    p.send(&Message::Interested).unwrap();
    p.expect(|m| *m == Message::Unchoke).unwrap();
    p.send(&Message::Request {
        index: 0,
        begin: 0,
        length: 10,
    })
    .unwrap();
    assert!(p.expect(|m| matches!(m, Message::Piece { .. })).is_ok());
}

#[test]
fn connections_over_the_limit_are_closed_at_once() {
    let mem = Mem::new(2, 1000, &[0, 1]);
    let mut cfg = config();
    cfg.max_connections = 2;
    let server = Server::new(cfg);
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.7:0", &server);
    let _a = raw(addr, &mem);
    let _b = raw(addr, &mem);
    let mut c = RawPeer::connect(addr, mem.info.info_hash.0).unwrap();
    assert!(c.read_handshake().is_err());
    assert_eq!(get(&server.stats().refused_full), 1);
    drop(_a);
    // A slot frees when a connection ends.
    eventually("a slot frees", || {
        RawPeer::connect(addr, mem.info.info_hash.0)
            .and_then(|mut p| p.read_handshake())
            .is_ok()
    });
}

#[test]
fn with_one_slot_the_second_peer_waits_until_the_first_leaves() {
    let mem = Mem::new(2, 1000, &[0, 1]);
    let mut cfg = config();
    cfg.unchoke_slots = 1;
    let server = Server::new(cfg);
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.8:0", &server);
    let mut a = raw(addr, &mem);
    a.send(&Message::Interested).unwrap();
    a.expect(|m| *m == Message::Unchoke).unwrap();
    let mut b = raw(addr, &mem);
    b.send(&Message::Interested).unwrap();
    // b waits for a's slot: still choked, its request is rejected.
    eventually("b waits for a slot", || server.slots() == (1, 1));
    b.send(&Message::Request {
        index: 0,
        begin: 0,
        length: 10,
    })
    .unwrap();
    let got = b
        .expect(|m| matches!(m, Message::RejectRequest { .. } | Message::Unchoke))
        .unwrap();
    assert!(matches!(got, Message::RejectRequest { .. }), "{got:?}");
    a.send(&Message::NotInterested).unwrap();
    b.expect(|m| *m == Message::Unchoke).unwrap();
    assert_eq!(server.slots(), (1, 0));
}

#[test]
fn a_removed_torrent_s_connections_close() {
    let mem = Mem::new(2, 1000, &[0, 1]);
    let server = Server::new(config());
    server.add_torrent(mem.clone());
    let addr = start("127.161.0.9:0", &server);
    let mut p = raw(addr, &mem);
    server.remove_torrent(&mem.info.info_hash);
    assert!(p.closes_within(Duration::from_secs(5)));
    assert!(server.torrents().is_empty());
}
