//! Nodes wired to each other in memory (`Net`), and hostile messages fed to one.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;

use super::*;
use crate::announce::Announce;
use crate::error::WireError;
use crate::wire::{encode_piece, Message};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

fn cfg() -> NodeConfig {
    NodeConfig {
        piece_size: 100,
        window: 16,
        ..NodeConfig::default()
    }
}

/// Node 0 is the source; peer keys are node indexes.
struct Net {
    nodes: Vec<Node>,
    links: BTreeSet<(usize, usize)>,
    now: Instant,
    out: Vec<Vec<u8>>,
}

impl Net {
    fn new(viewers: usize, cfg: NodeConfig) -> Net {
        let id = StreamId::new(key().verifying_key());
        let mut nodes = vec![Node::source(key(), cfg.clone())];
        nodes.extend((0..viewers).map(|_| Node::viewer(id, cfg.clone())));
        Net {
            out: vec![Vec::new(); viewers + 1],
            nodes,
            links: BTreeSet::new(),
            now: Instant::now(),
        }
    }

    fn link(&mut self, a: usize, b: usize) {
        self.links.insert((a.min(b), a.max(b)));
        let now = self.now;
        self.nodes[a].add_peer(now, b as u64, b == 0);
        self.nodes[b].add_peer(now, a as u64, a == 0);
    }

    /// Deliver every message and write every output until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some((to, m)) = self.nodes[i].poll_transmit() {
                    moved = true;
                    let to = to as usize;
                    if self.links.contains(&(i.min(to), i.max(to))) {
                        self.nodes[to]
                            .handle_message(self.now, i as u64, &m)
                            .unwrap();
                    }
                }
                while let Some(d) = self.nodes[i].poll_output(self.now) {
                    moved = true;
                    self.out[i].extend_from_slice(&d);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Jump to the earliest timeout of any node and handle it.
    fn tick(&mut self) {
        if let Some(t) = self.nodes.iter().filter_map(|n| n.poll_timeout()).min() {
            self.now = self.now.max(t);
        }
        let now = self.now;
        for n in &mut self.nodes {
            n.handle_timeout(now);
        }
        self.pump();
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_stream_reaches_every_viewer_identical_and_mostly_from_other_viewers() {
    let mut net = Net::new(6, cfg());
    for v in 1..=3 {
        net.link(0, v);
    }
    // 4, 5, 6 know only other viewers.
    net.link(4, 1);
    net.link(4, 2);
    net.link(5, 4);
    net.link(6, 5);
    net.link(6, 3);
    net.link(1, 2);
    net.link(2, 3);
    let data = payload(5_050);
    for chunk in data.chunks(333) {
        let now = net.now;
        net.nodes[0].push_input(now, chunk);
        net.pump();
    }
    let now = net.now;
    net.nodes[0].finish_input(now);
    net.pump();
    for _ in 0..20 {
        net.tick();
    }
    for v in 1..=6 {
        assert!(net.out[v] == data, "viewer {v}: {} bytes", net.out[v].len());
        assert_eq!(net.nodes[v].stats().pieces_skipped, 0);
        assert!(net.nodes[v].is_done(net.now), "viewer {v} done");
    }
    assert!(net.nodes[0].is_done(net.now));
    let pieces = net.nodes[0].stats().pieces_made;
    assert_eq!(pieces, 51, "50 full pieces and a short last one");
    let seed = net.nodes[0].stats().piece_bytes_uploaded;
    let all: u64 = net
        .nodes
        .iter()
        .map(|n| n.stats().piece_bytes_uploaded)
        .sum();
    // Six viewers, each piece pushed to two: the source uploaded a third.
    assert_eq!(seed, 2 * data.len() as u64);
    assert_eq!(all, 6 * data.len() as u64);
}

#[test]
fn a_viewer_whose_only_peer_is_the_source_asks_it_at_once() {
    let mut c = cfg();
    c.fanout = 0;
    let mut net = Net::new(1, c);
    net.link(0, 1);
    let now = net.now;
    net.nodes[0].push_input(now, &payload(100));
    net.pump();
    assert_eq!(net.out[1], payload(100), "no grace without other peers");
}

#[test]
fn the_source_is_asked_only_after_the_grace() {
    let mut c = cfg();
    c.fanout = 0;
    let mut net = Net::new(2, c.clone());
    net.link(0, 1);
    net.link(1, 2);
    let now = net.now;
    net.nodes[0].push_input(now, &payload(100));
    net.pump();
    assert!(net.out[1].is_empty(), "viewer 2 might have it soon");
    assert_eq!(net.nodes[1].poll_timeout(), Some(now + c.source_grace));
    net.tick();
    assert_eq!(net.out[1], payload(100));
    assert_eq!(net.out[2], payload(100), "and viewer 2 from viewer 1");
    assert_eq!(net.nodes[0].stats().pieces_uploaded, 1);
}

#[test]
fn a_late_viewer_starts_half_a_window_behind_the_newest() {
    let mut net = Net::new(2, cfg());
    net.link(0, 1);
    let data = payload(3_000);
    let now = net.now;
    for chunk in data.chunks(100) {
        net.nodes[0].push_input(now, chunk);
        net.pump();
    }
    // 30 pieces made, the window keeps 16 (14 to 29), a full window: the late
    // viewer starts half a window behind the newest, at 21.
    net.link(0, 2);
    net.pump();
    net.tick();
    assert!(net.out[1] == data);
    assert!(net.out[2] == data[21 * 100..], "{} bytes", net.out[2].len());
    assert_eq!(net.nodes[2].stats().pieces_skipped, 0);
}

#[test]
fn a_viewer_that_falls_behind_skips_with_a_counted_gap() {
    let mut net = Net::new(1, cfg());
    net.link(0, 1);
    let now = net.now;
    net.nodes[0].push_input(now, &payload(100));
    net.pump();
    assert_eq!(net.out[1].len(), 100);
    // The viewer's output stalls (nobody polls it) while 40 pieces pass.
    for i in 1..=40u64 {
        let d = payload(100);
        net.nodes[0].push_input(now, &d);
        while let Some((to, m)) = net.nodes[0].poll_transmit() {
            assert_eq!(to, 1);
            net.nodes[1].handle_message(now, 0, &m).unwrap();
        }
        while let Some((_, m)) = net.nodes[1].poll_transmit() {
            net.nodes[0].handle_message(now, 1, &m).unwrap();
        }
        let _ = i;
    }
    while let Some((_, m)) = net.nodes[0].poll_transmit() {
        net.nodes[1].handle_message(now, 0, &m).unwrap();
    }
    let mut out = Vec::new();
    while let Some(d) = net.nodes[1].poll_output(now) {
        out.push(d);
    }
    let v = &net.nodes[1];
    assert_eq!(out.len(), 16, "the window's pieces");
    assert_eq!(v.stats().pieces_skipped, 40 - 16);
    let mut n = net.nodes.pop().unwrap();
    assert_eq!(n.poll_event(), Some(NodeEvent::Gap { from: 1, to: 25 }));
    assert!(n.window().held().count() <= 16, "memory bounded");
}

/// A viewer with one peer, 7, that we play as a hostile peer; the honest source's
/// announcement of piece 0 already arrived.
fn victim() -> (Node, Instant, Announce, Vec<u8>) {
    let now = Instant::now();
    let id = StreamId::new(key().verifying_key());
    let mut v = Node::viewer(id, cfg());
    v.add_peer(now, 7, false);
    let data = payload(100);
    let a = Announce::sign(&key(), 0, &data, false);
    v.handle_message(now, 7, &Message::Announce(a).encode())
        .unwrap();
    (v, now, a, data)
}

#[test]
fn a_forged_signature_drops_the_peer() {
    let (mut v, now, _, _) = victim();
    let liar = SigningKey::from_bytes(&[66; 32]);
    let forged = Announce::sign(&liar, 1, b"evil", false);
    assert_eq!(
        v.handle_message(now, 7, &Message::Announce(forged).encode()),
        Err(Hostile::BadSignature(1))
    );
    assert_eq!(v.stats().hostile.bad_signature, 1);
    assert_eq!(v.peer_count(), 0, "forgotten");
    assert!(v.window().get(1).is_none(), "nothing kept");
    // A piece under a forged announcement is refused the same way.
    v.add_peer(now, 8, false);
    assert_eq!(
        v.handle_message(now, 8, &Message::Piece(forged, b"evil".to_vec()).encode()),
        Err(Hostile::BadSignature(1))
    );
}

#[test]
fn wrong_piece_data_drops_the_peer_and_the_piece_comes_from_another() {
    let (mut v, now, a, data) = victim();
    let _ = v.poll_transmit(); // the request to 7
    let mut bad = data.clone();
    bad[0] ^= 1;
    assert_eq!(
        v.handle_message(now, 7, &encode_piece(&a, &bad)),
        Err(Hostile::WrongData(0))
    );
    assert_eq!(v.stats().hostile.wrong_data, 1);
    assert!(v.window().data(0).is_none());
    assert!(v.poll_output(now).is_none());
    // An honest peer has it.
    v.add_peer(now, 8, false);
    v.handle_message(now, 8, &Message::Announce(a).encode())
        .unwrap();
    assert_eq!(v.poll_transmit(), Some((8, Message::Request(0).encode())));
    v.handle_message(now, 8, &encode_piece(&a, &data)).unwrap();
    assert_eq!(v.poll_output(now).as_deref(), Some(&data[..]));
}

#[test]
fn absurd_numbers_drop_the_peer_before_any_signature_check() {
    for msg in [
        Message::Announce(Announce {
            number: u64::MAX,
            ..Announce::sign(&key(), 0, b"x", false)
        }),
        Message::Announce(Announce {
            number: MAX_AHEAD + 1,
            signature: [0; 64],
            ..Announce::sign(&key(), 0, b"x", false)
        }),
        Message::Request(1),
        Message::Request(u64::MAX),
    ] {
        let (mut v, now, _, _) = victim();
        let err = v.handle_message(now, 7, &msg.encode()).unwrap_err();
        assert!(matches!(err, Hostile::AbsurdNumber(_)), "{msg:?}: {err}");
        assert_eq!(v.stats().hostile.absurd_number, 1);
        assert_eq!(v.peer_count(), 0);
    }
}

#[test]
fn malformed_and_oversized_messages_drop_the_peer() {
    let (mut v, now, a, _) = victim();
    assert_eq!(
        v.handle_message(now, 7, &[42]),
        Err(Hostile::Malformed(WireError::UnknownType(42)))
    );
    v.add_peer(now, 8, false);
    let huge = Announce {
        length: crate::MAX_PIECE_SIZE as u32 + 1,
        ..a
    };
    let mut msg = Message::Announce(huge).encode();
    msg[0] = 2; // a piece header claiming 1 MiB + 1
    msg.resize(msg.len() + crate::MAX_PIECE_SIZE + 1, 0);
    assert!(matches!(
        v.handle_message(now, 8, &msg),
        Err(Hostile::Malformed(WireError::PieceLength(_)))
    ));
    assert_eq!(v.stats().hostile.malformed, 2);
}

#[test]
fn repeated_requests_for_one_piece_drop_the_peer() {
    let mut net = Net::new(1, cfg());
    net.link(0, 1);
    let now = net.now;
    net.nodes[0].push_input(now, &payload(100));
    net.pump();
    let src = &mut net.nodes[0];
    for _ in 0..MAX_SERVES_PER_PIECE {
        src.handle_message(now, 1, &Message::Request(0).encode())
            .unwrap();
    }
    assert_eq!(
        src.handle_message(now, 1, &Message::Request(0).encode()),
        Err(Hostile::RepeatedRequest(0))
    );
}

#[test]
fn a_short_piece_is_flushed_after_the_linger() {
    let mut net = Net::new(1, cfg());
    net.link(0, 1);
    let now = net.now;
    net.nodes[0].push_input(now, b"tiny");
    net.pump();
    assert!(net.out[1].is_empty());
    assert_eq!(net.nodes[0].poll_timeout(), Some(now + cfg().flush_after));
    net.tick();
    assert_eq!(net.out[1], b"tiny");
    let _ = Duration::ZERO;
}
