//! The lookup state machine on hand-made answers.

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::Id;

use super::*;

fn addr(i: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 6881))
}

fn id(b: u8) -> Id {
    let mut x = [0u8; 20];
    x[0] = b;
    Id(x)
}

#[test]
fn queries_alpha_closest_then_finishes_when_k_closest_answered() {
    let t0 = Instant::now();
    let ours = id(0xff);
    let mut l = Lookup::new(LookupId(1), LookupKind::FindNode, id(0), t0, 2, 2);
    for b in [8u8, 4, 2, 1] {
        l.add_candidate(Some(id(b)), addr(b as u16), 1, &ours);
    }
    let p = l.plan();
    assert_eq!(
        p.iter().map(|p| p.addr).collect::<Vec<_>>(),
        [addr(1), addr(2)]
    );
    l.sent(&p[0], 10, t0);
    l.sent(&p[1], 11, t0);
    assert!(l.plan().is_empty()); // both slots busy
                                  // Node 1 answers and names a closer node: it is queried next.
    assert!(l.on_response(
        10,
        t0,
        id(1),
        &[(id(0x01 ^ 0x01), addr(99))],
        &[],
        None,
        &ours
    ));
    let p = l.plan();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].addr, addr(99));
    l.sent(&p[0], 12, t0);
    // Node 2 times out: node 4 is now among the 2 closest non-failed... but
    // node 99 (distance 0) and node 1 are the 2 closest; once 99 answers, done.
    assert!(l.on_failure(11, Outcome::TimedOut));
    assert!(l.plan().is_empty());
    assert!(l.on_response(12, t0, id(0), &[], &[], None, &ours));
    assert!(l.plan().is_empty());
    assert!(l.is_finished());
    let r = l.result(t0);
    assert_eq!(
        r.closest.iter().map(|c| c.1).collect::<Vec<_>>(),
        [addr(99), addr(1)]
    );
    assert_eq!(r.messages, 3);
    assert_eq!(r.timeouts, 1);
    assert_eq!(r.hops, 2);
}

#[test]
fn slow_requests_release_their_slot() {
    let t0 = Instant::now();
    let ours = id(0xff);
    let mut l = Lookup::new(LookupId(1), LookupKind::FindNode, id(0), t0, 8, 1);
    l.add_candidate(Some(id(1)), addr(1), 1, &ours);
    l.add_candidate(Some(id(2)), addr(2), 1, &ours);
    let p = l.plan();
    assert_eq!(p.len(), 1);
    l.sent(&p[0], 1, t0);
    assert!(l.plan().is_empty());
    l.on_slow(1);
    let p = l.plan();
    assert_eq!(p[0].addr, addr(2));
    // The slow one may still answer.
    assert!(l.on_response(1, t0, id(1), &[], &[], None, &ours));
}

#[test]
fn announce_goes_to_the_closest_with_tokens() {
    let t0 = Instant::now();
    let ours = id(0xff);
    let mut l = Lookup::new(
        LookupId(1),
        LookupKind::Announce { port: Some(1) },
        id(0),
        t0,
        8,
        3,
    );
    for b in 1..=3u8 {
        l.add_candidate(Some(id(b)), addr(b as u16), 1, &ours);
    }
    let p = l.plan();
    for (i, q) in p.iter().enumerate() {
        l.sent(q, i as u32, t0);
    }
    l.on_response(0, t0, id(1), &[], &[addr(500)], Some(b"tok"), &ours);
    l.on_response(1, t0, id(2), &[], &[addr(500), addr(501)], None, &ours);
    l.on_response(2, t0, id(3), &[], &[], Some(b"t3"), &ours);
    let p = l.plan();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].announce_token.as_deref(), Some(&b"tok"[..]));
    l.sent(&p[0], 7, t0);
    l.sent(&p[1], 8, t0);
    assert!(!l.is_finished());
    l.on_response(7, t0, id(1), &[], &[], None, &ours);
    l.on_failure(8, Outcome::TimedOut);
    assert!(l.plan().is_empty());
    assert!(l.is_finished());
    let r = l.result(t0);
    assert_eq!(r.announced, 1);
    assert_eq!(r.peers, vec![addr(500), addr(501)]);
    assert_eq!(
        r.trace
            .iter()
            .filter(|t| t.method == "announce_peer")
            .count(),
        2
    );
}

/// The node's outgoing cap may stop a lookup's store requests part way: the ones not
/// sent are planned again (at the cap's retry time), never dropped.
#[test]
fn store_requests_the_cap_stopped_are_planned_again() {
    let t0 = Instant::now();
    let ours = id(0xff);
    let mut l = Lookup::new(
        LookupId(1),
        LookupKind::Announce { port: Some(1) },
        id(0),
        t0,
        8,
        8,
    );
    for b in 1..=6u8 {
        l.add_candidate(Some(id(b)), addr(b as u16), 1, &ours);
    }
    let p = l.plan();
    assert_eq!(p.len(), 6);
    for (i, q) in p.iter().enumerate() {
        l.sent(q, i as u32, t0);
    }
    for b in 1..=6u8 {
        l.on_response(u32::from(b) - 1, t0, id(b), &[], &[], Some(b"tok"), &ours);
    }
    let p = l.plan();
    assert_eq!(p.len(), 6, "one store request per node that gave a token");
    // The cap lets two go out.
    l.sent(&p[0], 10, t0);
    l.sent(&p[1], 11, t0);
    let again = l.plan();
    assert_eq!(
        again.iter().map(|q| q.addr).collect::<Vec<_>>(),
        p[2..].iter().map(|q| q.addr).collect::<Vec<_>>(),
        "the four not sent are planned again, the two sent are not"
    );
    for (i, q) in again.iter().enumerate() {
        l.sent(q, 12 + i as u32, t0);
    }
    assert!(l.plan().is_empty());
    for tid in 10..16 {
        assert!(!l.is_finished());
        l.on_response(tid, t0, id(1 + (tid - 10) as u8), &[], &[], None, &ours);
    }
    assert!(l.plan().is_empty());
    assert!(l.is_finished());
    assert_eq!(l.result(t0).announced, 6);
}

#[test]
fn candidates_are_bounded_and_deduplicated() {
    let t0 = Instant::now();
    let ours = id(0xff);
    let mut l = Lookup::new(LookupId(1), LookupKind::FindNode, Id::ZERO, t0, 8, 3);
    for i in 0..2000u32 {
        let mut x = [0u8; 20];
        x[..4].copy_from_slice(&i.to_be_bytes());
        l.add_candidate(Some(Id(x)), addr(i as u16), 1, &ours);
        l.add_candidate(Some(Id(x)), addr(i as u16), 1, &ours);
    }
    assert!(l.candidates.len() <= MAX_CANDIDATES);
    assert!(l
        .candidates
        .windows(2)
        .all(|w| w[0].distance < w[1].distance));
    l.add_candidate(Some(ours), addr(60000), 1, &ours);
    assert!(!l.candidates.iter().any(|c| c.addr == addr(60000)));
}

fn result_with(closest: &[(u8, u16)], peers: &[u16], elapsed_ms: f64) -> LookupResult {
    LookupResult {
        id: LookupId(1),
        kind: LookupKind::GetPeers,
        target: id(0),
        closest: closest.iter().map(|&(b, a)| (id(b), addr(a))).collect(),
        peers: peers.iter().map(|&a| addr(a)).collect(),
        announced: 1,
        hops: 2,
        messages: 10,
        responses: 8,
        timeouts: 1,
        elapsed_ms,
        trace: Vec::new(),
        item: None,
    }
}

#[test]
fn merged_results_keep_the_closest_of_both_and_add_up() {
    // Ids 0x01.. are closer to the target 0x00.. than 0x80..: the merge sorts them.
    let mut a = result_with(&[(0x02, 2), (0x40, 40), (0x80, 80)], &[500, 501], 3.0);
    let b = result_with(&[(0x01, 1), (0x40, 40), (0x20, 20)], &[501, 502], 5.0);
    a.merge(b, 4);
    let ids: Vec<u8> = a.closest.iter().map(|c| c.0 .0[0]).collect();
    assert_eq!(
        ids,
        [0x01, 0x02, 0x20, 0x40],
        "sorted, without the repeat, cut at 4"
    );
    assert_eq!(a.peers, [addr(500), addr(501), addr(502)]);
    assert_eq!(
        (a.announced, a.messages, a.responses, a.timeouts),
        (2, 20, 16, 2)
    );
    assert_eq!(a.hops, 2);
    assert_eq!(a.elapsed_ms, 5.0, "the two ran at once: the longer one");
}
