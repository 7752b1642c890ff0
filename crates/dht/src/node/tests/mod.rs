//! The node against other nodes in the simulator (`network.rs`: joins, lookups,
//! announces, loss and timeouts, bootstrap, BEP 42 ids) and against hostile datagrams
//! (`hostile.rs`: transaction ids, 203/204, garbage, the size cap, forged tokens,
//! floods, oversized replies). The helpers they share are here.

mod hostile;
mod network;

use std::time::Duration;

use swarmlab_krpc::Message;

use crate::limits::Limits;
use crate::lookup::{LookupResult, Outcome};
use crate::node::{Node, NodeConfig};
use crate::sim::{Sim, SimConfig};

fn cfg() -> NodeConfig {
    NodeConfig {
        limits: Limits::unlimited(),
        ..NodeConfig::default()
    }
}

fn net(n: usize, seed: u64) -> Sim {
    let mut sim = Sim::new(SimConfig {
        seed,
        ..SimConfig::default()
    });
    for i in 0..n {
        sim.add_node(cfg()).unwrap();
        if i > 0 {
            sim.bootstrap(i, &[0]);
            sim.run_for(Duration::from_millis(300));
        }
    }
    sim.run_for(Duration::from_secs(30));
    sim
}

/// A request counts as timed out in a lookup's result exactly when its trace says so.
fn timeouts_agree_with_the_trace(r: &LookupResult) {
    let timed_out = r
        .trace
        .iter()
        .filter(|t| t.outcome == Outcome::TimedOut)
        .count();
    assert_eq!(r.timeouts, timed_out, "{r:?}");
    assert!(r
        .trace
        .iter()
        .filter(|t| t.outcome == Outcome::TimedOut)
        .all(|t| t.rtt_ms.is_none()));
}

fn lone() -> (Node, std::time::Instant) {
    let now = std::time::Instant::now();
    (
        Node::new(
            now,
            NodeConfig {
                seed: 1,
                ..NodeConfig::default()
            },
        )
        .unwrap(),
        now,
    )
}

fn replies(n: &mut Node) -> Vec<Message> {
    std::iter::from_fn(|| n.poll_transmit())
        .map(|t| Message::decode(&t.payload).unwrap())
        .collect()
}

const FROM: &str = "198.51.100.7:6881";
