//! The node against hostile datagrams.

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_krpc::{Body, ErrorCode, Id, Message, Method, Response, TransactionId, Want};

use super::{lone, net, replies, timeouts_agree_with_the_trace, FROM};
use crate::limits::{Limits, Rate};
use crate::lookup::{LookupKind, MAX_CANDIDATES, MAX_TRIES};
use crate::node::{Node, NodeConfig, MAX_DATAGRAM_IN, MAX_NODES_PER_REPLY};

#[test]
fn answers_every_query_and_echoes_any_transaction_id() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    for tid in [&b""[..], b"a", b"aa", b"abcd", b"12345678"] {
        let q = Message::query(
            TransactionId::new(tid),
            Id([1; 20]),
            Method::FindNode {
                target: Id([2; 20]),
                want: Want::default(),
            },
        );
        n.handle(now, from, &q.encode());
        let r = replies(&mut n);
        let reply = r
            .iter()
            .find(|m| matches!(m.body, Body::Response(_)))
            .unwrap();
        assert_eq!(reply.tid.as_bytes(), tid);
        assert_eq!(reply.ip, Some(from));
        let Body::Response(Response { nodes: Some(_), .. }) = &reply.body else {
            panic!("find_node reply without nodes")
        };
    }
}

#[test]
fn malformed_and_unknown_queries_get_203_and_204() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    n.handle(now, from, b"d1:ad2:id3:xyze1:q4:ping1:t2:aa1:y1:qe");
    n.handle(
        now,
        from,
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:bb1:y1:qe",
    );
    let r = replies(&mut n);
    let codes: Vec<(Vec<u8>, i64)> = r
        .iter()
        .filter_map(|m| match &m.body {
            Body::Error(e) => Some((m.tid.as_bytes().to_vec(), e.code.code())),
            _ => None,
        })
        .collect();
    assert_eq!(codes, vec![(b"aa".to_vec(), 203), (b"bb".to_vec(), 204)]);
    assert_eq!(n.stats().bad_queries, 2);
}

#[test]
fn garbage_is_dropped_silently_and_counted() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"hello".to_vec(),
        b"d1:t".to_vec(),
        b"i42e".to_vec(),
        [
            b"d1:t60000:".to_vec(),
            vec![b'x'; 60_000],
            b"1:y1:xe".to_vec(),
        ]
        .concat(),
        [b"l".to_vec(), b"i1e".repeat(10_000), b"e".to_vec()].concat(),
        b"d1:rd2:id20:abcdefghij0123456789e1:t4:zzzz1:y1:re".to_vec(), // unexpected response
    ];
    for i in &inputs {
        n.handle(now, from, i);
    }
    assert!(replies(&mut n).is_empty());
    let s = n.stats();
    assert_eq!(
        s.oversized, 2,
        "the 60,000-byte string and the 30,002-byte list"
    );
    assert_eq!(
        s.garbage + s.bad_responses + s.oversized,
        inputs.len() as u64
    );
}

/// A ping query of exactly `len` bytes (an unknown key pads it; unknown keys are ignored).
fn ping_of_len(len: usize) -> Vec<u8> {
    let head = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q1:z";
    // head + "<pad>:" + pad bytes + "e" == len (the pad's digits fit in those of the rest)
    let digits = (len - head.len()).to_string().len();
    let pad = len - head.len() - digits - 2;
    let wire = [
        head.as_slice(),
        format!("{pad}:").as_bytes(),
        &vec![b'x'; pad],
        b"e",
    ]
    .concat();
    assert_eq!(wire.len(), len);
    wire
}

#[test]
fn a_datagram_over_the_cap_is_dropped_unread_and_counted() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    n.handle(now, from, &ping_of_len(MAX_DATAGRAM_IN));
    let r = replies(&mut n);
    assert!(
        r.iter().any(|m| matches!(m.body, Body::Response(_))),
        "a {MAX_DATAGRAM_IN}-byte ping is answered"
    );
    for len in [MAX_DATAGRAM_IN + 1, 2048, 65_507] {
        n.handle(now, from, &ping_of_len(len));
        assert!(replies(&mut n).is_empty(), "a {len}-byte ping was answered");
    }
    let s = n.stats();
    assert_eq!(s.oversized, 3);
    assert_eq!((s.garbage, s.bad_queries, s.replies_sent), (0, 0, 1));
    assert_eq!(
        s.queries_in.ping, 1,
        "the oversized ones were not even decoded"
    );
}

#[test]
fn announce_with_a_bad_token_is_refused_and_stores_nothing() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    let ih = Id([7; 20]);
    let q = Message::query(
        TransactionId::new(&b"an"[..]),
        Id([1; 20]),
        Method::AnnouncePeer {
            info_hash: ih,
            port: 6881,
            implied_port: false,
            token: b"forged".to_vec(),
        },
    );
    n.handle(now, from, &q.encode());
    let r = replies(&mut n);
    assert!(r
        .iter()
        .any(|m| matches!(&m.body, Body::Error(e) if e.code == ErrorCode::Protocol)));
    assert_eq!(n.peer_store().peer_count(), 0);
    assert_eq!(n.stats().announces_bad_token, 1);
    // With the token from get_peers it is stored.
    let gp = Message::query(
        TransactionId::new(&b"gp"[..]),
        Id([1; 20]),
        Method::GetPeers {
            info_hash: ih,
            want: Want::default(),
        },
    );
    n.handle(now, from, &gp.encode());
    let token = replies(&mut n)
        .into_iter()
        .find_map(|m| match m.body {
            Body::Response(r) => r.token,
            _ => None,
        })
        .unwrap();
    let q = Message::query(
        TransactionId::new(&b"an"[..]),
        Id([1; 20]),
        Method::AnnouncePeer {
            info_hash: ih,
            port: 6881,
            implied_port: false,
            token,
        },
    );
    n.handle(now, from, &q.encode());
    assert_eq!(n.peer_store().peer_count(), 1);
}

#[test]
fn a_flooding_ip_is_rate_limited_and_others_are_served() {
    let now = std::time::Instant::now();
    let limits = Limits {
        per_ip: Some(Rate::new(5.0, 20.0)),
        ..Limits::default()
    };
    let mut n = Node::new(
        now,
        NodeConfig {
            seed: 2,
            limits,
            ..NodeConfig::default()
        },
    )
    .unwrap();
    let flood: SocketAddr = "203.0.113.9:1".parse().unwrap();
    let ping = Message::query(TransactionId::new(&b"pp"[..]), Id([5; 20]), Method::Ping).encode();
    for _ in 0..1000 {
        n.handle(now, flood, &ping);
    }
    let answered = replies(&mut n)
        .iter()
        .filter(|m| matches!(m.body, Body::Response(_)))
        .count();
    assert!(answered <= 21, "{answered} replies to a flood");
    assert!(n.stats().rate_limited + n.stats().blocked >= 979);
    let polite: SocketAddr = "203.0.113.10:1".parse().unwrap();
    n.handle(now, polite, &ping);
    assert!(replies(&mut n)
        .iter()
        .any(|m| matches!(m.body, Body::Response(_))));
}

/// `n` crafted nodes that do not exist (11.0.0.0/8 is not simulated), ids counting up.
fn fake_nodes(n: u32) -> Vec<swarmlab_krpc::Node4> {
    (0..n)
        .map(|i| {
            let mut id = [0u8; 20];
            id[..4].copy_from_slice(&i.to_be_bytes());
            swarmlab_krpc::Node4 {
                id: Id(id),
                addr: std::net::SocketAddrV4::new(std::net::Ipv4Addr::from(0x0b00_0000 + i), 1),
            }
        })
        .collect()
}

#[test]
fn a_reply_with_a_thousand_nodes_is_bounded() {
    let mut sim = net(10, 21);
    let a = 0;
    let now = sim.now();
    let lid = sim
        .node_mut(a)
        .start_lookup(now, LookupKind::FindNode, Id([3; 20]))
        .unwrap();
    let mut tids = Vec::new();
    while let Some(t) = sim.node_mut(a).poll_transmit() {
        if let Ok(m) = Message::decode(&t.payload) {
            tids.push((t.to, m.tid));
        }
    }
    assert!(tids.len() >= 3, "alpha queries out");
    let held = sim.node(a).lookups[&lid].candidate_count();
    let reply_with = |tid: &TransactionId, n: u32| {
        let mut r = Response::new(Id([9; 20]));
        r.nodes = Some(fake_nodes(n));
        Message::response(tid.clone(), r).encode()
    };

    // 1. A node of a's table answers with 1000 nodes: 26 KB, past the datagram cap, so
    //    it is dropped whole and the lookup does not change.
    let (to, tid) = tids[0].clone();
    let huge = reply_with(&tid, 1000);
    sim.node_mut(a).handle(now, to, &huge);
    assert_eq!(sim.node(a).stats().oversized, 1);
    assert_eq!(sim.node(a).lookups[&lid].candidate_count(), held);

    // 2. A driver without the cap would deliver it: the reply's nodes are cut at
    //    MAX_NODES_PER_REPLY before they become candidates.
    sim.node_mut(a)
        .on_response(now, to, &tid, decoded_response(&huge), None);
    let after = sim.node(a).lookups[&lid].candidate_count();
    assert!(
        after <= held + MAX_NODES_PER_REPLY,
        "{after} candidates from {held} + one reply"
    );
    let sent = std::iter::from_fn(|| sim.node_mut(a).poll_transmit()).count();
    assert!(sent <= 1, "{sent} queries after one reply freed one slot");

    // 3. The largest reply that fits the cap: all its nodes are taken, the lookup still
    //    holds at most MAX_CANDIDATES, and one freed slot sends one query.
    let (to, tid) = tids[1].clone();
    let fit = (1..1000)
        .take_while(|&n| reply_with(&tid, n).len() <= MAX_DATAGRAM_IN)
        .last()
        .unwrap();
    sim.node_mut(a).handle(now, to, &reply_with(&tid, fit));
    assert_eq!(sim.node(a).stats().oversized, 1);
    let l = &sim.node(a).lookups[&lid];
    assert!(l.candidate_count() <= after + fit as usize);
    assert!(l.candidate_count() <= MAX_CANDIDATES);
    let sent = std::iter::from_fn(|| sim.node_mut(a).poll_transmit()).count();
    assert!(sent <= 1, "{sent} queries after one reply freed one slot");

    // 4. None of the named nodes exists: the lookup asks each candidate at most
    //    MAX_TRIES times, so it ends after a bounded number of requests.
    sim.run_for(Duration::from_secs(60));
    let done = sim.take_result(a, lid).expect("the lookup ended");
    let bound = (held + 2 * MAX_NODES_PER_REPLY) * usize::from(MAX_TRIES);
    assert!(
        done.messages <= bound,
        "{} requests (bound {bound})",
        done.messages
    );
    timeouts_agree_with_the_trace(&done);
}

fn decoded_response(wire: &[u8]) -> Response {
    match Message::decode(wire).unwrap().body {
        Body::Response(r) => r,
        other => panic!("{other:?}"),
    }
}
