//! Hostile BitTorrent peers against the real `swarmlab peer` (127.164-166.0.x), and
//! the course protocol unharmed on the same port after each.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use swarmlab_bt_wire::ext::{MetadataMsg, PexMessage};
use swarmlab_bt_wire::wire::Message;
use swarmlab_tests::raw_bt::{RawPeer, OUR_UT_METADATA};

use crate::support::*;

/// 10 chunks of 1,000 bytes: Alice holds 0-6; she listens on `alice`.
fn setup(net: u8, alice: &str, extra: &[&str]) -> (Root, Proc, Vec<u8>, [u8; 20], Vec<String>) {
    let r = Root::new(net);
    let (data, magnet) = r.file("f.bin", 10_000, 1000);
    let mut args = vec!["peer", "alice", "--rescan-ms", "100", "--bind", alice];
    args.extend_from_slice(extra);
    let p = r.spawn(&args);
    wait_tcp(alice);
    let id: [u8; 20] = hex::decode(file_id_of(&magnet))
        .unwrap()
        .try_into()
        .unwrap();
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let hashes: Vec<String> = (0..10)
        .map(|i| {
            ini.lines()
                .find_map(|l| l.strip_prefix(&format!("{i} = ")))
                .unwrap()
                .to_string()
        })
        .collect();
    (r, p, data, id, hashes)
}

/// A course GET_CHUNK on `addr`: the chunk's content, or the ERROR's code.
fn get_chunk(addr: &str, hash: &str) -> Result<Vec<u8>, u16> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut m = hex::decode("0104000000000007").unwrap();
    m.extend(hex::decode(hash).unwrap());
    s.write_all(&m).unwrap();
    let mut head = [0u8; 8];
    s.read_exact(&mut head).unwrap();
    if head[1] == 6 {
        let mut b = [0u8; 4];
        s.read_exact(&mut b).unwrap();
        return Err(u16::from_be_bytes([b[0], b[1]]));
    }
    assert_eq!(head[1], 5, "a CHUNK");
    let mut prefix = [0u8; 24];
    s.read_exact(&mut prefix).unwrap();
    let n = u32::from_be_bytes(prefix[20..24].try_into().unwrap()) as usize;
    let mut data = vec![0u8; n];
    s.read_exact(&mut data).unwrap();
    Ok(data)
}

/// An established, unchoked raw peer of Alice's.
fn unchoked(alice: &str, id: [u8; 20]) -> RawPeer {
    let mut p = RawPeer::connect(sock(alice), id).unwrap();
    p.read_handshake().unwrap();
    p.send_ext_handshake(None).unwrap();
    p.expect(|m| matches!(m, Message::Extended { id: 0, .. }))
        .unwrap();
    p.send(&Message::Interested).unwrap();
    p.expect(|m| *m == Message::Unchoke).unwrap();
    p
}

/// The next reject or piece (what answers a request).
fn answer(p: &mut RawPeer) -> Message {
    p.expect(|m| matches!(m, Message::RejectRequest { .. } | Message::Piece { .. }))
        .unwrap()
}

fn request(index: u32, begin: u32, length: u32) -> Message {
    Message::Request {
        index,
        begin,
        length,
    }
}

fn reject(index: u32, begin: u32, length: u32) -> Message {
    Message::RejectRequest {
        index,
        begin,
        length,
    }
}

#[test]
fn another_info_hash_is_refused_and_closed_and_the_course_protocol_goes_on() {
    let alice = "127.164.0.11:8001";
    let (_r, _p, data, _id, hashes) = setup(164, alice, &[]);
    let mut p = RawPeer::connect(sock(alice), [0xee; 20]).unwrap();
    assert!(p.read_handshake().is_err(), "closed without a handshake");
    assert_eq!(get_chunk(alice, &hashes[0]).unwrap(), data[..1000]);
}

#[test]
fn requests_not_held_out_of_range_or_of_16_mib_and_metadata_out_of_range_are_rejected() {
    let alice = "127.165.0.11:8001";
    let (_r, _p, data, id, hashes) = setup(165, alice, &[]);
    let mut p = unchoked(alice, id);
    for (index, begin, length) in [
        (8, 0, 1000),     // Bob's chunk: not held
        (10, 0, 1000),    // beyond the last chunk
        (0, 600, 500),    // past the end of the chunk
        (1, 0, 16 << 20), // 16 MiB
        (1, 0, 0),        // nothing
    ] {
        p.send(&request(index, begin, length)).unwrap();
        assert_eq!(answer(&mut p), reject(index, begin, length));
    }
    p.request_metadata(3).unwrap();
    let m = p
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
    let Message::Extended { payload, .. } = m else {
        unreachable!()
    };
    assert_eq!(
        MetadataMsg::decode(&payload).unwrap(),
        MetadataMsg::Reject { piece: 3 }
    );
    // The connection still serves, and so does the course protocol.
    p.send(&request(6, 10, 100)).unwrap();
    assert_eq!(
        answer(&mut p),
        Message::Piece {
            index: 6,
            begin: 10,
            data: data[6010..6110].to_vec()
        }
    );
    assert_eq!(get_chunk(alice, &hashes[6]).unwrap(), data[6000..7000]);
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn a_pex_flood_of_5000_peers_ten_times_a_second_is_capped_and_the_peer_serves_on() {
    let alice = "127.166.0.11:8001";
    let (_r, p, data, id, hashes) = setup(166, alice, &[]);
    let mut raw = unchoked(alice, id);
    let before = rss_kib(p.0.id());
    let many: Vec<SocketAddr> = (0..5000u32)
        .map(|i| SocketAddr::from(([10, 2, (i >> 8) as u8, i as u8], 6881)))
        .collect();
    let flood = PexMessage {
        added: many,
        ..PexMessage::default()
    };
    // Ten a second for three seconds, then 2,000 at once (60 MB of PEX): the
    // session keeps two a minute, of 500 peers each; nothing of the rest stays.
    for _ in 0..30 {
        raw.send_pex(&flood).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    for _ in 0..2000 {
        raw.send_pex(&flood).unwrap();
    }
    raw.send(&request(2, 0, 1000)).unwrap();
    assert_eq!(
        answer(&mut raw),
        Message::Piece {
            index: 2,
            begin: 0,
            data: data[2000..3000].to_vec()
        }
    );
    assert_eq!(get_chunk(alice, &hashes[2]).unwrap(), data[2000..3000]);
    let grown = rss_kib(p.0.id()).saturating_sub(before);
    assert!(grown < 32 * 1024, "resident memory grew by {grown} KiB");
}

#[test]
fn a_chunk_deleted_is_rejected_a_corrupt_one_never_served_and_a_new_one_announced() {
    let alice = "127.164.0.12:8001";
    let (r, _p, data, id, hashes) = setup(164, alice, &[]);
    let mut p = RawPeer::connect(sock(alice), id).unwrap();
    p.read_handshake().unwrap();
    p.send_ext_handshake(None).unwrap();
    let bits = p.expect(|m| matches!(m, Message::Bitfield(_))).unwrap();
    assert_eq!(bits, Message::Bitfield(vec![0b1111_1110, 0]));
    p.send(&Message::Interested).unwrap();
    p.expect(|m| *m == Message::Unchoke).unwrap();
    let alice_dir = r.path().join("chunks/alice");
    // Deleted while connected: the bitfield cannot be taken back, the request is.
    std::fs::remove_file(alice_dir.join(format!("{}.bin", hashes[1]))).unwrap();
    p.send(&request(1, 0, 1000)).unwrap();
    assert_eq!(answer(&mut p), reject(1, 0, 1000));
    // Corrupt (same size, one byte changed): never served.
    let mut bad = data[3000..4000].to_vec();
    bad[500] ^= 1;
    std::fs::write(alice_dir.join(format!("{}.bin", hashes[3])), &bad).unwrap();
    p.send(&request(3, 0, 100)).unwrap();
    assert_eq!(answer(&mut p), reject(3, 0, 100));
    // Bob's chunk 8 appears in Alice's directory: a have, then it is served.
    std::fs::copy(
        r.path().join(format!("chunks/bob/{}.bin", hashes[8])),
        alice_dir.join(format!("{}.bin", hashes[8])),
    )
    .unwrap();
    assert_eq!(
        p.expect(|m| matches!(m, Message::Have(_))).unwrap(),
        Message::Have(8)
    );
    p.send(&request(8, 0, 1000)).unwrap();
    assert_eq!(
        answer(&mut p),
        Message::Piece {
            index: 8,
            begin: 0,
            data: data[8000..9000].to_vec()
        }
    );
    // A new connection's bitfield: the directory now (1 gone, 8 there; 3 is
    // present, its check comes when it is asked for).
    let mut q = RawPeer::connect(sock(alice), id).unwrap();
    q.read_handshake().unwrap();
    let bits = q.expect(|m| matches!(m, Message::Bitfield(_))).unwrap();
    assert_eq!(bits, Message::Bitfield(vec![0b1011_1110, 0b1000_0000]));
}

#[test]
fn without_file_torrent_or_file_ini_handshakes_are_refused_and_chunks_still_served() {
    let r = Root::new(165);
    r.write(
        "chunks/alice/4d39faadbf264f3fb59268228994276c36fc3172.bin",
        b"The quick ",
    );
    let _p = r.spawn(&["peer", "alice", "--bind", "127.165.0.12:8001"]);
    let alice = "127.165.0.12:8001";
    wait_tcp(alice);
    let mut p = RawPeer::connect(sock(alice), [1; 20]).unwrap();
    assert!(p.read_handshake().is_err());
    assert_eq!(
        get_chunk(alice, "4d39faadbf264f3fb59268228994276c36fc3172").unwrap(),
        b"The quick "
    );
}

#[test]
fn bittorrent_connections_over_the_limit_are_closed_and_course_clients_still_served() {
    let alice = "127.166.0.12:8001";
    let (_r, _p, data, id, hashes) = setup(166, alice, &["--bt-max-peers", "2"]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut p = RawPeer::connect(sock(alice), id).unwrap();
        p.read_handshake().unwrap();
        held.push(p);
    }
    let mut third = RawPeer::connect(sock(alice), id).unwrap();
    assert!(third.read_handshake().is_err());
    assert_eq!(get_chunk(alice, &hashes[0]).unwrap(), data[..1000]);
}
