//! BEP 51 in the node: `sample_infohashes` answered from the peer store, the sample
//! kept for the interval, and one query to one node with `Node::query`.

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_krpc::{Body, Id, Message, Method, TransactionId, Want};

use super::{lone, replies, Mesh, FROM};
use crate::node::{Event, Node, NodeConfig};

fn sample(n: &mut Node, now: std::time::Instant, from: SocketAddr) -> swarmlab_krpc::Response {
    let q = Message::query(
        TransactionId::new(b"ss".to_vec()),
        Id([0x42; 20]),
        Method::SampleInfohashes {
            target: Id([0; 20]),
            want: Want::default(),
        },
    );
    n.handle(now, from, &q.encode());
    replies(n)
        .into_iter()
        .find_map(|m| match m.body {
            Body::Response(r) if m.tid.as_bytes() == b"ss" => Some(r),
            _ => None,
        })
        .expect("an answer")
}

#[test]
fn samples_come_from_the_peer_store_and_hold_for_the_interval() {
    let now = std::time::Instant::now();
    let mut n = Node::new(
        now,
        NodeConfig {
            seed: 5,
            max_samples: 20,
            sample_interval: Duration::from_secs(600),
            ..NodeConfig::default()
        },
    )
    .unwrap();
    let from: SocketAddr = FROM.parse().unwrap();
    let r = sample(&mut n, now, from);
    assert_eq!((r.num, r.samples.as_deref()), (Some(0), Some(&[][..])));
    assert!(r.nodes.is_some());

    // 30 info-hashes announced: num says 30, samples carry 20 distinct stored ones.
    let peer: SocketAddr = "198.51.100.20:51413".parse().unwrap();
    let hashes: Vec<Id> = (0..30u8).map(|i| Id([i + 1; 20])).collect();
    for ih in &hashes {
        n.store.announce(now, *ih, peer, false);
    }
    // The sample drawn empty at `now` holds until the interval is over...
    let later = now + Duration::from_secs(599);
    let r = sample(&mut n, later, from);
    assert_eq!(r.samples.as_deref(), Some(&[][..]));
    assert_eq!(r.interval, Some(1), "seconds until the sample changes");
    assert_eq!(r.num, Some(30));
    // ... then a new one is drawn.
    let after = now + Duration::from_secs(600);
    let r = sample(&mut n, after, from);
    let s = r.samples.unwrap();
    assert_eq!(s.len(), 20);
    assert!(s.iter().all(|x| hashes.contains(x)));
    let mut uniq = s.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 20);
    assert_eq!(r.interval, Some(600));
    assert_eq!(n.stats().queries_in.sample_infohashes, 3);
}

#[test]
fn a_reply_fits_one_datagram() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    let peer: SocketAddr = "198.51.100.20:51413".parse().unwrap();
    for i in 0..200u8 {
        n.store.announce(now, Id([i; 20]), peer, false);
    }
    let q = Message::query(
        TransactionId::new(b"ss".to_vec()),
        Id([0x42; 20]),
        Method::SampleInfohashes {
            target: Id([0; 20]),
            want: Want { n4: true, n6: true },
        },
    );
    n.handle(now, from, &q.encode());
    let t = n.poll_transmit().unwrap();
    assert!(t.payload.len() <= swarmlab_krpc::SAFE_PAYLOAD);
}

#[test]
fn one_query_to_one_node_comes_back_as_an_event() {
    let mut mesh = Mesh::new(3);
    let now = mesh.now;
    let to = mesh.addrs[2];
    let id = mesh.nodes[0]
        .query(
            now,
            to,
            Method::SampleInfohashes {
                target: Id([1; 20]),
                want: Want::default(),
            },
        )
        .unwrap();
    mesh.deliver();
    let ev = std::iter::from_fn(|| mesh.nodes[0].poll_event())
        .find(|e| matches!(e, Event::QueryReply { .. }))
        .unwrap();
    let Event::QueryReply {
        id: got,
        to: at,
        reply,
    } = ev
    else {
        unreachable!()
    };
    assert_eq!((got, at), (id, to));
    let r = reply.unwrap();
    assert_eq!(r.id, mesh.nodes[2].id());
    assert_eq!(r.num, Some(0));
    assert_eq!(mesh.nodes[0].stats().queries_out.sample_infohashes, 1);

    // Nobody at the address: a timeout, reported once the deadline passes.
    let nobody: SocketAddr = "192.0.2.99:6881".parse().unwrap();
    let id = mesh.nodes[0].query(now, nobody, Method::Ping).unwrap();
    mesh.deliver();
    mesh.nodes[0].handle_timeout(now + Duration::from_secs(3));
    let ev = std::iter::from_fn(|| mesh.nodes[0].poll_event())
        .find(|e| matches!(e, Event::QueryReply { .. }))
        .unwrap();
    assert!(matches!(
        ev,
        Event::QueryReply { id: got, reply: Err(crate::lookup::Outcome::TimedOut), .. } if got == id
    ));
}
