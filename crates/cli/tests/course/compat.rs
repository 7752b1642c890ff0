//! The forms deployed implementations use, and their clients' ways of reading ours.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

use crate::support::*;

/// A deployed-style tracker on 127.0.14.1:8000: it reads the request with one recv and
/// answers FILE_INFO with type byte 5 (rule 4.3).
fn type_5_tracker(r: &Root) {
    let info = {
        let _real = r.spawn(&["tracker", "--no-discovery", "--bind", "127.0.14.9:8000"]);
        wait_tcp("127.0.14.9:8000");
        let mut s = conn("127.0.14.9:8000".parse().unwrap());
        s.write_all(&h("0102000000000002")).unwrap();
        let head = read_n(&mut s, 8);
        let mut msg = head.clone();
        msg.extend(read_n(&mut s, words(&head) * 4 - 8));
        msg
    };
    let l = TcpListener::bind("127.0.14.1:8000").unwrap();
    let mut type5 = info;
    type5[1] = 5;
    thread::spawn(move || {
        for s in l.incoming() {
            let mut s = s.unwrap();
            let mut b = [0u8; 64];
            let _ = s.read(&mut b);
            let _ = s.write_all(&type5);
        }
    });
}

/// Answers DISCOVER_TRACKER on UDP `port` with TRACKER_INFO for 127.0.14.1:8000, in
/// one datagram or in two (header, then body).
fn fake_discovery(port: u16, two_datagrams: bool) {
    let udp = UdpSocket::bind(("0.0.0.0", port)).unwrap();
    thread::spawn(move || {
        let mut b = [0u8; 64];
        let msg = h("01010000000000067f000e011f400007747261636b657200"); // 127.0.14.1:8000
        while let Ok((_, from)) = udp.recv_from(&mut b) {
            if two_datagrams {
                udp.send_to(&msg[..8], from).unwrap();
                thread::sleep(Duration::from_millis(20));
                udp.send_to(&msg[8..], from).unwrap();
            } else {
                udp.send_to(&msg, from).unwrap();
            }
        }
    });
}

#[test]
fn charlie_takes_a_type_5_file_info_and_tracker_info_in_one_or_two_datagrams() {
    let r = Root::new(14);
    let data = r.file("j.bin", 25_000, 10_000);
    let _peers = start_peers(&r, 14);
    type_5_tracker(&r);
    for (port, two) in [(19014, true), (19015, false)] {
        fake_discovery(port, two);
        let _ = std::fs::remove_dir_all(r.path().join("chunks/charlie"));
        let out = r.run(&[
            "charlie",
            "3",
            "--json",
            "--broadcast",
            "127.255.255.255",
            "--discovery-port",
            &port.to_string(),
        ]);
        assert!(
            out.status.success(),
            "two datagrams: {two}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let rep = json(&out);
        assert_eq!(rep["download"]["fetched_chunks"], 3, "two datagrams: {two}");
        assert_eq!(r.read("chunks/charlie/j.bin"), data);
    }
}

fn be16(b: &[u8]) -> usize {
    u16::from_be_bytes([b[0], b[1]]) as usize
}

fn words(header: &[u8]) -> usize {
    u32::from_be_bytes(header[4..8].try_into().unwrap()) as usize
}

fn addr_at(b: &[u8]) -> SocketAddr {
    SocketAddr::from((<[u8; 4]>::try_from(&b[..4]).unwrap(), be16(&b[4..6]) as u16))
}

/// How a deployed client reads the UDP reply to DISCOVER_TRACKER.
#[derive(Debug, Clone, Copy)]
enum UdpRead {
    /// An 8-byte `recvfrom` (the rest of a longer datagram is lost), then a second
    /// `recvfrom` for the body.
    HeaderThenBody,
    /// `recvfrom` until msg_length·4 bytes are in.
    Accumulate,
}

/// What a deployed Charlie does in step 3, written with std sockets and no swarmlab
/// code: broadcast DISCOVER_TRACKER, read the reply its way, GET_FILE_INFO (header,
/// then body; connection closed), then GET_CHUNK for every chunk from its first peer
/// on one connection per peer, strictly request/response. Returns the file's name and
/// its content.
fn deployed_charlie(style: UdpRead, port: u16) -> (String, Vec<u8>) {
    let udp = UdpSocket::bind("0.0.0.0:0").unwrap();
    udp.set_broadcast(true).unwrap();
    // Only so that a client that hangs fails the test instead of hanging it.
    udp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    udp.send_to(&h("0100000000000002"), ("127.255.255.255", port))
        .unwrap();
    let reply = match style {
        UdpRead::HeaderThenBody => {
            let mut head = [0u8; 8];
            let (n, from) = udp.recv_from(&mut head).expect("no reply");
            assert_eq!(n, 8);
            let mut body = vec![0u8; words(&head) * 4 - 8];
            let (m, from2) = udp.recv_from(&mut body).unwrap_or_else(|e| {
                panic!("no second datagram with the body ({e}): this client hangs")
            });
            assert_eq!((m, from2), (body.len(), from));
            [head.to_vec(), body].concat()
        }
        UdpRead::Accumulate => {
            let mut got = Vec::new();
            let mut buf = [0u8; 2048];
            while got.len() < 8 || got.len() < words(&got) * 4 {
                let (n, _) = udp.recv_from(&mut buf).expect("reply incomplete");
                got.extend_from_slice(&buf[..n]);
            }
            got
        }
    };
    assert_eq!(&reply[..2], &[1, 1], "TRACKER_INFO");
    let mut s = conn(addr_at(&reply[8..]));
    s.write_all(&h("0102000000000002")).unwrap();
    let head = read_n(&mut s, 8);
    let fi = [head.clone(), read_n(&mut s, words(&head) * 4 - 8)].concat();
    drop(s);
    assert_eq!(&fi[..2], &[1, 3], "FILE_INFO");
    let pad = |n: usize| (4 - n % 4) % 4;
    let (count, flen) = (be16(&fi[8..]), be16(&fi[10..]));
    let name = String::from_utf8(fi[12..12 + flen].to_vec()).unwrap();
    let mut at = 12 + flen + pad(flen);
    let mut peers: HashMap<SocketAddr, TcpStream> = HashMap::new();
    let mut content = Vec::new();
    for _ in 0..count {
        let hash = fi[at..at + 20].to_vec();
        let n_peers = be16(&fi[at + 20..]);
        let first = addr_at(&fi[at + 24..]);
        at += 24 + 8 * n_peers;
        let s = peers.entry(first).or_insert_with(|| conn(first));
        s.write_all(&[h("0104000000000007"), hash].concat())
            .unwrap();
        let head = read_n(s, 32);
        assert_eq!(&head[..2], &[1, 5], "CHUNK");
        let n = u32::from_be_bytes(head[28..32].try_into().unwrap()) as usize;
        let c = read_n(s, n + pad(n));
        content.extend_from_slice(&c[..n]);
    }
    (name, content)
}

#[test]
fn deployed_charlies_finish_step_3_against_our_tracker() {
    let r = Root::new(15);
    let data = r.file("dep.bin", 50_000, 10_000);
    let _peers = start_peers(&r, 15);
    let _t = r.spawn(&["tracker", "--discovery-port", "19016"]);
    wait_tcp("127.0.15.1:8000");
    for style in [UdpRead::HeaderThenBody, UdpRead::Accumulate] {
        let (name, content) = deployed_charlie(style, 19016);
        assert_eq!(name, "dep.bin", "{style:?}");
        assert!(content == data, "{style:?}: the file differs");
    }
}
