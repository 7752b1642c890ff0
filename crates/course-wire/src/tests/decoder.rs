//! The incremental decoder: splits, batches, resynchronisation and bounds.

use super::*;

#[test]
fn decoder_splits_and_batches() {
    let msgs = vec![
        Message::GetChunk([3; 20]),
        Message::FileInfo(a4_file_info()),
        Message::Chunk {
            hash: [9; 20],
            content: (0..1001u32).map(|i| i as u8).collect(),
        },
        Message::Error(ErrorCode::ChunkNotFound),
        Message::DiscoverTracker,
    ];
    let mut stream = Vec::new();
    for m in &msgs {
        m.encode_into(&mut stream).unwrap();
    }
    // All in one read.
    let mut d = Decoder::default();
    let mut s = &stream[..];
    let mut got = Vec::new();
    while let Some(m) = d.decode_from(&mut s).unwrap() {
        got.push(m);
    }
    assert_eq!(got, msgs);
    // Every split size from 1 to 50 bytes.
    for step in 1..50 {
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for piece in stream.chunks(step) {
            let mut s = piece;
            while let Some(m) = d.decode_from(&mut s).unwrap() {
                got.push(m);
            }
            assert!(s.is_empty());
        }
        assert_eq!(got, msgs, "split every {step} bytes");
        assert!(d.is_idle());
    }
}

#[test]
fn decoder_skips_invalid_messages_and_goes_on() {
    let mut stream = h("0204000000000007");
    stream.extend_from_slice(&[0xee; 20]); // version 2, a 28-byte message
    stream.extend(h("0109000000000002")); // type 9
    stream.extend(h("0100000000000001")); // msg_length 1: header dropped
    stream.extend(Message::GetChunk([5; 20]).encode().unwrap());
    for step in [1, 3, 7, 100] {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for piece in stream.chunks(step) {
            let mut s = piece;
            loop {
                match d.decode_from(&mut s) {
                    Ok(Some(m)) => out.push(Ok(m)),
                    Ok(None) => break,
                    Err(e) => out.push(Err(e)),
                }
            }
        }
        assert_eq!(
            out,
            vec![
                Err(DecodeError::Version(2)),
                Err(DecodeError::UnknownType(9)),
                Err(DecodeError::LengthTooSmall(1)),
                Ok(Message::GetChunk([5; 20])),
            ],
            "step {step}"
        );
    }
}

#[test]
fn decoder_never_buffers_more_than_its_maximum() {
    let mut d = Decoder::new(1024);
    let mut s = &h("01050000ffffffff")[..];
    let e = d.decode_from(&mut s).unwrap_err();
    assert!(e.is_fatal());
    assert_eq!(d.buffered(), 0);
    // A message just under the maximum is buffered as it arrives, no more.
    let m = Message::Chunk {
        hash: [1; 20],
        content: vec![2; 1024 - 32],
    }
    .encode()
    .unwrap();
    let mut d = Decoder::new(1024);
    let mut s = &m[..500];
    assert_eq!(d.decode_from(&mut s).unwrap(), None);
    assert_eq!(d.buffered(), 500);
    let mut s = &m[500..];
    assert!(d.decode_from(&mut s).unwrap().is_some());
    assert_eq!(d.buffered(), 0);
    // Skipped bodies are not buffered either.
    let mut d = Decoder::new(1 << 20);
    let mut bad = h("02050000000003e8");
    bad.resize(4000, 0);
    let mut s = &bad[..3000];
    assert_eq!(d.decode_from(&mut s).unwrap(), None);
    assert_eq!(d.buffered(), 0);
    let mut s = &bad[3000..];
    assert_eq!(d.decode_from(&mut s), Err(DecodeError::Version(2)));
}

#[test]
fn random_bytes_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(417);
    let valid = h(A4);
    for i in 0..20_000 {
        let mut b = if i % 2 == 0 {
            let n = rng.gen_range(0..200);
            (0..n).map(|_| rng.gen()).collect::<Vec<u8>>()
        } else {
            let mut v = valid.clone();
            for _ in 0..rng.gen_range(1..6) {
                let j = rng.gen_range(0..v.len());
                v[j] = rng.gen();
            }
            v
        };
        if i % 3 == 0 && !b.is_empty() {
            b[0] = 1;
        }
        let _ = Message::decode(&b);
        let _ = Message::decode_reply_as(MsgType::FileInfo, &b, 4096);
        let mut d = Decoder::new(4096);
        let mut s = &b[..];
        for _ in 0..100 {
            match d.decode_from(&mut s) {
                Ok(None) => break,
                Err(e) if e.is_fatal() => break,
                _ => {}
            }
        }
    }
}
