//! Hostile clients, peers and trackers, and the limits that bound them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sha1::{Digest, Sha1};
use swarmlab_course::config::{FileIni, PeersIni};
use swarmlab_course_wire::Message;

use crate::support::*;

#[test]
fn peer_answers_bad_requests_and_keeps_the_connection() {
    let (r, _p, addr, hash) = peer_with_chunk(20);
    // The peer serves chunks/alice: root/config/peers.i and peers.i.bin exist, so a
    // path built from the hash's 20 bytes as text, "../../config/peers.i", with or
    // without ".bin", would name a real file.
    r.write("config/peers.i", b"secret");
    r.write("config/peers.i.bin", b"secret");
    let mut s = conn(addr);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (h("0204000000000002"), IMF),                            // version 2
        (h("0109000000000002"), IMF),                            // type 9
        (h("0104000000000000"), IMF),                            // msg_length 0
        (h("0104000000000001"), IMF),                            // msg_length 1
        (h("0102000000000002"), INVALID_REQUEST),                // GET_FILE_INFO to a peer
        ([h("0104000000000008"), vec![0xab; 24]].concat(), IMF), // GET_CHUNK, wrong length
        (h("0104000000000002"), IMF),                            // GET_CHUNK without a hash
        (get_chunk(&"00".repeat(20)), NOT_FOUND),
        (
            [h("0104000000000007"), b"../../config/peers.i".to_vec()].concat(),
            NOT_FOUND,
        ),
        ([h("0204000000000007"), vec![1; 20]].concat(), IMF), // version 2 with a body
    ];
    for (req, want) in &cases {
        s.write_all(req).unwrap();
        assert_eq!(
            hex::encode(read_n(&mut s, 12)),
            *want,
            "request {}",
            hex::encode(req)
        );
    }
    // Still open: a valid request is served on the same connection.
    s.write_all(&get_chunk(&hash)).unwrap();
    let head = read_n(&mut s, 32);
    assert_eq!(&head[..2], &[1, 5]);
    let n = u32::from_be_bytes(head[28..32].try_into().unwrap()) as usize;
    let content = read_n(&mut s, n + (4 - n % 4) % 4);
    assert_eq!(hex::encode(Sha1::digest(&content[..n])), hash);
}

#[test]
fn peer_accepts_split_and_batched_requests() {
    let (_r, _p, addr, hash) = peer_with_chunk(21);
    let mut s = conn(addr);
    s.set_nodelay(true).unwrap();
    let req = get_chunk(&hash);
    // A header in two segments.
    for part in [&req[..3], &req[3..11], &req[11..]] {
        s.write_all(part).unwrap();
        thread::sleep(Duration::from_millis(30));
    }
    let head = read_n(&mut s, 32);
    let n = u32::from_be_bytes(head[28..32].try_into().unwrap()) as usize;
    read_n(&mut s, n);
    // Three messages in one segment: three replies in order.
    let batch = [
        get_chunk(&"11".repeat(20)),
        h("0102000000000002"),
        get_chunk(&"22".repeat(20)),
    ]
    .concat();
    s.write_all(&batch).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), NOT_FOUND);
    assert_eq!(hex::encode(read_n(&mut s, 12)), INVALID_REQUEST);
    assert_eq!(hex::encode(read_n(&mut s, 12)), NOT_FOUND);
}

#[test]
fn peer_survives_hostile_clients_and_keeps_serving() {
    let (_r, _p, addr, hash) = peer_with_chunk(22);
    // A header announcing 16 GiB: an ERROR, then a clean close.
    let mut s = conn(addr);
    s.write_all(&h("01040000ffffffff")).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), IMF);
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
    // Half a message, then silence: closed after the idle timeout (2 s here).
    let mut half = conn(addr);
    half.write_all(&get_chunk(&hash)[..13]).unwrap();
    // A client that asks for 3 MB and disconnects at once.
    for _ in 0..20 {
        let mut s = conn(addr);
        s.write_all(&get_chunk(&hash)).unwrap();
        drop(s);
    }
    // 1000 idle connections.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Others are still served.
    let mut s = conn(addr);
    s.write_all(&get_chunk(&hash)).unwrap();
    let head = read_n(&mut s, 32);
    assert_eq!(&head[..2], &[1, 5]);
    // The half message's connection is closed by the server (its idle timeout is 2 s;
    // the read timeout only keeps a broken server from hanging the test).
    half.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut b = [0u8; 1];
    assert_eq!(half.read(&mut b).unwrap(), 0, "half message not closed");
    drop(idle);
}

#[test]
fn tracker_answers_bad_requests_over_tcp_and_udp() {
    let r = Root::new(23);
    r.file("l.bin", 25, 10);
    let _t = r.spawn(&["tracker", "--discovery-port", "19023"]);
    wait_tcp("127.0.23.1:8000");
    let mut s = conn("127.0.23.1:8000".parse().unwrap());
    s.write_all(&get_chunk(&"4d".repeat(20))).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), INVALID_REQUEST);
    s.write_all(&h("0202000000000002")).unwrap();
    assert_eq!(hex::encode(read_n(&mut s, 12)), IMF);
    // Two GET_FILE_INFO on one connection: two identical FILE_INFO.
    s.write_all(&[h("0102000000000002"), h("0102000000000002")].concat())
        .unwrap();
    let a = read_n(&mut s, 8);
    assert_eq!(&a[..2], &[1, 3]);
    let words = u32::from_be_bytes(a[4..8].try_into().unwrap()) as usize;
    let body_a = read_n(&mut s, words * 4 - 8);
    let b = read_n(&mut s, words * 4);
    assert_eq!([a, body_a].concat(), b);

    // Every UDP reply comes as two datagrams: the 8-byte header, then the body.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 100];
    for (req, want) in [
        (
            h("0100000000000002"),
            "01010000000000067f0017011f400007747261636b657200",
        ),
        (h("0102000000000002"), INVALID_REQUEST),
        (h("0200000000000002"), IMF),
        (h("0100"), IMF),
    ] {
        udp.send_to(&req, "127.0.0.1:19023").unwrap();
        let (n, from) = udp.recv_from(&mut buf).unwrap();
        assert_eq!(
            n,
            8,
            "UDP request {}: a header alone first",
            hex::encode(&req)
        );
        let head = buf[..8].to_vec();
        let (m, from2) = udp.recv_from(&mut buf).unwrap();
        assert_eq!(from, from2);
        assert_eq!(
            hex::encode([&head[..], &buf[..m]].concat()),
            want,
            "UDP request {}",
            hex::encode(&req)
        );
    }
}

/// A tracker on `addr` that answers every GET_FILE_INFO with what `reply` holds.
fn tracker_replying(addr: &str, reply: Arc<Mutex<Vec<u8>>>) {
    let l = TcpListener::bind(addr).unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut req = [0u8; 8];
            if s.read_exact(&mut req).is_ok() {
                let bytes = reply.lock().unwrap().clone();
                let _ = s.write_all(&bytes);
            }
        }
    });
}

#[test]
fn charlie_refuses_a_file_info_name_that_leaves_its_directory() {
    let r = Root::new(25);
    let data = r.file("n.bin", 30_000, 10_000);
    let _peers = start_peers(&r, 25);
    let honest = swarmlab_course::tracker::file_info(
        &PeersIni::load(&r.path().join("config/peers.ini")).unwrap(),
        &FileIni::load(&r.path().join("config/file.ini")).unwrap(),
    );
    let reply = Arc::new(Mutex::new(Vec::new()));
    tracker_replying("127.0.25.1:8000", reply.clone());
    // files/../escaped.bin exists with the file's bytes and chunks/ exists, so without
    // the name check Charlie would fetch, merge to chunks/escaped.bin and even find it
    // identical; an absolute name would be joined as it is.
    r.write("escaped.bin", &data);
    let absolute = r.path().join("stolen.bin");
    for bad in ["../escaped.bin", absolute.to_str().unwrap()] {
        let mut fi = honest.clone();
        fi.filename = bad.to_owned();
        *reply.lock().unwrap() = Message::FileInfo(fi).encode().unwrap();
        let out = r.run(&["charlie", "2", "--json"]);
        assert!(!out.status.success(), "{bad}");
        let rep = json(&out);
        let err = rep["error"].as_str().unwrap();
        assert!(err.contains("unsafe name"), "{bad}: {err}");
        // Refused before any path was built from it: nothing fetched, nothing written.
        assert!(r.chunk_names("charlie").is_empty(), "{bad}");
        assert!(!r.path().join("chunks/escaped.bin").exists());
        assert!(!absolute.exists());
    }
    // The same FILE_INFO with a plain name downloads.
    *reply.lock().unwrap() = Message::FileInfo(honest).encode().unwrap();
    let out = r.run(&["charlie", "2", "--json"]);
    assert_eq!(json(&out)["identical"], true);
}

/// A connection the peer serves (it answers CHUNK_NOT_FOUND for an unknown hash).
fn served(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 12];
    s.write_all(&get_chunk(&"00".repeat(20))).is_ok()
        && s.read_exact(&mut b).is_ok()
        && hex::encode(b) == NOT_FOUND
}

/// A new connection that the peer serves, once a slot is free (a connection that just
/// ended may hold its slot for a moment).
fn served_conn(addr: SocketAddr) -> TcpStream {
    for _ in 0..400 {
        let mut s = conn(addr);
        if served(&mut s) {
            return s;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("no connection to {addr} was served");
}

#[test]
fn a_peer_serves_at_most_max_conns_connections_at_once() {
    let r = Root::new(26);
    r.file("mc.bin", 100, 100);
    let _p = r.spawn(&["peer", "alice", "--max-conns", "2"]);
    let addr: SocketAddr = "127.0.26.2:8001".parse().unwrap();
    wait_tcp("127.0.26.2:8001");
    let first = served_conn(addr);
    let _second = served_conn(addr);
    // Both slots are held by open connections: a third is accepted and closed at once.
    let mut third = conn(addr);
    assert!(!served(&mut third), "a third connection was served");
    let mut rest = Vec::new();
    assert!(matches!(third.read_to_end(&mut rest), Ok(0) | Err(_)));
    // A slot freed is used again.
    drop(first);
    let mut again = served_conn(addr);
    assert!(served(&mut again));
}
