//! Hostile input for the course protocol's decoders, on the stable toolchain (the
//! `course_wire` fuzz target does the same under libFuzzer): valid messages mutated
//! (bits flipped, bytes changed, cut, doubled, length fields bent) and random bytes,
//! through one-message decoding, the stream decoder at every read size, and the UDP
//! assembler. Nothing may panic; whatever decodes must re-encode to a message that
//! decodes the same; no decoder may hold more than its cap.

use std::net::SocketAddrV4;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_course_wire::{
    ChunkRecord, Decoder, ErrorCode, FileInfo, Message, TrackerInfo, UdpAssembler,
};

const MAX: usize = 1 << 16;

fn seeds() -> Vec<Vec<u8>> {
    let a: SocketAddrV4 = "127.0.0.1:8001".parse().unwrap();
    let b: SocketAddrV4 = "10.0.0.2:8002".parse().unwrap();
    [
        Message::DiscoverTracker,
        Message::TrackerInfo(TrackerInfo {
            addr: a,
            name: "tracker".into(),
        }),
        Message::GetFileInfo,
        Message::FileInfo(FileInfo {
            filename: "test.bin".into(),
            chunks: vec![
                ChunkRecord {
                    hash: [1; 20],
                    peers: vec![a, b],
                },
                ChunkRecord {
                    hash: [2; 20],
                    peers: vec![],
                },
            ],
        }),
        Message::GetChunk([7; 20]),
        Message::Chunk {
            hash: [9; 20],
            content: b"hello, chunk".to_vec(),
        },
        Message::Error(ErrorCode::ChunkNotFound),
    ]
    .iter()
    .map(|m| m.encode().unwrap())
    .collect()
}

fn mutate(rng: &mut StdRng, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.gen_range(1..4) {
        if b.is_empty() {
            b.push(rng.gen());
        }
        let i = rng.gen_range(0..b.len());
        match rng.gen_range(0..8) {
            0 => b[i] ^= 1 << rng.gen_range(0..8),
            1 => b[i] = rng.gen(),
            2 => b[i] = [0u8, 1, 0x7f, 0x80, 0xff][rng.gen_range(0..5)],
            3 => b.truncate(i),
            4 => {
                let tail = b[i..].to_vec();
                b.extend_from_slice(&tail);
            }
            5 => b.insert(i, rng.gen()),
            6 => {
                b.remove(i);
            }
            // The header's length field (bytes 4..8, in 4-byte words).
            _ => {
                if b.len() >= 8 {
                    let v =
                        [0u32, 1, 2, 3, u32::MAX, u32::MAX / 4, 0x0100_0000][rng.gen_range(0..7)];
                    b[4..8].copy_from_slice(&v.to_be_bytes());
                }
            }
        }
    }
    b
}

fn check(input: &[u8], step: usize) {
    if let Ok(m) = Message::decode_with_max(input, MAX) {
        if let Ok(wire) = m.encode() {
            assert_eq!(
                Message::decode_with_max(&wire, MAX).ok().as_ref(),
                Some(&m),
                "re-encoding {input:?}"
            );
        }
    }
    let mut d = Decoder::new(MAX);
    'stream: for mut chunk in input.chunks(step.max(1)) {
        loop {
            match d.decode_from(&mut chunk) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => break 'stream,
            }
            assert!(d.buffered() <= MAX);
        }
    }
    let mut u = UdpAssembler::new(4, MAX);
    for (i, dgram) in input.chunks(step.max(1)).enumerate() {
        let _ = u.push(i % 3, dgram);
        assert!(u.pending() <= 4);
    }
}

#[test]
fn mutated_messages_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xc0);
    let seeds = seeds();
    for s in &seeds {
        check(s, s.len());
    }
    for _ in 0..50_000 {
        let s = seeds[rng.gen_range(0..seeds.len())].clone();
        let m = mutate(&mut rng, s);
        check(&m, rng.gen_range(1..40));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xc1);
    for _ in 0..20_000 {
        let len = rng.gen_range(0..300);
        let mut b: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Mostly plausible headers: version 1, a known type.
        if b.len() >= 2 && rng.gen_bool(0.7) {
            b[0] = 1;
            b[1] = rng.gen_range(0..8);
        }
        check(&b, rng.gen_range(1..64));
    }
}

#[test]
fn a_header_announcing_sixteen_gigabytes_reserves_nothing() {
    // FILE_INFO claiming u32::MAX words: refused by the cap, not allocated.
    let mut b = vec![1u8, 3, 0, 0];
    b.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(Message::decode_with_max(&b, MAX).is_err());
    let mut d = Decoder::new(MAX);
    let mut input = &b[..];
    assert!(d.decode_from(&mut input).is_err());
    assert!(d.buffered() <= MAX);
}
