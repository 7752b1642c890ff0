//! Random and mutated input: no panic, whatever arrives, and the buffers stay
//! bounded by the limits (the output by the limit plus what the last input made
//! the session answer, the events by the queue limit plus one input's worth).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::ext::{ExtHandshake, MetadataMsg, PexMessage, LOCAL_UT_METADATA, LOCAL_UT_PEX};

/// A plausible stream from a peer: every message kind, in an order a real peer
/// might use.
fn valid_stream(ih: InfoHash) -> Vec<u8> {
    let mut h = ExtHandshake::ours("Peer/1", Some(100));
    h.m.insert("ut_metadata".into(), 3);
    h.m.insert("ut_pex".into(), 4);
    let pex = PexMessage {
        added: vec!["10.0.0.1:6881".parse().unwrap(), "[::1]:5".parse().unwrap()],
        added_flags: vec![2],
        dropped: vec!["10.0.0.2:1".parse().unwrap()],
        truncated: 0,
    };
    let mut out = peer_handshake(ih, reserved::ours());
    out.extend(wire(&[
        Message::Extended {
            id: 0,
            payload: h.encode(),
        },
        Message::Bitfield(vec![0xf0]),
        Message::Have(5),
        Message::Port(6881),
        Message::Unchoke,
        Message::Interested,
        Message::Request {
            index: 1,
            begin: 0,
            length: 1000,
        },
        Message::Cancel {
            index: 1,
            begin: 0,
            length: 1000,
        },
        Message::Piece {
            index: 0,
            begin: 0,
            data: vec![1; 64],
        },
        Message::RejectRequest {
            index: 0,
            begin: 0,
            length: 64,
        },
        Message::AllowedFast(2),
        Message::SuggestPiece(3),
        Message::Extended {
            id: LOCAL_UT_PEX,
            payload: pex.encode(),
        },
        Message::Extended {
            id: LOCAL_UT_METADATA,
            payload: MetadataMsg::Request { piece: 0 }.encode(),
        },
        Message::Extended {
            id: LOCAL_UT_METADATA,
            payload: MetadataMsg::Data {
                piece: 0,
                total_size: 100,
                data: vec![0; 100],
            }
            .encode(),
        },
        Message::Choke,
        Message::KeepAlive,
    ]));
    out
}

/// Feed `bytes` in random slices, checking the bounds after each; never panics.
fn feed(rng: &mut SmallRng, s: &mut Session, now: std::time::Instant, bytes: &[u8]) {
    let max_out = s.config().limits.max_output;
    let max_events = s.config().limits.max_events;
    let mut rest = bytes;
    while !rest.is_empty() && s.wants_read() {
        let n = rng.gen_range(1..=rest.len().min(4096));
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let before = s.pending_output();
        let events_before = s.events.len();
        let _ = s.handle_input(now, chunk);
        // Whatever the session answered is bounded by what it read.
        assert!(s.pending_output() <= max_out.max(before) + 64 * chunk.len() + 16_500);
        // At most one event per message, a message being at least 4 bytes.
        assert!(s.events.len() <= events_before.max(max_events) + chunk.len() / 4 + 2);
        if rng.gen_bool(0.3) {
            let _ = s.poll_transmit();
        }
        if rng.gen_bool(0.5) {
            while s.poll_event().is_some() {}
        }
    }
    let _ = s.handle_timeout(now + std::time::Duration::from_secs(rng.gen_range(0..200)));
}

#[test]
fn random_and_mutated_input_never_panics() {
    let (info, _) = torrent(8, 1000);
    let stream = valid_stream(info.info_hash);
    let mut rng = SmallRng::seed_from_u64(0x5e55);
    for round in 0..3000 {
        let now = std::time::Instant::now();
        let torrent = if round % 2 == 0 {
            Torrent::from_info(&info)
        } else {
            Torrent::new(info.info_hash)
        };
        // Outgoing, or incoming and accepted.
        let mut s = if round % 3 == 0 {
            let mut s = Session::incoming(now, cfg(2));
            let _ = s.handle_input(now, &stream[..68]);
            let _ = s.accept(now, torrent);
            let _ = s.send_have_all();
            let _ = s.unchoke();
            s
        } else {
            Session::outgoing(now, cfg(1), torrent)
        };
        let mut bytes = if round % 3 == 0 {
            stream[68..].to_vec()
        } else {
            stream.clone()
        };
        match round % 4 {
            // A few random byte flips.
            0 | 1 => {
                for _ in 0..rng.gen_range(1..6) {
                    let i = rng.gen_range(0..bytes.len());
                    bytes[i] = rng.gen();
                }
            }
            // Random bytes after the valid part.
            2 => {
                let cut = rng.gen_range(0..bytes.len());
                bytes.truncate(cut);
                bytes.extend((0..rng.gen_range(0..600)).map(|_| rng.gen::<u8>()));
            }
            // Length prefixes patched to random values.
            _ => {
                for _ in 0..3 {
                    let i = rng.gen_range(0..bytes.len().saturating_sub(4).max(1));
                    let len: u32 = rng.gen_range(0..40);
                    bytes[i..i + 4].copy_from_slice(&len.to_be_bytes());
                }
            }
        }
        feed(&mut rng, &mut s, now, &bytes);
        // Commands after whatever happened never panic either.
        let _ = s.request(crate::session::BlockRef {
            index: rng.gen_range(0..10),
            begin: 0,
            length: rng.gen_range(0..20_000),
        });
        let _ = s.request_metadata();
        let _ = s.send_pex(now, &[("10.9.9.9:1".parse().unwrap(), 0)], &[]);
        let _ = s.send_piece(1, 0, &[0; 1000]);
    }
}

#[test]
fn random_bytes_as_a_handshake_never_panic() {
    let (info, _) = torrent(8, 1000);
    let mut rng = SmallRng::seed_from_u64(7);
    for _ in 0..3000 {
        let now = std::time::Instant::now();
        let mut s = if rng.gen_bool(0.5) {
            Session::incoming(now, cfg(2))
        } else {
            Session::outgoing(now, cfg(1), Torrent::from_info(&info))
        };
        let mut b: Vec<u8> = (0..rng.gen_range(0..300)).map(|_| rng.gen()).collect();
        if rng.gen_bool(0.5) && b.len() > 20 {
            b[0] = 19;
            b[1..20].copy_from_slice(crate::wire::PROTOCOL);
        }
        feed(&mut rng, &mut s, now, &b);
        if let Some(Event::HandshakeReceived(h)) = s.poll_event() {
            let _ = s.accept(now, Torrent::new(h.info_hash));
        }
    }
}
