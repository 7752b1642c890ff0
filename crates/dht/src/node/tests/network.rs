//! The node among other nodes, in the simulator.

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_krpc::{Id, Message, Response, TransactionId};

use super::sim::{Sim, SimConfig};
use super::{cfg, lone, net, timeouts_agree_with_the_trace};
use crate::lookup::{LookupKind, Outcome, MAX_TRIES};
use crate::node::Event;

#[test]
fn nodes_join_and_find_each_other() {
    let mut sim = net(60, 7);
    for i in 0..sim.len() {
        assert!(
            sim.node(i).table().len() >= 8,
            "node {i} has {} nodes",
            sim.node(i).table().len()
        );
    }
    // find_node of every node's id finds that node.
    for i in 0..sim.len() {
        let target = sim.node(i).id();
        let from = (i + 17) % sim.len();
        let r = sim
            .run_lookup(from, LookupKind::FindNode, target, Duration::from_secs(20))
            .unwrap();
        assert_eq!(
            r.closest.first().map(|c| c.0),
            Some(target),
            "lookup of node {i} from {from}"
        );
        assert!(r.messages <= 40, "{} messages", r.messages);
        assert!(r.trace.iter().all(|t| t.distance_bits.is_some()));
    }
}

#[test]
fn announce_then_get_peers_finds_the_peer() {
    let mut sim = net(50, 11);
    let ih = Id([0x42; 20]);
    let r = sim
        .run_lookup(
            3,
            LookupKind::Announce { port: Some(51413) },
            ih,
            Duration::from_secs(20),
        )
        .unwrap();
    assert!(r.announced >= 6, "announced to {}", r.announced);
    let r = sim
        .run_lookup(40, LookupKind::GetPeers, ih, Duration::from_secs(20))
        .unwrap();
    let want = SocketAddr::new(sim.addr(3).ip(), 51413);
    assert_eq!(r.peers, vec![want]);
    // implied_port announces the UDP source port.
    let ih2 = Id([0x43; 20]);
    sim.run_lookup(
        5,
        LookupKind::Announce { port: None },
        ih2,
        Duration::from_secs(20),
    )
    .unwrap();
    let r = sim
        .run_lookup(6, LookupKind::GetPeers, ih2, Duration::from_secs(20))
        .unwrap();
    assert_eq!(r.peers, vec![sim.addr(5)]);
}

#[test]
fn same_seed_same_run() {
    let run = |seed| {
        let mut sim = net(30, seed);
        let r = sim
            .run_lookup(
                4,
                LookupKind::FindNode,
                Id([9; 20]),
                Duration::from_secs(20),
            )
            .unwrap();
        (r.closest, r.messages, sim.sent)
    };
    assert_eq!(run(5), run(5));
}

#[test]
fn lookups_survive_loss_and_report_timeouts() {
    let mut sim = Sim::new(SimConfig {
        loss: 0.2,
        seed: 3,
        ..SimConfig::default()
    });
    for i in 0..40 {
        sim.add_node(cfg()).unwrap();
        if i > 0 {
            sim.bootstrap(i, &[0]);
            sim.run_for(Duration::from_millis(500));
        }
    }
    sim.run_for(Duration::from_secs(60));
    let (mut timeouts, mut found) = (0, 0);
    for (from, to) in [(2, 25), (7, 31), (11, 3), (19, 38), (33, 14), (5, 27)] {
        let target = sim.node(to).id();
        let before = sim.node(from).stats().timeouts;
        let r = sim
            .run_lookup(from, LookupKind::FindNode, target, Duration::from_secs(30))
            .unwrap();
        found += usize::from(r.closest.first().map(|c| c.0) == Some(target));
        timeouts_agree_with_the_trace(&r);
        // The node's own counter saw at least the lookup's timeouts (and its pings').
        assert!(sim.node(from).stats().timeouts - before >= r.timeouts as u64);
        timeouts += r.timeouts;
    }
    assert!(sim.lost > 0);
    // A find_node misses its exact target only when both tries with the target fail:
    // (1 - 0.8^2)^2 = 13% at 20% loss, so 5 or 6 of 6 on average; at least 4 here.
    assert!(found >= 4, "found the exact node in {found} of 6 lookups");
    // One datagram in five is lost, so some of these requests must have timed out,
    // and been reported as such.
    assert!(timeouts > 0, "no timeout reported in 6 lookups at 20% loss");
}

#[test]
fn a_lookup_nobody_answers_reports_every_request_timed_out() {
    let (mut n, now) = lone();
    let silent: Vec<SocketAddr> = (1..=5)
        .map(|i| format!("198.51.100.{i}:6881").parse().unwrap())
        .collect();
    n.bootstrap(now, silent.clone());
    let lid = n
        .start_lookup(now, LookupKind::GetPeers, Id([0x33; 20]))
        .unwrap();
    // Nothing ever answers: advance the clock through every deadline.
    let mut t = now;
    let result = loop {
        while n.poll_transmit().is_some() {}
        if let Some(r) = std::iter::from_fn(|| n.poll_event()).find_map(|e| match e {
            Event::LookupDone(r) if r.id == lid => Some(r),
            _ => None,
        }) {
            break r;
        }
        t = n.poll_timeout().unwrap().max(t);
        assert!(t < now + Duration::from_secs(60), "the lookup never ended");
        n.handle_timeout(t);
    };
    assert_eq!(result.responses, 0);
    assert!(result.closest.is_empty() && result.peers.is_empty());
    // Each of the 5 addresses was asked at most MAX_TRIES times (a retry after the soft
    // timeout), every request timed out, and the result says so.
    assert!(result.messages >= silent.len());
    assert!(result.messages <= silent.len() * usize::from(MAX_TRIES));
    assert_eq!(result.timeouts, result.messages, "{result:?}");
    timeouts_agree_with_the_trace(&result);
    assert!(result
        .trace
        .iter()
        .all(|e| silent.contains(&e.node) && e.outcome == Outcome::TimedOut));
    assert!(n.stats().timeouts >= result.timeouts as u64);
}

#[test]
fn bootstrap_retries_until_the_network_appears() {
    let mut sim = Sim::new(SimConfig::default());
    let a = sim.add_node(cfg()).unwrap();
    // Node 1 does not exist yet: a's bootstrap fails, then retries with backoff.
    let b_addr = super::sim::sim_addr(1);
    let now = sim.now();
    sim.node_mut(a).bootstrap(now, vec![b_addr]);
    sim.run_for(Duration::from_secs(10));
    assert!(sim.node(a).table().is_empty());
    let b = sim.add_node(cfg()).unwrap();
    assert_eq!(sim.addr(b), b_addr);
    sim.run_for(Duration::from_secs(70));
    assert_eq!(sim.node(a).table().len(), 1);
    assert_eq!(
        sim.node(b).table().len(),
        1,
        "b learned of a from its queries"
    );
}

// ------------------------------------------------------------------ hostile input

#[test]
fn adopts_a_bep42_id_once_replies_agree_on_a_public_address() {
    let (mut n, now) = lone();
    let old = n.id();
    let ours: SocketAddr = "203.0.113.5:6881".parse().unwrap();
    assert!(!crate::bep42::is_valid(&old, ours.ip()));
    // Four voters, each in its own /24 (one network's votes count once).
    let peers: Vec<SocketAddr> = (1..=4)
        .map(|i| format!("198.51.{i}.7:6881").parse().unwrap())
        .collect();
    n.bootstrap(now, peers.clone());
    // Answer every query (alpha at a time) with `ip` = our public address.
    let mut answered = 0;
    for round in 0..10u8 {
        let queries: Vec<(SocketAddr, TransactionId)> = std::iter::from_fn(|| n.poll_transmit())
            .filter_map(|t| Message::decode(&t.payload).ok().map(|m| (t.to, m.tid)))
            .collect();
        for (i, (to, tid)) in queries.into_iter().enumerate() {
            let mut r = Response::new(Id([round * 16 + i as u8 + 1; 20]));
            r.nodes = Some(Vec::new());
            n.handle(now, to, &Message::response(tid, r).with_ip(ours).encode());
            answered += 1;
        }
    }
    assert!(answered >= 4, "only {answered} queries to answer");
    let events: Vec<_> = std::iter::from_fn(|| n.poll_event()).collect();
    assert!(events
        .iter()
        .any(|e| matches!(e, crate::node::Event::ExternalAddress(a) if *a == ours)));
    assert_ne!(n.id(), old);
    assert!(
        crate::bep42::is_valid(&n.id(), ours.ip()),
        "new id {} is not a BEP 42 id for {ours}",
        n.id()
    );
}
