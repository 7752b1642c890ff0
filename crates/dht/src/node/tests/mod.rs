//! The node against other nodes in a small simulated network (`sim.rs`, a test
//! harness; `network.rs`: joins, lookups,
//! announces, loss and timeouts, bootstrap, BEP 42 ids) and against hostile datagrams
//! (`hostile.rs`: transaction ids, 203/204, garbage, the size cap, forged tokens,
//! floods, oversized replies); BEP 44 (`items.rs`: get and put served and looked up,
//! every refusal code), BEP 51 (`samples.rs`), the BEP 42 vote and dual-stack fixes
//! (`security.rs`), timers that cost nothing when idle (`timers.rs`). The helpers they
//! share are here: [`Mesh`] is a handful of nodes that deliver each other's datagrams
//! at once (no simulator, no loss).

mod hostile;
mod items;
mod network;
mod samples;
mod security;
mod sim;
mod timers;

use std::net::SocketAddr;
use std::time::Instant;

use std::time::Duration;

use swarmlab_krpc::Message;

use crate::limits::Limits;
use crate::lookup::{LookupResult, Outcome};
use crate::node::{Node, NodeConfig};
use sim::{Sim, SimConfig};

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

/// A few nodes on public-looking addresses (203.0.113.1, .2, …) that deliver each
/// other's datagrams at once, every node knowing every other.
struct Mesh {
    nodes: Vec<Node>,
    addrs: Vec<SocketAddr>,
    now: Instant,
    /// Datagrams sent to an address where no node is.
    undelivered: Vec<(SocketAddr, Vec<u8>)>,
}

impl Mesh {
    fn new(n: usize) -> Mesh {
        let now = Instant::now();
        let nodes = (0..n)
            .map(|i| {
                Node::new(
                    now,
                    NodeConfig {
                        seed: 100 + i as u64,
                        ..cfg()
                    },
                )
                .unwrap()
            })
            .collect();
        let addrs = (0..n)
            .map(|i| SocketAddr::from(([203, 0, 113, i as u8 + 1], 6881)))
            .collect();
        let mut m = Mesh {
            nodes,
            addrs,
            now,
            undelivered: Vec::new(),
        };
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let (id, addr) = (m.nodes[j].id(), m.addrs[j]);
                    m.nodes[i].add_node(now, id, addr);
                }
            }
        }
        m.deliver();
        m
    }

    /// Delivers datagrams until nobody has anything to send.
    fn deliver(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(t) = self.nodes[i].poll_transmit() {
                    any = true;
                    match self.addrs.iter().position(|a| *a == t.to) {
                        Some(j) => {
                            let from = self.addrs[i];
                            self.nodes[j].handle(self.now, from, &t.payload);
                        }
                        None => self.undelivered.push((t.to, t.payload)),
                    }
                }
            }
            if !any {
                return;
            }
        }
    }

    /// Delivers, then the first lookup result node `i` reports.
    fn result(&mut self, i: usize) -> LookupResult {
        self.deliver();
        std::iter::from_fn(|| self.nodes[i].poll_event())
            .find_map(|e| match e {
                crate::node::Event::LookupDone(r) => Some(*r),
                _ => None,
            })
            .expect("the lookup ended")
    }
}
