//! Two sessions wired back to back: each feature both ways.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::error::CommandError;
use crate::ext::pex_flags;
use crate::session::{BlockRef, PexSent};
use crate::wire::{Bitfield, BLOCK_SIZE};

fn block(index: u32, begin: u32, length: u32) -> BlockRef {
    BlockRef {
        index,
        begin,
        length,
    }
}

#[test]
fn handshakes_and_extension_handshakes_both_ways() {
    let (info, _) = torrent(4, 16384);
    let mut p = Pair::connect(
        Torrent::new(info.info_hash),
        Torrent::from_info(&info),
        cfg(1),
        cfg(2),
    );
    assert!(p.a.is_established() && p.b.is_established());
    assert!(p.a.is_outgoing() && !p.b.is_outgoing());
    assert!(p.a.fast() && p.a.dht());
    let ea = p.events_a();
    assert!(matches!(&ea[0], Event::Established(h) if h.peer_id == [2; 20]));
    let Event::ExtHandshake(h) = &ea[1] else {
        panic!("{ea:?}")
    };
    assert_eq!(h.metadata_size, Some(info.raw.len() as u64), "b has it");
    assert_eq!(h.reqq, Some(250));
    assert!(h.v.as_deref().unwrap().starts_with("swarmlab/"));
    assert!(h.id_of("ut_pex").is_some() && h.id_of("ut_metadata").is_some());
    let eb = p.events_b();
    assert!(matches!(&eb[0], Event::Established(h) if h.peer_id == [1; 20]));
    let Event::ExtHandshake(h) = &eb[1] else {
        panic!("{eb:?}")
    };
    assert_eq!(h.metadata_size, None, "a has no metadata");
    assert_eq!(p.b.torrent().unwrap().info_hash, info.info_hash);
    assert_eq!(p.a.stats().misbehaviours + p.b.stats().misbehaviours, 0);
}

#[test]
fn an_incoming_session_names_its_torrent_and_the_driver_decides() {
    let (info, _) = torrent(4, 16384);
    let (other, _) = torrent(5, 16384);
    let now = std::time::Instant::now();
    // The driver of a listener that serves `info` only.
    let mut b = Session::incoming(now, cfg(2));
    let mut a = Session::outgoing(now, cfg(1), Torrent::from_info(&other));
    b.handle_input(now, &a.poll_transmit().unwrap()).unwrap();
    let Some(Event::HandshakeReceived(h)) = b.poll_event() else {
        panic!()
    };
    assert_eq!(h.info_hash, other.info_hash);
    assert!(!b.wants_read(), "no input while the driver decides");
    assert_eq!(
        b.accept(now, Torrent::from_info(&info)),
        Err(CommandError::WrongTorrent)
    );
    b.refuse().unwrap();
    assert_eq!(b.error(), Some(&SessionError::Refused(other.info_hash)));
    assert!(b.poll_transmit().is_none(), "a refusal sends nothing");
    assert_eq!(b.refuse(), Err(CommandError::Closed));
    // The dialler gives up at its handshake timeout.
    let at = a.poll_timeout().unwrap();
    assert_eq!(at - now, Duration::from_secs(10));
    assert_eq!(
        a.handle_timeout(at),
        Err(SessionError::HandshakeTimeout(Duration::from_secs(10)))
    );
}

#[test]
fn blocks_flow_once_unchoked_and_only_as_requested() {
    let (info, payload) = torrent(4, 2 * BLOCK_SIZE as usize);
    let mut p = Pair::with(&info);
    p.events_a();
    p.events_b();
    p.b.send_have_all().unwrap();
    assert_eq!(
        p.a.request(block(0, 0, BLOCK_SIZE)),
        Err(CommandError::Choked)
    );
    p.a.interested().unwrap();
    p.pump();
    assert_eq!(p.events_a(), vec![Event::HaveAll]);
    assert_eq!(p.events_b(), vec![Event::Interested]);
    assert!(p.b.peer_interested());
    p.b.unchoke().unwrap();
    p.pump();
    assert_eq!(p.events_a(), vec![Event::Unchoke]);
    let wanted = [
        block(0, 0, BLOCK_SIZE),
        block(0, BLOCK_SIZE, BLOCK_SIZE),
        block(3, 0, 100),
    ];
    for r in wanted {
        p.a.request(r).unwrap();
    }
    p.a.request(wanted[0]).unwrap(); // again: nothing more is sent
    assert_eq!(p.a.requests_in_flight(), 3);
    p.pump();
    let reqs = p.events_b();
    assert_eq!(
        reqs,
        wanted
            .iter()
            .map(|r| Event::Request(*r))
            .collect::<Vec<_>>()
    );
    for r in wanted {
        let at = r.index as usize * info.piece_length as usize + r.begin as usize;
        p.b.send_piece(r.index, r.begin, &payload[at..at + r.length as usize])
            .unwrap();
    }
    assert!(matches!(
        p.b.send_piece(1, 0, &[0; 10]),
        Err(CommandError::NotRequested { .. })
    ));
    p.pump();
    let blocks = p.events_a();
    assert_eq!(blocks.len(), 3);
    for (e, r) in blocks.iter().zip(wanted) {
        let Event::Block { index, begin, data } = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (*index, *begin, data.len() as u32),
            (r.index, r.begin, r.length)
        );
        let at = r.index as usize * info.piece_length as usize + r.begin as usize;
        assert_eq!(&data[..], &payload[at..at + r.length as usize]);
    }
    assert_eq!(p.a.requests_in_flight(), 0);
    assert_eq!((p.a.stats().blocks_in, p.b.stats().blocks_out), (3, 3));
    // Out of range, oversized, zero-length: refused before sending.
    for r in [
        block(4, 0, 1),
        block(3, 0, 20_000),
        block(0, 0, BLOCK_SIZE + 1),
        block(0, 0, 0),
    ] {
        assert!(
            matches!(p.a.request(r), Err(CommandError::OutOfRange { .. })),
            "{r:?}"
        );
    }
}

#[test]
fn cancel_reject_and_choke_end_requests() {
    let (info, _) = torrent(8, BLOCK_SIZE as usize);
    let mut p = Pair::with(&info);
    p.b.send_have_all().unwrap();
    p.b.unchoke().unwrap();
    p.pump();
    p.events_a();
    p.events_b();
    for i in 0..4 {
        p.a.request(block(i, 0, 1000)).unwrap();
    }
    p.pump();
    assert_eq!(p.events_b().len(), 4);
    // Cancel: b is told, and the block can no longer be sent.
    p.a.cancel(block(0, 0, 1000)).unwrap();
    assert!(p.a.cancel(block(0, 0, 1000)).is_err());
    p.pump();
    assert_eq!(p.events_b(), vec![Event::Cancel(block(0, 0, 1000))]);
    assert!(p.b.send_piece(0, 0, &[0; 1000]).is_err());
    // Reject (BEP 6).
    p.b.reject(block(1, 0, 1000)).unwrap();
    p.pump();
    assert_eq!(p.events_a(), vec![Event::Rejected(block(1, 0, 1000))]);
    // Choke with BEP 6: every pending request is rejected, the choke drops none.
    p.b.choke().unwrap();
    assert_eq!(p.b.pending_requests().count(), 0);
    p.pump();
    assert_eq!(
        p.events_a(),
        vec![
            Event::Choke { dropped: 0 },
            Event::Rejected(block(2, 0, 1000)),
            Event::Rejected(block(3, 0, 1000)),
        ]
    );
    assert_eq!(p.a.requests_in_flight(), 0);
}

#[test]
fn without_bep6_a_choke_discards_requests() {
    let (info, _) = torrent(8, BLOCK_SIZE as usize);
    let mut plain = cfg(2);
    plain.reserved = [0; 8];
    let mut p = Pair::connect(
        Torrent::from_info(&info),
        Torrent::from_info(&info),
        cfg(1),
        plain,
    );
    assert!(!p.a.fast() && !p.a.dht());
    assert_eq!(
        p.b.send_have_all(),
        Err(CommandError::Unsupported("the fast extension (BEP 6)"))
    );
    p.b.send_bitfield(&Bitfield::full(8)).unwrap();
    p.b.unchoke().unwrap();
    p.pump();
    p.events_a();
    for i in 0..3 {
        p.a.request(block(i, 0, 1000)).unwrap();
    }
    p.pump();
    p.events_b();
    p.b.choke().unwrap();
    p.pump();
    assert_eq!(p.events_a(), vec![Event::Choke { dropped: 3 }]);
    assert_eq!(p.a.requests_in_flight(), 0);
    assert_eq!(p.b.pending_requests().count(), 0);
    assert_eq!(p.b.stats().rejects_sent, 0, "no BEP 6, no reject");
    // Without the extension protocol bit on b, no extension handshake either way.
    assert!(p.a.peer_extensions().is_none());
}

#[test]
fn allowed_fast_pieces_are_served_while_choked() {
    let (info, _) = torrent(8, BLOCK_SIZE as usize);
    let mut p = Pair::with(&info);
    p.b.send_have_all().unwrap();
    p.b.allow_fast(2).unwrap();
    p.pump();
    p.events_b();
    assert_eq!(p.events_a()[2..], [Event::HaveAll, Event::AllowedFast(2)]);
    assert_eq!(p.a.request(block(3, 0, 100)), Err(CommandError::Choked));
    p.a.request(block(2, 0, 100)).unwrap();
    p.pump();
    assert_eq!(p.events_b(), vec![Event::Request(block(2, 0, 100))]);
    // Our choke leaves requests in allowed-fast pieces pending.
    p.b.unchoke().unwrap();
    p.b.choke().unwrap();
    assert_eq!(p.b.pending_requests().count(), 1);
    p.b.send_piece(2, 0, &[7; 100]).unwrap();
    p.pump();
    assert!(p
        .events_a()
        .iter()
        .any(|e| matches!(e, Event::Block { index: 2, .. })));
}

#[test]
fn bitfields_and_haves_both_ways() {
    let (info, _) = torrent(10, 1000);
    let mut p = Pair::with(&info);
    p.events_a();
    p.events_b();
    let mut bits = Bitfield::new(10);
    bits.set(0);
    bits.set(9);
    assert_eq!(
        p.b.send_bitfield(&Bitfield::new(11)),
        Err(CommandError::BitfieldLength { got: 11, want: 10 })
    );
    p.b.send_bitfield(&bits).unwrap();
    assert_eq!(
        p.b.send_bitfield(&bits),
        Err(CommandError::AlreadyAnnounced)
    );
    assert_eq!(p.b.send_have_none(), Err(CommandError::AlreadyAnnounced));
    p.b.send_have(4).unwrap();
    assert!(matches!(
        p.b.send_have(10),
        Err(CommandError::OutOfRange { .. })
    ));
    assert!(p.b.have_piece(4) && p.b.have_piece(9) && !p.b.have_piece(5));
    p.pump();
    assert_eq!(
        p.events_a(),
        vec![Event::Bitfield(bits.as_bytes().to_vec()), Event::Have(4)]
    );
    // Requests for a piece b does not have are refused (and rejected under BEP 6).
    p.b.unchoke().unwrap();
    p.pump();
    p.a.request(block(5, 0, 10)).unwrap();
    p.a.request(block(4, 0, 10)).unwrap();
    p.pump();
    assert_eq!(
        p.events_b(),
        vec![
            Event::Misbehaviour(crate::session::Misbehaviour::RequestForMissingPiece(block(
                5, 0, 10
            ))),
            Event::Request(block(4, 0, 10)),
        ]
    );
    assert!(p.events_a().contains(&Event::Rejected(block(5, 0, 10))));
}

#[test]
fn metadata_is_fetched_from_a_peer_that_has_it() {
    // 1,000 pieces: an info dictionary of two ut_metadata pieces.
    let (info, _) = torrent(1000, 16384);
    assert!(info.raw.len() > 16384);
    let mut p = Pair::connect(
        Torrent::new(info.info_hash),
        Torrent::from_info(&info),
        cfg(1),
        cfg(2),
    );
    p.events_a();
    assert_eq!(
        p.b.request_metadata(),
        Err(CommandError::NoMetadata),
        "a has none"
    );
    assert_eq!(p.a.request_metadata(), Ok(2));
    assert!(p.a.fetching_metadata());
    assert_eq!(
        p.a.request_metadata(),
        Err(CommandError::NoMetadata),
        "one at a time"
    );
    p.pump();
    assert_eq!(p.events_a(), vec![Event::Metadata(info.raw.clone())]);
    assert!(!p.a.fetching_metadata());
    assert_eq!(p.b.stats().metadata_served, 2);
    // Now a knows the torrent and says so.
    p.a.set_torrent(Torrent::from_info(&info)).unwrap();
    let (other, _) = torrent(3, 100);
    assert_eq!(
        p.a.set_torrent(Torrent::from_info(&other)),
        Err(CommandError::WrongTorrent)
    );
}

#[test]
fn a_peer_without_metadata_rejects_and_the_fetch_ends() {
    let (info, _) = torrent(4, 16384);
    // Neither side has the info dictionary.
    let mut p = Pair::connect(
        Torrent::new(info.info_hash),
        Torrent::new(info.info_hash),
        cfg(1),
        cfg(2),
    );
    p.events_a();
    assert_eq!(p.a.request_metadata(), Err(CommandError::NoMetadata));
    // As if b announced a size it cannot serve (a second extension handshake, fed
    // to a directly).
    let mut h = crate::ext::ExtHandshake::ours("Liar/1", Some(info.raw.len() as u64));
    h.m.insert("ut_metadata".into(), crate::ext::LOCAL_UT_METADATA);
    p.a.handle_input(
        p.now,
        &wire(&[Message::Extended {
            id: 0,
            payload: h.encode(),
        }]),
    )
    .unwrap();
    p.events_a();
    assert_eq!(p.a.request_metadata(), Ok(1));
    p.pump();
    assert_eq!(p.events_a(), vec![Event::MetadataRejected(0)]);
    assert!(!p.a.fetching_metadata());
    assert_eq!(p.b.stats().metadata_rejected, 1);
}

#[test]
fn pex_both_ways_with_bep11_limits() {
    let (info, _) = torrent(4, 16384);
    let mut p = Pair::with(&info);
    p.events_b();
    let peers: Vec<(SocketAddr, u8)> = (0..60u8)
        .map(|i| (SocketAddr::from(([127, 9, 0, i], 6881)), pex_flags::SEED))
        .collect();
    let gone: Vec<SocketAddr> = (0..70u8)
        .map(|i| SocketAddr::from(([127, 8, 0, i], 1)))
        .collect();
    assert_eq!(
        p.a.send_pex(p.now, &peers, &gone),
        Ok(PexSent {
            added: 50,
            dropped: 50
        })
    );
    assert!(matches!(
        p.a.send_pex(p.now + Duration::from_secs(59), &peers, &[]),
        Err(CommandError::PexTooSoon(_))
    ));
    p.pump();
    let Event::Pex(m) = &p.events_b()[0] else {
        panic!()
    };
    assert_eq!(m.added.len(), 50);
    assert_eq!(
        m.added[..],
        peers[..50].iter().map(|p| p.0).collect::<Vec<_>>()[..]
    );
    assert_eq!(m.added_flags, vec![pex_flags::SEED; 50]);
    assert_eq!(m.dropped.len(), 50);
    p.advance(Duration::from_secs(60));
    assert!(p.a.send_pex(p.now, &peers[..1], &[]).is_ok());
    p.pump();
    assert_eq!(p.events_b().len(), 1);
    assert_eq!(p.b.stats().pex_received, 2);
}

#[test]
fn port_messages_need_the_dht_bit() {
    let (info, _) = torrent(4, 16384);
    let mut p = Pair::with(&info);
    p.events_b();
    p.a.send_port(6881).unwrap();
    p.pump();
    assert_eq!(p.events_b(), vec![Event::DhtPort(6881)]);
    let mut no_dht = cfg(1);
    no_dht.reserved = crate::wire::reserved::ours();
    no_dht.reserved[7] &= !0x01;
    let mut q = Pair::connect(
        Torrent::from_info(&info),
        Torrent::from_info(&info),
        no_dht,
        cfg(2),
    );
    assert_eq!(
        q.a.send_port(1),
        Err(CommandError::Unsupported("the DHT (BEP 5)"))
    );
    q.events_a();
}

#[test]
fn keepalives_when_silent_and_the_idle_timeout() {
    let (info, _) = torrent(4, 16384);
    let mut p = Pair::with(&info);
    let start = p.now;
    assert_eq!(p.a.poll_timeout(), Some(start + Duration::from_secs(60)));
    p.advance(Duration::from_secs(60));
    p.a.handle_timeout(p.now).unwrap();
    assert_eq!(p.a.poll_transmit(), Some(vec![0, 0, 0, 0]));
    assert_eq!(p.a.stats().keepalives_sent, 1);
    // b heard nothing for 120 s (a's keep-alive was never delivered).
    p.advance(Duration::from_secs(60));
    assert_eq!(
        p.b.poll_timeout(),
        Some(start + Duration::from_secs(60)),
        "its own keep-alive first"
    );
    p.b.handle_timeout(p.now).expect_err("silent for 120 s");
    assert_eq!(
        p.b.error(),
        Some(&SessionError::IdleTimeout(Duration::from_secs(120)))
    );
    assert!(p.b.is_closed() && p.b.poll_timeout().is_none());
    assert_eq!(p.b.interested(), Err(CommandError::Closed));
}
