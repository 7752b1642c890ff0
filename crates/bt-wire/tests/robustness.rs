//! Hostile input for every decoder of bt-wire, on the stable toolchain (the fuzz
//! targets `bencode`, `metainfo`, `peer_wire`, `extension` and `tracker` do the same
//! under libFuzzer): valid inputs of each format mutated (bits flipped, bytes changed,
//! cut, doubled, digits bent) and random bytes. Nothing may panic; bencode and
//! peer-wire messages that decode must re-encode to what decodes the same; the
//! stream decoder never holds more than its cap.

use std::net::SocketAddr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_bt_wire::ext::{ExtHandshake, MetadataMsg, PexMessage};
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::metainfo::{Info, Metainfo};
use swarmlab_bt_wire::wire::{Decoder, Handshake, Message, HANDSHAKE_LEN};
use swarmlab_bt_wire::{bencode, tracker, InfoHash};

fn mutate(rng: &mut StdRng, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.gen_range(1..4) {
        if b.is_empty() {
            b.push(rng.gen());
        }
        let i = rng.gen_range(0..b.len());
        match rng.gen_range(0..8) {
            0 => b[i] ^= 1 << rng.gen_range(0..8),
            1 => b[i] = rng.gen(),
            2 => b[i] = b"0123456789:ledi-"[rng.gen_range(0..16)],
            3 => b.truncate(i),
            4 => {
                let tail = b[i..].to_vec();
                b.extend_from_slice(&tail);
            }
            5 => b.insert(i, rng.gen()),
            6 => {
                b.remove(i);
            }
            // A length or count made huge.
            _ => {
                let big: &[u8] = [&b"99999999999"[..], b"4294967295", b"18446744073709551616"]
                    [rng.gen_range(0..3)];
                b.splice(i..i, big.iter().copied());
            }
        }
    }
    b
}

fn torrent() -> Vec<u8> {
    let pieces = [7u8; 40];
    let mut info = b"d6:lengthi40000e4:name8:test.bin12:piece lengthi32768e6:pieces40:".to_vec();
    info.extend_from_slice(&pieces);
    info.push(b'e');
    let mut t = b"d8:announce22:http://127.0.0.1:1/ann4:info".to_vec();
    t.extend_from_slice(&info);
    t.push(b'e');
    t
}

fn multi_file_torrent() -> Vec<u8> {
    let mut t = b"d4:infod5:filesld6:lengthi10e4:pathl1:a5:b.txteed6:lengthi5e4:pathl1:ceee4:name3:dir12:piece lengthi16384e6:pieces20:".to_vec();
    t.extend_from_slice(&[3u8; 20]);
    t.extend_from_slice(b"ee");
    t
}

fn seeds() -> Vec<Vec<u8>> {
    let peers: Vec<SocketAddr> = vec![
        "127.0.0.1:6881".parse().unwrap(),
        "[::1]:6882".parse().unwrap(),
    ];
    let ih = InfoHash([0xab; 20]);
    let mut out = vec![
        torrent(),
        multi_file_torrent(),
        b"d1:ai1e1:bl3:xyzi-5eee".to_vec(),
        tracker::http_response_body(1800, &peers),
        b"d14:failure reason7:go awaye".to_vec(),
        tracker::udp_connect_response(0x0102_0304, 0x0417_2710_1980).to_vec(),
        tracker::udp_announce_response(0x0102_0304, 60, 1, 2, &peers[..1]),
        tracker::udp_error_response(0x0102_0304, "no"),
        tracker::udp_connect_request(0x0102_0304).to_vec(),
        ExtHandshake::ours("swarmlab 0.1", Some(12345)).encode(),
        MetadataMsg::Request { piece: 3 }.encode(),
        MetadataMsg::Data {
            piece: 0,
            total_size: 5,
            data: b"hello".to_vec(),
        }
        .encode(),
        MetadataMsg::Reject { piece: 1 }.encode(),
        PexMessage {
            added: peers.clone(),
            added_flags: vec![0x02],
            dropped: peers[..1].to_vec(),
            truncated: 0,
        }
        .encode(),
        format!(
            "magnet:?xt=urn:btih:{}&dn=test&tr=udp%3A%2F%2F127.0.0.1%3A1&x.pe=127.0.0.1:6881",
            ih
        )
        .into_bytes(),
        Handshake {
            reserved: [0, 0, 0, 0, 0, 0x10, 0, 0x05],
            info_hash: ih,
            peer_id: *b"-SL0001-abcdefghijkl",
        }
        .encode()
        .to_vec(),
    ];
    // A stream of peer-wire messages.
    let mut stream = Vec::new();
    for m in [
        Message::KeepAlive,
        Message::Unchoke,
        Message::Have(7),
        Message::Bitfield(vec![0xff, 0x80]),
        Message::Request {
            index: 1,
            begin: 16384,
            length: 16384,
        },
        Message::Piece {
            index: 1,
            begin: 0,
            data: b"block".to_vec(),
        },
    ] {
        stream.extend(m.encode());
    }
    out.push(stream);
    out
}

/// Every decoder on `b`; the stream decoder reads it `step` bytes at a time.
fn check(b: &[u8], step: usize) {
    if let Ok(v) = bencode::decode(b) {
        assert_eq!(bencode::decode(&v.encode()).as_ref(), Ok(&v), "{b:?}");
    }
    let _ = bencode::decode_prefix(b);
    if let Ok(m) = Metainfo::from_bytes(b) {
        let _ = (m.info_hash(), m.info.total_length(), m.info.num_pieces());
    }
    let _ = Info::from_bytes(b);
    let _ = Magnet::parse(&String::from_utf8_lossy(b));
    let _ = ExtHandshake::decode(b);
    let _ = MetadataMsg::decode(b);
    let _ = PexMessage::decode(b);
    let _ = tracker::parse_http_response(b);
    let _ = tracker::udp_parse_connect(b, 0x0102_0304);
    let _ = tracker::udp_parse_announce(b, 0x0102_0304, false);
    let _ = tracker::udp_parse_announce(b, 0x0102_0304, true);
    let _ = tracker::udp_parse_request(b);
    if let Some(h) = b.get(..HANDSHAKE_LEN) {
        let _ = Handshake::decode(h.try_into().unwrap());
    }
    let _ = Message::decode_body(b);
    let mut d = Decoder::new(1 << 16);
    'stream: for chunk in b.chunks(step.max(1)) {
        d.extend(chunk);
        loop {
            match d.next_message() {
                Ok(Some(m)) => {
                    let mut again = Decoder::new(1 << 17);
                    again.extend(&m.encode());
                    assert_eq!(again.next_message().ok().flatten().as_ref(), Some(&m));
                }
                Ok(None) => break,
                Err(_) => break 'stream,
            }
        }
        assert!(d.buffered() <= (1 << 16) + 4 + chunk.len());
    }
}

#[test]
fn the_seeds_decode() {
    Metainfo::from_bytes(&torrent()).unwrap();
    Metainfo::from_bytes(&multi_file_torrent()).unwrap();
    for s in seeds() {
        check(&s, s.len());
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xb7);
    let seeds = seeds();
    for _ in 0..40_000 {
        let s = seeds[rng.gen_range(0..seeds.len())].clone();
        let m = mutate(&mut rng, s);
        check(&m, rng.gen_range(1..64));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xb8);
    for _ in 0..20_000 {
        let len = rng.gen_range(0..400);
        let mut b: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if !b.is_empty() && rng.gen_bool(0.5) {
            b[0] = b"dli1"[rng.gen_range(0..4)];
        }
        check(&b, rng.gen_range(1..64));
    }
}
