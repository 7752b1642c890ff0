//! The wire crate's tests: every vector of `course-vectors.md` both ways (`vectors`),
//! invalid messages (`errors`), the incremental decoder's bounds (`decoder`), and the
//! two forms of a UDP reply (`udp`).

mod decoder;
mod errors;
mod udp;
mod vectors;

use crate::*;
use std::net::SocketAddrV4;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

fn hash(s: &str) -> ChunkHash {
    h(s).try_into().unwrap()
}

fn addr(s: &str) -> SocketAddrV4 {
    s.parse().unwrap()
}

/// Encode gives exactly `bytes`; decode gives exactly `msg`; the incremental
/// decoder agrees when fed one byte at a time.
fn both_ways(msg: &Message, bytes: &str) {
    let bytes = h(bytes);
    assert_eq!(msg.encode().unwrap(), bytes, "encode {msg:?}");
    assert_eq!(msg.encoded_len(), bytes.len());
    assert_eq!(&Message::decode(&bytes).unwrap(), msg, "decode");
    let mut d = Decoder::default();
    let mut got = None;
    for b in &bytes {
        let mut s = std::slice::from_ref(b);
        if let Some(m) = d.decode_from(&mut s).unwrap() {
            assert!(got.is_none());
            got = Some(m);
        }
    }
    assert_eq!(got.as_ref(), Some(msg), "byte-at-a-time decode");
    assert!(d.is_idle());
}

const A_HASHES: [&str; 3] = [
    "4d39faadbf264f3fb59268228994276c36fc3172",
    "729e3121ba0b87facdd975695c0e907a1f89d244",
    "eda92612cf24747e95b6d9df90a329a254dcfa36",
];

const A4: &str = "01030000000000200003000968656c6c6f2e7478740000004d39faadbf264f3fb59268228994276c36fc3172000100007f0000011f410000729e3121ba0b87facdd975695c0e907a1f89d244000200007f0000011f4100007f0000011f420000eda92612cf24747e95b6d9df90a329a254dcfa36000100007f0000011f420000";

fn a4_file_info() -> FileInfo {
    let alice = addr("127.0.0.1:8001");
    let bob = addr("127.0.0.1:8002");
    FileInfo {
        filename: "hello.txt".into(),
        chunks: vec![
            ChunkRecord {
                hash: hash(A_HASHES[0]),
                peers: vec![alice],
            },
            ChunkRecord {
                hash: hash(A_HASHES[1]),
                peers: vec![alice, bob],
            },
            ChunkRecord {
                hash: hash(A_HASHES[2]),
                peers: vec![bob],
            },
        ],
    }
}
