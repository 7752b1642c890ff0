//! A discrete-event simulator: many [`Node`]s in one process, in simulated time, with
//! latency, jitter and loss. Deterministic: the same seed gives the same run.
//!
//! Each node gets its own IPv4 address (10.x.y.z:6881). Datagrams are delivered after
//! `latency ± jitter` unless lost; timers fire exactly when nodes ask. Nothing sleeps:
//! an hour of a 2,000-node network runs in seconds.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_krpc::Id;

use crate::lookup::{LookupId, LookupKind, LookupResult};
use crate::node::{Event, Node, NodeConfig};
use crate::ConfigError;

/// Network conditions.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    /// One-way delay.
    pub latency: Duration,
    /// Uniform extra delay in `0..jitter`.
    pub jitter: Duration,
    /// Probability that a datagram is lost.
    pub loss: f64,
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { latency: Duration::from_millis(20), jitter: Duration::from_millis(10), loss: 0.0, seed: 1 }
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// Deliver `payload` from `from` to node `to`.
    Datagram { to: usize, from: SocketAddr, payload: Vec<u8> },
    /// Node `i` asked to be woken.
    Timer(usize),
}

/// The simulated network.
pub struct Sim {
    cfg: SimConfig,
    now: Instant,
    start: Instant,
    nodes: Vec<Node>,
    addrs: Vec<SocketAddr>,
    index: HashMap<SocketAddr, usize>,
    queue: BinaryHeap<Reverse<(Instant, u64, Item)>>,
    seq: u64,
    rng: StdRng,
    /// Finished lookups by (node, lookup id).
    done: HashMap<(usize, LookupId), LookupResult>,
    /// The timer of each node that is in the queue (earlier ones replace later ones).
    timers: Vec<Option<Instant>>,
    /// Datagrams sent and lost.
    pub sent: u64,
    pub lost: u64,
}

/// The simulated address of node `i`.
pub fn sim_addr(i: usize) -> SocketAddr {
    let i = i as u32 + 1;
    SocketAddr::from((Ipv4Addr::from(0x0a00_0000 | i), 6881))
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Sim {
        let now = Instant::now();
        Sim {
            cfg,
            now,
            start: now,
            nodes: Vec::new(),
            addrs: Vec::new(),
            index: HashMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            rng: StdRng::seed_from_u64(cfg.seed),
            done: HashMap::new(),
            timers: Vec::new(),
            sent: 0,
            lost: 0,
        }
    }

    /// The simulated clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// Adds a node (its seed is derived from the simulation's RNG unless set).
    pub fn add_node(&mut self, mut cfg: NodeConfig) -> Result<usize, ConfigError> {
        if cfg.seed == 0 {
            cfg.seed = self.rng.gen();
        }
        let i = self.nodes.len();
        let node = Node::new(self.now, cfg)?;
        let addr = sim_addr(i);
        self.nodes.push(node);
        self.addrs.push(addr);
        self.timers.push(None);
        self.index.insert(addr, i);
        self.flush(i);
        Ok(i)
    }

    /// Node `i` joins through the nodes `via`.
    pub fn bootstrap(&mut self, i: usize, via: &[usize]) {
        let addrs = via.iter().map(|&j| self.addrs[j]).collect();
        let now = self.now;
        self.nodes[i].bootstrap(now, addrs);
        self.flush(i);
    }

    /// Starts a lookup on node `i`.
    pub fn start_lookup(&mut self, i: usize, kind: LookupKind, target: Id) -> Option<LookupId> {
        let now = self.now;
        let lid = self.nodes[i].start_lookup(now, kind, target).ok()?;
        self.flush(i);
        Some(lid)
    }

    /// Runs until node `i`'s lookup ends (or `limit` of simulated time passes).
    pub fn run_lookup(&mut self, i: usize, kind: LookupKind, target: Id, limit: Duration) -> Option<LookupResult> {
        let lid = self.start_lookup(i, kind, target)?;
        let deadline = self.now + limit;
        while self.now <= deadline {
            if let Some(r) = self.done.remove(&(i, lid)) {
                return Some(r);
            }
            if !self.step(deadline) {
                break;
            }
        }
        self.done.remove(&(i, lid))
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        while self.step(until) {}
        self.now = self.now.max(until);
    }

    /// Processes the next item due no later than `until`; false when there is none.
    fn step(&mut self, until: Instant) -> bool {
        let Some(Reverse((t, _, _))) = self.queue.peek() else { return false };
        if *t > until {
            return false;
        }
        let Some(Reverse((t, _, item))) = self.queue.pop() else { return false };
        self.now = self.now.max(t);
        let now = self.now;
        match item {
            Item::Datagram { to, from, payload } => {
                self.nodes[to].handle(now, from, &payload);
                self.flush(to);
            }
            Item::Timer(i) => {
                if self.timers[i] != Some(t) {
                    return true; // superseded by an earlier timer
                }
                self.timers[i] = None;
                if self.nodes[i].poll_timeout().is_some_and(|w| w <= now) {
                    self.nodes[i].handle_timeout(now);
                }
                self.flush(i);
            }
        }
        true
    }

    fn push(&mut self, at: Instant, item: Item) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, item)));
    }

    fn schedule_timer(&mut self, i: usize) {
        if let Some(t) = self.nodes[i].poll_timeout() {
            let t = t.max(self.now);
            if self.timers[i].is_none_or(|s| t < s) {
                self.timers[i] = Some(t);
                self.push(t, Item::Timer(i));
            }
        }
    }

    /// Moves node `i`'s datagrams onto the network and collects its events.
    fn flush(&mut self, i: usize) {
        let from = self.addrs[i];
        while let Some(tx) = self.nodes[i].poll_transmit() {
            self.sent += 1;
            if self.cfg.loss > 0.0 && self.rng.gen_bool(self.cfg.loss.min(1.0)) {
                self.lost += 1;
                continue;
            }
            let Some(&to) = self.index.get(&tx.to) else {
                self.lost += 1;
                continue;
            };
            let jitter = if self.cfg.jitter.is_zero() {
                Duration::ZERO
            } else {
                self.cfg.jitter.mul_f64(self.rng.gen::<f64>())
            };
            let at = self.now + self.cfg.latency + jitter;
            self.push(at, Item::Datagram { to, from, payload: tx.payload });
        }
        while let Some(ev) = self.nodes[i].poll_event() {
            if let Event::LookupDone(r) = ev {
                self.done.insert((i, r.id), *r);
            }
        }
        self.schedule_timer(i);
    }
}
