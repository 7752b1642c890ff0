use super::*;
use crate::LayoutLimits;

fn layout(pieces: u32, piece_len: u64) -> Layout {
    Layout::new(
        u64::from(pieces) * piece_len,
        piece_len,
        pieces as usize,
        &LayoutLimits::default(),
    )
    .unwrap()
}

fn all(_: u32) -> bool {
    true
}

/// Receives every block of `blocks` from `p`; returns the pieces completed.
fn receive(pk: &mut Picker<u8>, p: u8, blocks: &[Block]) -> Vec<u32> {
    let mut done = Vec::new();
    for b in blocks {
        if let Received::Accepted {
            piece_complete: true,
            ..
        } = pk.block_received(p, *b)
        {
            done.push(b.piece);
        }
    }
    done
}

#[test]
fn rarest_piece_first_and_started_pieces_before_new_ones() {
    let mut pk: Picker<u8> = Picker::new(layout(4, 32768), PickerConfig::default());
    for p in 1..=3 {
        pk.add_peer(p);
    }
    // Piece 2 only at peer 1; pieces 0, 1, 3 at everyone.
    pk.peer_has_all(1);
    for p in 2..=3 {
        for i in [0, 1, 3] {
            pk.peer_has(p, i);
        }
    }
    let first = pk.pick(1, 1, &all);
    assert_eq!(first[0].piece, 2, "the rarest piece goes first");
    // The next pick from peer 1 finishes piece 2 before starting another.
    let next = pk.pick(1, 1, &all);
    assert_eq!((next[0].piece, next[0].begin), (2, 16384));
    let b = pk.pick(1, 1, &all);
    assert_ne!(b[0].piece, 2);
}

#[test]
fn ties_are_broken_by_the_seed() {
    let order = |seed| {
        let mut pk: Picker<u8> = Picker::new(
            layout(64, 16384),
            PickerConfig {
                seed,
                ..Default::default()
            },
        );
        pk.add_peer(1);
        pk.peer_has_all(1);
        pk.pick(1, 8, &all)
            .iter()
            .map(|b| b.piece)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(7), order(7));
    assert_ne!(order(7), order(8));
}

#[test]
fn choked_peers_get_only_allowed_fast_pieces() {
    let mut pk: Picker<u8> = Picker::new(layout(8, 16384), PickerConfig::default());
    pk.add_peer(1);
    pk.peer_has_all(1);
    let picked = pk.pick(1, 8, &|i| i == 5);
    assert_eq!(picked.len(), 1);
    assert_eq!(picked[0].piece, 5);
}

#[test]
fn endgame_duplicates_the_last_blocks_and_names_what_to_cancel() {
    let mut pk: Picker<u8> = Picker::new(layout(2, 32768), PickerConfig::default());
    pk.add_peer(1);
    pk.add_peer(2);
    pk.peer_has_all(1);
    pk.peer_has_all(2);
    let a = pk.pick(1, 4, &all);
    assert_eq!(a.len(), 4, "every block now in flight at peer 1");
    assert!(pk.in_endgame());
    let b = pk.pick(2, 4, &all);
    assert_eq!(b.len(), 4, "endgame: the same blocks asked of peer 2");
    // A third peer may not add a third request (max_duplicates 2).
    pk.add_peer(3);
    pk.peer_has_all(3);
    assert!(pk.pick(3, 4, &all).is_empty());
    // Peer 2 answers first: peer 1's request is to be cancelled.
    match pk.block_received(2, b[0]) {
        Received::Accepted { cancel, .. } => assert_eq!(cancel, vec![(1, b[0])]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        pk.block_received(1, b[0]),
        Received::Unexpected,
        "cancelled"
    );
    assert_eq!(pk.in_flight(&1), 3);
    // Without endgame, peer 2 would get nothing.
    let mut no_eg: Picker<u8> = Picker::new(
        layout(1, 16384),
        PickerConfig {
            endgame: false,
            ..Default::default()
        },
    );
    no_eg.add_peer(1);
    no_eg.add_peer(2);
    no_eg.peer_has_all(1);
    no_eg.peer_has_all(2);
    assert_eq!(no_eg.pick(1, 4, &all).len(), 1);
    assert!(no_eg.pick(2, 4, &all).is_empty());
}

#[test]
fn a_failed_piece_goes_back_and_charges_its_senders_until_banned() {
    let mut pk: Picker<u8> = Picker::new(layout(3, 16384), PickerConfig::default());
    pk.add_peer(1);
    pk.add_peer(2);
    pk.peer_has_all(1);
    pk.peer_has_all(2);
    let b = pk.pick(1, 1, &all);
    assert_eq!(receive(&mut pk, 1, &b), vec![b[0].piece]);
    assert!(
        pk.piece_failed(b[0].piece).is_empty(),
        "one bad piece: not banned yet"
    );
    assert_eq!(pk.bad_pieces(&1), 1);
    assert!(!pk.have(b[0].piece));
    // The piece can be picked again (by the rarest-first order, from peer 2 too).
    let again = pk.pick(1, 3, &all);
    assert!(again.iter().any(|x| x.piece == b[0].piece));
    let done = receive(&mut pk, 1, &again);
    assert_eq!(
        pk.piece_failed(done[0]),
        vec![1],
        "second bad piece: banned"
    );
    assert!(pk.is_banned(&1));
    assert!(!pk.add_peer(1), "a banned peer is not added again");
    // The two other pieces peer 1 completed are hashed (and good); the failed one
    // is peer 2's to fetch.
    for &i in &done[1..] {
        assert!(pk.piece_verified(i));
    }
    let rest = pk.pick(2, 10, &all);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].piece, done[0]);
    for i in receive(&mut pk, 2, &rest) {
        assert!(pk.piece_verified(i));
    }
    assert!(pk.is_complete());
}

#[test]
fn failed_and_removed_requests_go_back_to_missing() {
    let mut pk: Picker<u8> = Picker::new(layout(1, 32768), PickerConfig::default());
    pk.add_peer(1);
    pk.add_peer(2);
    pk.peer_has_all(1);
    pk.peer_has_all(2);
    let b = pk.pick(1, 2, &all);
    assert!(pk.block_failed(1, b[0]));
    assert!(!pk.block_failed(1, b[0]), "only once");
    assert_eq!(pk.pick(2, 1, &all), vec![b[0]]);
    pk.remove_peer(1);
    assert_eq!(pk.pick(2, 1, &all), vec![b[1]]);
    assert_eq!(pk.orphans(), Vec::<u32>::new());
    pk.remove_peer(2);
    assert_eq!(pk.orphans(), vec![0]);
}

#[test]
fn lacking_a_piece_releases_its_requests_and_availability() {
    let mut pk: Picker<u8> = Picker::new(Layout::whole_pieces(2), PickerConfig::default());
    pk.add_peer(1);
    pk.peer_has_all(1);
    let b = pk.pick(1, 1, &all);
    assert_eq!((b[0].begin, b[0].length), (0, 0), "whole-piece requests");
    pk.peer_lacks(1, b[0].piece);
    assert_eq!(pk.in_flight(&1), 0);
    assert_eq!(pk.orphans(), vec![b[0].piece]);
    let next = pk.pick(1, 2, &all);
    assert_eq!(next.len(), 1);
    assert_ne!(next[0].piece, b[0].piece);
}

#[test]
fn a_piece_abandoned_before_any_block_is_rarest_first_again() {
    // Piece 0 held by 1 and 2, piece 1 by 1, 2 and 3: 0 is the rarer.
    let mut pk: Picker<u8> = Picker::new(Layout::whole_pieces(2), PickerConfig::default());
    for p in [1, 2, 3] {
        pk.add_peer(p);
    }
    pk.peer_has_all(1);
    pk.peer_has_all(2);
    pk.peer_has(3, 1);
    let b = pk.pick(1, 1, &all);
    assert_eq!(b[0].piece, 0);
    // Peer 1's request fails: peer 2 is given the rarer piece 0 first, not the
    // new piece 1 (piece 0 is no longer "started by peer 1").
    assert!(pk.block_failed(1, b[0]));
    let b2 = pk.pick(2, 1, &all);
    assert_eq!(b2[0].piece, 0);
}

#[test]
fn unexpected_blocks_are_refused_and_resumed_pieces_not_picked() {
    let mut pk: Picker<u8> = Picker::new(layout(2, 16384), PickerConfig::default());
    pk.add_peer(1);
    pk.peer_has_all(1);
    assert!(pk.set_have(0));
    assert!(pk.is_interesting(&1));
    let b = pk.pick(1, 4, &all);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].piece, 1);
    let bogus = Block {
        piece: 1,
        begin: 1,
        length: 16384,
    };
    assert_eq!(pk.block_received(1, bogus), Received::Unexpected);
    assert_eq!(pk.block_received(2, b[0]), Received::Unexpected);
    receive(&mut pk, 1, &b);
    assert!(pk.piece_verified(1));
    assert!(pk.is_complete());
    assert!(!pk.is_interesting(&1));
}

#[test]
fn peers_finish_their_own_pieces_and_new_pieces_stop_at_the_partial_limit() {
    let mut pk: Picker<u8> = Picker::new(layout(4, 32768), PickerConfig::default());
    pk.set_max_partial(2);
    for p in [1, 2] {
        pk.add_peer(p);
        pk.peer_has_all(p);
    }
    let a = pk.pick(1, 1, &all);
    let b = pk.pick(2, 1, &all);
    assert_ne!(a[0].piece, b[0].piece, "each peer starts its own piece");
    // Two pieces in progress: no third is started; peer 1 goes on with its own,
    // then with peer 2's.
    let more = pk.pick(1, 4, &all);
    assert_eq!(more.len(), 2);
    assert_eq!(more[0].piece, a[0].piece);
    assert_eq!(more[1].piece, b[0].piece);
    assert_eq!(pk.requests_of(&1).len(), 3);
}
