//! Hostile bytes fed straight into a session: each rule holds, with the typed error
//! or the counted misbehaviour it promises.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::ext::{ExtHandshake, MetadataMsg, PexMessage, LOCAL_UT_METADATA, LOCAL_UT_PEX};
use crate::session::{BlockRef, Misbehaviour};
use crate::wire::{Bitfield, BLOCK_SIZE};
use crate::WireError;

fn block(index: u32, begin: u32, length: u32) -> BlockRef {
    BlockRef {
        index,
        begin,
        length,
    }
}

fn misbehaviours(events: &[Event]) -> Vec<Misbehaviour> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Misbehaviour(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// A seed (have_all, unchoking) that a hostile peer dialled, established.
fn seed_dialled_by_hostile(info: &Info) -> (Session, std::time::Instant) {
    let now = std::time::Instant::now();
    let mut s = Session::incoming(now, cfg(2));
    s.handle_input(now, &peer_handshake(info.info_hash, reserved::ours()))
        .unwrap();
    drain(&mut s);
    s.accept(now, Torrent::from_info(info)).unwrap();
    s.send_have_all().unwrap();
    s.unchoke().unwrap();
    let _ = s.poll_transmit();
    drain(&mut s);
    (s, now)
}

#[test]
fn a_16_mib_length_prefix_is_refused_before_any_body() {
    let (info, _) = torrent(4, 16384);
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    let err = s
        .handle_input(now, &(16u32 << 20).to_be_bytes())
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::Wire(WireError::TooLong {
            len: 16 << 20,
            max: crate::wire::DEFAULT_MAX_MESSAGE
        })
    );
    assert!(s.is_closed() && !s.wants_read());
    assert_eq!(s.handle_input(now, &[0]), Err(err), "closed for good");
}

#[test]
fn a_bitfield_of_the_wrong_length_ends_the_session_once_the_layout_is_known() {
    let (info, _) = torrent(20, 1000);
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    let err = s
        .handle_input(now, &wire(&[Message::Bitfield(vec![0xff; 10])]))
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::BitfieldLength {
            got: 10,
            pieces: 20
        }
    );
    assert_eq!(
        err.to_string(),
        "bitfield of wrong length: 10 bytes for 20 pieces (want 3)"
    );
    // Spare bits set: the right length is not enough.
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    assert!(s
        .handle_input(now, &wire(&[Message::Bitfield(vec![0xff, 0xff, 0xff])]))
        .is_err());
    // Unknown layout: the raw bitfield comes out for the driver to judge later.
    let (mut s, now) = dialled(Torrent::new(info.info_hash), cfg(1));
    s.handle_input(now, &wire(&[Message::Bitfield(vec![0xff; 10])]))
        .unwrap();
    assert_eq!(drain(&mut s), vec![Event::Bitfield(vec![0xff; 10])]);
}

#[test]
fn a_bitfield_is_only_the_first_announcement() {
    let (info, _) = torrent(8, 1000);
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    let msgs = [
        Message::Have(1),
        Message::Bitfield(vec![0xff]),
        Message::HaveAll,
        Message::Have(9),
    ];
    s.handle_input(now, &wire(&msgs)).unwrap();
    let ev = drain(&mut s);
    assert_eq!(ev[0], Event::Have(1));
    assert_eq!(
        misbehaviours(&ev),
        vec![
            Misbehaviour::LateBitfield,
            Misbehaviour::LateBitfield,
            Misbehaviour::HaveOutOfRange(9)
        ]
    );
}

#[test]
fn pieces_not_requested_are_counted_and_dropped() {
    let (info, _) = torrent(8, BLOCK_SIZE as usize);
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    s.handle_input(now, &wire(&[Message::Unchoke])).unwrap();
    s.request(block(1, 0, 1000)).unwrap();
    drain(&mut s);
    let piece = |index, begin, n| Message::Piece {
        index,
        begin,
        data: vec![1; n],
    };
    // Never requested; right place but wrong length; the requested one twice.
    let msgs = [
        piece(0, 0, 1000),
        piece(1, 0, 999),
        piece(1, 0, 1000),
        piece(1, 0, 1000),
    ];
    s.handle_input(now, &wire(&msgs)).unwrap();
    let ev = drain(&mut s);
    let blocks = ev
        .iter()
        .filter(|e| matches!(e, Event::Block { .. }))
        .count();
    assert_eq!(blocks, 1, "{ev:?}");
    assert_eq!(
        misbehaviours(&ev),
        vec![
            Misbehaviour::UnrequestedBlock(block(0, 0, 1000)),
            Misbehaviour::UnrequestedBlock(block(1, 0, 999)),
            Misbehaviour::UnrequestedBlock(block(1, 0, 1000)),
        ]
    );
    assert_eq!(s.stats().unrequested_blocks, 3);
    assert_eq!(s.stats().blocks_in, 1);
}

#[test]
fn requests_out_of_range_are_rejected_then_end_the_session() {
    let (info, _) = torrent(4, BLOCK_SIZE as usize);
    let (mut s, now) = seed_dialled_by_hostile(&info);
    let bad = [
        block(4, 0, 100),            // no such piece
        block(3, 0, BLOCK_SIZE),     // past the end of the short last piece
        block(0, BLOCK_SIZE - 1, 2), // crosses the piece's end
        block(0, 0, 16 << 20),       // 16 MiB
        block(0, 0, 0),              // nothing
    ];
    let reqs: Vec<Message> = bad
        .iter()
        .map(|r| Message::Request {
            index: r.index,
            begin: r.begin,
            length: r.length,
        })
        .collect();
    s.handle_input(now, &wire(&reqs)).unwrap();
    let ev = drain(&mut s);
    assert!(!ev.iter().any(|e| matches!(e, Event::Request(_))), "{ev:?}");
    assert_eq!(
        misbehaviours(&ev),
        bad.iter()
            .map(|r| Misbehaviour::InvalidRequest(*r))
            .collect::<Vec<_>>()
    );
    let rejects = sent(&mut s);
    assert_eq!(rejects.len(), 5);
    assert!(rejects
        .iter()
        .all(|m| matches!(m, Message::RejectRequest { .. })));
    // The limit: 64 invalid requests are tolerated, the 65th ends it.
    let one = wire(&reqs[..1]);
    for _ in 0..59 {
        s.handle_input(now, &one).unwrap();
    }
    assert_eq!(
        s.handle_input(now, &one),
        Err(SessionError::InvalidRequests(65))
    );
}

#[test]
fn requests_while_choked_or_over_the_queue_are_refused() {
    let (info, _) = torrent(400, BLOCK_SIZE as usize);
    let (mut s, now) = seed_dialled_by_hostile(&info);
    s.choke().unwrap();
    let _ = s.poll_transmit();
    let req = |i: u32| Message::Request {
        index: i,
        begin: 0,
        length: 100,
    };
    s.handle_input(now, &wire(&[req(0)])).unwrap();
    assert_eq!(
        misbehaviours(&drain(&mut s)),
        vec![Misbehaviour::RequestWhileChoked(block(0, 0, 100))]
    );
    s.unchoke().unwrap();
    let flood: Vec<Message> = (0..300).map(req).collect();
    s.handle_input(now, &wire(&flood)).unwrap();
    let ev = drain(&mut s);
    let accepted = ev.iter().filter(|e| matches!(e, Event::Request(_))).count();
    assert_eq!(accepted, 250, "the pending queue is bounded");
    assert_eq!(misbehaviours(&ev).len(), 50);
    assert_eq!(s.pending_requests().count(), 250);
    assert_eq!(s.stats().requests_refused, 51);
}

#[test]
fn a_5000_entry_pex_is_capped() {
    let (info, _) = torrent(4, 16384);
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    let added: Vec<SocketAddr> = (0..5000u32)
        .map(|i| SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 6881)))
        .collect();
    let m = PexMessage {
        added,
        ..Default::default()
    };
    s.handle_input(
        now,
        &wire(&[Message::Extended {
            id: LOCAL_UT_PEX,
            payload: m.encode(),
        }]),
    )
    .unwrap();
    let Some(Event::Pex(p)) = s.poll_event() else {
        panic!()
    };
    assert_eq!(p.added.len(), crate::ext::MAX_PEX_PEERS);
    assert_eq!(p.truncated, 5000 - crate::ext::MAX_PEX_PEERS);
}

#[test]
fn ten_pex_messages_a_second_are_counted_and_ignored() {
    let (info, _) = torrent(4, 16384);
    let (mut s, mut now) = dialled(Torrent::from_info(&info), cfg(1));
    let one = PexMessage {
        added: vec!["10.0.0.1:1".parse().unwrap()],
        ..Default::default()
    };
    let msg = wire(&[Message::Extended {
        id: LOCAL_UT_PEX,
        payload: one.encode(),
    }]);
    for _ in 0..10 {
        s.handle_input(now, &msg).unwrap();
        now += Duration::from_millis(100);
    }
    let ev = drain(&mut s);
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::Pex(_))).count(), 2);
    assert_eq!(misbehaviours(&ev), vec![Misbehaviour::PexTooOften; 8]);
    assert_eq!((s.stats().pex_received, s.stats().pex_ignored), (10, 8));
    // A minute after the first two, one more is welcome.
    now += Duration::from_secs(60);
    s.handle_input(now, &msg).unwrap();
    assert!(matches!(drain(&mut s)[..], [Event::Pex(_)]));
}

#[test]
fn ut_metadata_requests_out_of_range_or_too_many_are_rejected() {
    let (info, _) = torrent(4, 16384);
    let (mut s, now) = seed_dialled_by_hostile(&info);
    // The hostile peer announces ut_metadata as id 3.
    let mut h = ExtHandshake::ours("Hostile/1", None);
    h.m.insert("ut_metadata".into(), 3);
    s.handle_input(
        now,
        &wire(&[Message::Extended {
            id: 0,
            payload: h.encode(),
        }]),
    )
    .unwrap();
    drain(&mut s);
    let ask = |piece| Message::Extended {
        id: LOCAL_UT_METADATA,
        payload: MetadataMsg::Request { piece }.encode(),
    };
    s.handle_input(now, &wire(&[ask(1), ask(u32::MAX), ask(0)]))
        .unwrap();
    let replies: Vec<MetadataMsg> = sent(&mut s)
        .into_iter()
        .map(|m| match m {
            Message::Extended { id: 3, payload } => MetadataMsg::decode(&payload).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(replies[0], MetadataMsg::Reject { piece: 1 });
    assert_eq!(replies[1], MetadataMsg::Reject { piece: u32::MAX });
    assert!(
        matches!(&replies[2], MetadataMsg::Data { piece: 0, data, .. } if data[..] == info.raw[..])
    );
    assert_eq!(
        misbehaviours(&drain(&mut s)),
        vec![
            Misbehaviour::MetadataOutOfRange(1),
            Misbehaviour::MetadataOutOfRange(u32::MAX)
        ]
    );
    // One piece: it is served at most 2 + 4 times in all.
    let again: Vec<Message> = (0..20).map(|_| ask(0)).collect();
    s.handle_input(now, &wire(&again)).unwrap();
    assert_eq!(s.stats().metadata_served, 6);
    assert_eq!(s.stats().metadata_rejected, 2 + 15);
}

#[test]
fn a_handshake_for_another_info_hash_ends_an_outgoing_session() {
    let (info, _) = torrent(4, 16384);
    let now = std::time::Instant::now();
    let mut s = Session::outgoing(now, cfg(1), Torrent::from_info(&info));
    let other = InfoHash([9; 20]);
    assert_eq!(
        s.handle_input(now, &peer_handshake(other, reserved::ours())),
        Err(SessionError::WrongInfoHash {
            expected: info.info_hash,
            got: other
        })
    );
    assert_eq!(
        s.error().unwrap().to_string(),
        format!("peer answered for {other}")
    );
}

#[test]
fn not_bittorrent_fails_at_the_first_wrong_byte() {
    let (info, _) = torrent(4, 16384);
    let now = std::time::Instant::now();
    let mut s = Session::outgoing(now, cfg(1), Torrent::from_info(&info));
    assert_eq!(s.handle_input(now, b"H"), Err(SessionError::BadHandshake));
    let mut s = Session::outgoing(now, cfg(1), Torrent::from_info(&info));
    s.handle_input(now, b"\x13BitTorrent").unwrap();
    assert_eq!(
        s.handle_input(now, b" protocoX"),
        Err(SessionError::BadHandshake)
    );
}

#[test]
fn input_before_accept_is_bounded() {
    let (info, _) = torrent(4, 16384);
    let now = std::time::Instant::now();
    let mut s = Session::incoming(now, cfg(2));
    let mut bytes = peer_handshake(info.info_hash, reserved::ours());
    bytes.extend(wire(&[Message::Interested]));
    s.handle_input(now, &bytes).unwrap();
    let junk = vec![0u8; crate::wire::DEFAULT_MAX_MESSAGE as usize + 4];
    assert!(matches!(
        s.handle_input(now, &junk),
        Err(SessionError::InputBeforeAccept(_))
    ));
    // Accepted in time, the message behind the handshake is decoded at accept.
    let mut s = Session::incoming(now, cfg(2));
    s.handle_input(now, &bytes).unwrap();
    drain(&mut s);
    s.accept(now, Torrent::from_info(&info)).unwrap();
    assert!(drain(&mut s).contains(&Event::Interested));
}

#[test]
fn fast_messages_without_bep6_end_the_session() {
    let (info, _) = torrent(4, 16384);
    let now = std::time::Instant::now();
    let mut s = Session::outgoing(now, cfg(1), Torrent::from_info(&info));
    s.handle_input(now, &peer_handshake(info.info_hash, [0; 8]))
        .unwrap();
    assert_eq!(
        s.handle_input(now, &wire(&[Message::HaveAll])),
        Err(SessionError::FastNotNegotiated(0x0E))
    );
}

#[test]
fn the_output_buffer_is_bounded() {
    let (info, payload) = torrent(200, BLOCK_SIZE as usize);
    let (mut s, now) = seed_dialled_by_hostile(&info);
    let reqs: Vec<Message> = (0..200)
        .map(|i| Message::Request {
            index: i,
            begin: 0,
            length: BLOCK_SIZE,
        })
        .collect();
    s.handle_input(now, &wire(&reqs)).unwrap();
    let pending: Vec<BlockRef> = s.pending_requests().copied().collect();
    let mut full = None;
    for r in pending {
        let at = r.index as usize * BLOCK_SIZE as usize;
        match s.send_piece(r.index, 0, &payload[at..at + BLOCK_SIZE as usize]) {
            Ok(()) => {}
            Err(e) => {
                full = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(full, Some(crate::CommandError::OutputFull(_))),
        "{full:?}"
    );
    assert!(s.pending_output() <= s.config().limits.max_output);
    assert!(!s.wants_read(), "a full buffer stops the reading");
    let written = s.poll_transmit().unwrap().len();
    assert!(written > 60 * BLOCK_SIZE as usize);
    assert!(s.wants_read());
}

#[test]
fn unknown_messages_and_extensions_are_counted() {
    let (info, _) = torrent(4, 16384);
    let (mut s, now) = dialled(Torrent::from_info(&info), cfg(1));
    let msgs = [
        Message::Unknown {
            id: 99,
            payload: vec![1, 2, 3],
        },
        Message::Extended {
            id: 77,
            payload: b"de".to_vec(),
        },
        Message::Extended {
            id: 0,
            payload: b"not bencode".to_vec(),
        },
        Message::Extended {
            id: LOCAL_UT_PEX,
            payload: b"i3e".to_vec(),
        },
    ];
    s.handle_input(now, &wire(&msgs)).unwrap();
    let m = misbehaviours(&drain(&mut s));
    assert_eq!(m[0], Misbehaviour::UnknownMessage(99));
    assert_eq!(m[1], Misbehaviour::UnknownExtension(77));
    assert!(matches!(m[2], Misbehaviour::BadExtHandshake(_)));
    assert!(matches!(
        m[3],
        Misbehaviour::BadExtensionMessage {
            extension: "ut_pex",
            ..
        }
    ));
    assert_eq!(m[0].to_string(), "unknown message id 99");
    assert_eq!(m[1].to_string(), "extended message with unknown id 77");
    assert_eq!(s.stats().misbehaviours, 4);
    assert!(!s.is_closed());
    let _ = Bitfield::new(1);
}
