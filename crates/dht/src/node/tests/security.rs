//! The BEP 42 vote (distinct voters, distinct networks), `--enforce-bep42`'s policies
//! in a node, and dual stack (`want` from the other family's table, `set_id`).

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::{Body, Id, Message, Method, Response, TransactionId, Want};

use super::{lone, replies};
use crate::node::{Event, Node, NodeConfig};

/// Sends a ping to each of `voters` in turn and answers it from there with `ip` = `ours`.
fn votes(n: &mut Node, now: Instant, voters: &[SocketAddr], ours: SocketAddr) {
    for (i, v) in voters.iter().enumerate() {
        n.query(now, *v, Method::Ping).unwrap();
        let t = n.poll_transmit().unwrap();
        let q = Message::decode(&t.payload).unwrap();
        let r = Response::new(Id([i as u8 + 1; 20]));
        n.handle(now, *v, &Message::response(q.tid, r).with_ip(ours).encode());
        while n.poll_transmit().is_some() {}
    }
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| a.parse().unwrap()).collect()
}

fn changed(n: &mut Node) -> bool {
    std::iter::from_fn(|| n.poll_event()).any(|e| matches!(e, Event::ExternalAddress(_)))
}

const OURS: &str = "203.0.113.5:6881";

#[test]
fn one_node_answering_four_times_does_not_move_our_address() {
    let (mut n, now) = lone();
    let old = n.id();
    let one = addrs(&["198.51.100.7:6881"; 4]);
    votes(&mut n, now, &one, OURS.parse().unwrap());
    assert!(!changed(&mut n));
    assert_eq!((n.id(), n.external_address()), (old, None));
    // The same node on four ports is still one voter.
    let ports = addrs(&[
        "198.51.100.7:1",
        "198.51.100.7:2",
        "198.51.100.7:3",
        "198.51.100.7:4",
    ]);
    votes(&mut n, now, &ports, OURS.parse().unwrap());
    assert_eq!(n.id(), old);
}

#[test]
fn four_nodes_of_one_network_count_once() {
    let (mut n, now) = lone();
    let old = n.id();
    let same24 = addrs(&[
        "198.51.100.1:6881",
        "198.51.100.2:6881",
        "198.51.100.3:6881",
        "198.51.100.4:6881",
    ]);
    votes(&mut n, now, &same24, OURS.parse().unwrap());
    assert!(!changed(&mut n));
    assert_eq!(n.id(), old);
    // Three more networks: now four agree.
    let others = addrs(&["198.51.1.1:6881", "198.51.2.1:6881", "198.51.3.1:6881"]);
    votes(&mut n, now, &others, OURS.parse().unwrap());
    assert!(changed(&mut n));
    assert_eq!(n.external_address(), Some(OURS.parse().unwrap()));
    assert!(crate::bep42::is_valid(
        &n.id(),
        OURS.parse::<SocketAddr>().unwrap().ip()
    ));
}

#[test]
fn votes_for_different_addresses_do_not_add_up() {
    let (mut n, now) = lone();
    let old = n.id();
    for (i, v) in [
        "198.51.1.1:1",
        "198.51.2.1:1",
        "198.51.3.1:1",
        "198.51.4.1:1",
    ]
    .iter()
    .enumerate()
    {
        let ours: SocketAddr = format!("203.0.113.{}:6881", i + 1).parse().unwrap();
        votes(&mut n, now, &addrs(&[v]), ours);
    }
    assert!(!changed(&mut n));
    assert_eq!(n.id(), old);
}

#[test]
fn require_refuses_insecure_ids_from_public_addresses() {
    let now = Instant::now();
    let mut n = Node::new(
        now,
        NodeConfig {
            seed: 1,
            routing: crate::routing::RoutingConfig {
                bep42: crate::routing::Bep42Policy::Require,
                ..Default::default()
            },
            ..NodeConfig::default()
        },
    )
    .unwrap();
    let public: SocketAddr = "198.51.100.7:6881".parse().unwrap();
    let ping = Message::query(
        TransactionId::new(b"aa".to_vec()),
        Id([7; 20]),
        Method::Ping,
    );
    n.handle(now, public, &ping.encode());
    let _ = replies(&mut n);
    assert!(n.table().is_empty(), "an insecure id was taken");
    let secure = crate::bep42::derive_id(public.ip(), &mut rand::rngs::mock::StepRng::new(1, 7));
    let ping = Message::query(TransactionId::new(b"ab".to_vec()), secure, Method::Ping);
    n.handle(now, public, &ping.encode());
    assert_eq!(n.table().len(), 1);
}

fn find_node_want(
    n: &mut Node,
    now: Instant,
    from: SocketAddr,
    other: Option<&crate::routing::RoutingTable>,
) -> Response {
    let q = Message::query(
        TransactionId::new(b"fw".to_vec()),
        Id([0x42; 20]),
        Method::FindNode {
            target: Id([0x11; 20]),
            want: Want { n4: true, n6: true },
        },
    );
    n.handle_with(now, from, &q.encode(), other);
    replies(n)
        .into_iter()
        .find_map(|m| match m.body {
            Body::Response(r) if m.tid.as_bytes() == b"fw" => Some(r),
            _ => None,
        })
        .unwrap()
}

#[test]
fn want_n6_over_ipv4_is_answered_from_the_ipv6_table() {
    let now = Instant::now();
    let cfg = NodeConfig {
        seed: 2,
        limits: crate::limits::Limits::unlimited(),
        ..NodeConfig::default()
    };
    let mut v4 = Node::new(now, cfg.clone()).unwrap();
    let mut v6 = Node::new(
        now,
        NodeConfig {
            id: Some(v4.id()),
            ..cfg
        },
    )
    .unwrap();
    for i in 1..=3u8 {
        let a4: SocketAddr = format!("198.51.{i}.1:6881").parse().unwrap();
        let a6: SocketAddr = format!("[2001:db8:{i}::1]:6881").parse().unwrap();
        v4.table.on_response(now, Id([i; 20]), a4);
        v6.table.on_response(now, Id([0x80 | i; 20]), a6);
    }
    let asker: SocketAddr = "198.51.100.9:6881".parse().unwrap();
    // Alone, the IPv4 node has no IPv6 nodes to give.
    let r = find_node_want(&mut v4, now, asker, None);
    assert_eq!(r.nodes.as_ref().map(Vec::len), Some(3));
    assert_eq!(r.nodes6, None);
    // With the IPv6 node's table beside it, `want: n6` gets `nodes6`.
    let r = find_node_want(&mut v4, now, asker, Some(&v6.table));
    assert_eq!(r.nodes.as_ref().map(Vec::len), Some(3));
    assert_eq!(r.nodes6.as_ref().map(Vec::len), Some(3));
    // Without `want`, the asker's family only, as before.
    let q = Message::query(
        TransactionId::new(b"fx".to_vec()),
        Id([0x42; 20]),
        Method::FindNode {
            target: Id([0x11; 20]),
            want: Want::default(),
        },
    );
    v4.handle_with(now, asker, &q.encode(), Some(&v6.table));
    let r = replies(&mut v4)
        .into_iter()
        .find_map(|m| match m.body {
            Body::Response(r) if m.tid.as_bytes() == b"fx" => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(r.nodes6, None);
}

#[test]
fn set_id_rebuilds_the_table_and_reports_it() {
    let (mut n, now) = lone();
    let a: SocketAddr = "198.51.1.1:6881".parse().unwrap();
    n.table.on_response(now, Id([0x10; 20]), a);
    let new = Id([0xee; 20]);
    n.set_id(now, new);
    assert_eq!((n.id(), n.table().our_id()), (new, new));
    assert!(
        std::iter::from_fn(|| n.poll_event()).any(|e| matches!(e, Event::IdChanged(i) if i == new))
    );
    assert_eq!(n.table().len(), 1, "the node is kept");
    assert!(
        n.poll_transmit().is_some(),
        "a lookup of the new id goes out"
    );
    n.set_id(now, new);
    assert!(
        n.poll_event().is_none(),
        "the same id again changes nothing"
    );
}

#[test]
fn a_read_only_node_answers_no_query() {
    let now = Instant::now();
    let mut n = Node::new(
        now,
        NodeConfig {
            seed: 3,
            read_only: true,
            ..NodeConfig::default()
        },
    )
    .unwrap();
    let from: SocketAddr = "198.51.100.7:6881".parse().unwrap();
    let ping = Message::query(
        TransactionId::new(b"aa".to_vec()),
        Id([7; 20]),
        Method::Ping,
    );
    n.handle(now, from, &ping.encode());
    n.handle(
        now,
        from,
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:bb1:y1:qe",
    );
    assert!(n.poll_transmit().is_none(), "a read-only node answered");
    assert_eq!(n.stats().read_only_unanswered, 2);
    assert!(n.table().is_empty());
    // It still sends its own queries, with `ro`.
    n.query(now, from, Method::Ping).unwrap();
    let q = Message::decode(&n.poll_transmit().unwrap().payload).unwrap();
    assert!(matches!(q.body, Body::Query(ref q) if q.read_only));
}
