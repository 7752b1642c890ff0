//! The node tests' network: a few [`Node`]s in simulated time with latency, jitter and
//! loss, deterministic for a seed. A test harness only: the simulator of record, with
//! its network model, churn and experiments, is the `swarmlab-sim` crate (which
//! depends on this one, so this crate's unit tests cannot use it).
//!
//! Each node gets its own IPv4 address (10.x.y.z:6881). Datagrams are delivered after
//! `latency ± jitter` unless lost; timers fire when nodes ask. A test may call a node
//! directly ([`Sim::node_mut`]): every run re-reads every node's datagrams and timer
//! first.

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
pub(crate) struct SimConfig {
    /// One-way delay.
    pub latency: Duration,
    /// Uniform extra delay in `0..jitter`.
    pub jitter: Duration,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Seed of the simulation's RNG: loss, jitter, bootstrap choices, and the seeds of
    /// the nodes that do not bring their own.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(10),
            loss: 0.0,
            seed: 1,
        }
    }
}

/// What is due at some instant (small, so the queue moves little memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// Deliver the datagram in this slot of `Sim::flight`.
    Datagram(u32),
    /// Node `i` asked to be woken.
    Timer(u32),
}

/// A datagram on its way: from node `from` to node `to`.
struct InFlight {
    to: u32,
    from: u32,
    payload: Vec<u8>,
}

/// The simulated network.
pub(crate) struct Sim {
    cfg: SimConfig,
    now: Instant,
    nodes: Vec<Node>,
    addrs: Vec<SocketAddr>,
    queue: BinaryHeap<Reverse<(Instant, u64, Item)>>,
    /// Datagrams in flight (slots of `Item::Datagram`), and the free slots.
    flight: Vec<Option<InFlight>>,
    free: Vec<u32>,
    seq: u64,
    rng: StdRng,
    /// Finished lookups by (node, lookup id).
    done: HashMap<(usize, LookupId), LookupResult>,
    /// The timer of each node that is in the queue (earlier ones replace later ones).
    timers: Vec<Option<Instant>>,
    /// Datagrams sent by the nodes (lost ones included).
    pub sent: u64,
    /// Datagrams lost (to `loss`, or sent to an address where no node is).
    pub lost: u64,
}

/// The simulated address of node `i`.
pub fn sim_addr(i: usize) -> SocketAddr {
    let i = i as u32 + 1;
    SocketAddr::from((Ipv4Addr::from(0x0a00_0000 | i), 6881))
}

/// The node index of a simulated address (the inverse of [`sim_addr`]).
pub fn sim_index(addr: SocketAddr) -> Option<usize> {
    match addr {
        SocketAddr::V4(a) if a.port() == 6881 => {
            let ip = u32::from(*a.ip());
            (ip >> 24 == 10 && ip & 0x00ff_ffff != 0).then(|| (ip & 0x00ff_ffff) as usize - 1)
        }
        _ => None,
    }
}

impl Sim {
    /// An empty network with these conditions.
    pub fn new(cfg: SimConfig) -> Sim {
        let now = Instant::now();
        Sim {
            cfg,
            now,
            nodes: Vec::new(),
            addrs: Vec::new(),
            queue: BinaryHeap::new(),
            flight: Vec::new(),
            free: Vec::new(),
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

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i` (panics when there is none: `i` comes from [`Sim::add_node`]).
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// Node `i`, to call it directly (then let [`Sim::run_for`] move its datagrams).
    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }

    /// Node `i`'s address ([`sim_addr`]`(i)`).
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// Adds a node; returns its index. A node without a seed gets one from the
    /// simulation's RNG (so every node has an id of its own).
    pub fn add_node(&mut self, mut cfg: NodeConfig) -> Result<usize, ConfigError> {
        if cfg.seed == 0 {
            cfg.seed = self.rng.gen();
        }
        let node = Node::new(self.now, cfg)?;
        let i = self.nodes.len();
        self.nodes.push(node);
        self.addrs.push(sim_addr(i));
        self.timers.push(None);
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

    /// The result of node `i`'s lookup `lid` (started with [`Sim::start_lookup`] or
    /// directly on [`Sim::node_mut`]), once it has ended; each result is given once.
    pub fn take_result(&mut self, i: usize, lid: LookupId) -> Option<LookupResult> {
        self.done.remove(&(i, lid))
    }

    /// Runs until node `i`'s lookup ends (or `limit` of simulated time passes).
    pub fn run_lookup(
        &mut self,
        i: usize,
        kind: LookupKind,
        target: Id,
        limit: Duration,
    ) -> Option<LookupResult> {
        let lid = self.start_lookup(i, kind, target)?;
        self.flush_all();
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
        self.flush_all();
        let until = self.now + d;
        while self.step(until) {}
        self.now = self.now.max(until);
    }

    /// Processes the next item due no later than `until`; false when there is none.
    fn step(&mut self, until: Instant) -> bool {
        let Some(Reverse((t, _, _))) = self.queue.peek() else {
            return false;
        };
        if *t > until {
            return false;
        }
        let Some(Reverse((t, _, item))) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(t);
        let now = self.now;
        match item {
            Item::Datagram(slot) => {
                let Some(d) = self.flight[slot as usize].take() else {
                    return true;
                };
                self.free.push(slot);
                let (to, from) = (d.to as usize, self.addrs[d.from as usize]);
                self.nodes[to].handle(now, from, &d.payload);
                self.flush(to);
            }
            Item::Timer(i) => {
                let i = i as usize;
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

    /// Re-reads every node's datagrams, events and timer (a test may have called
    /// nodes directly).
    fn flush_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.flush(i);
        }
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
                self.push(t, Item::Timer(i as u32));
            }
        }
    }

    /// Moves node `i`'s datagrams onto the network and collects its events.
    fn flush(&mut self, i: usize) {
        while let Some(tx) = self.nodes[i].poll_transmit() {
            self.sent += 1;
            if self.cfg.loss > 0.0 && self.rng.gen_bool(self.cfg.loss.min(1.0)) {
                self.lost += 1;
                continue;
            }
            let Some(to) = sim_index(tx.to).filter(|&j| j < self.nodes.len()) else {
                self.lost += 1;
                continue;
            };
            let jitter = if self.cfg.jitter.is_zero() {
                Duration::ZERO
            } else {
                self.cfg.jitter.mul_f64(self.rng.gen::<f64>())
            };
            let at = self.now + self.cfg.latency + jitter;
            let d = InFlight {
                to: to as u32,
                from: i as u32,
                payload: tx.payload,
            };
            let slot = match self.free.pop() {
                Some(s) => {
                    self.flight[s as usize] = Some(d);
                    s
                }
                None => {
                    self.flight.push(Some(d));
                    (self.flight.len() - 1) as u32
                }
            };
            self.push(at, Item::Datagram(slot));
        }
        while let Some(ev) = self.nodes[i].poll_event() {
            if let Event::LookupDone(r) = ev {
                self.done.insert((i, r.id), *r);
            }
        }
        self.schedule_timer(i);
    }
}
