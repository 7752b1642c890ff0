//! The discrete-event loop: many real [`Node`]s in one process, in simulated time.
//!
//! Every node is the same `swarmlab_dht::Node` that runs on UDP: it encodes its
//! datagrams, the simulator moves the bytes through the network model, the receiver
//! decodes them. Time is a number of nanoseconds since the start; nothing sleeps.
//! One priority queue holds everything due (datagrams, the wake-up each node asked
//! for, departures, lookups to start), ordered by time and then by the order they were
//! scheduled, and every random choice comes from one seeded RNG: the same seed gives
//! the same run, to the nanosecond.
//!
//! A node that has nothing to do costs nothing: it is woken only at the instant its
//! `poll_timeout` names (the node sleeps until its next bucket refresh when idle).
//!
//! # Method families, in the order a program calls them
//! 1. **Build** ([`Sim::new`] with a [`SimConfig`]), then add nodes: one at a time
//!    ([`Sim::add_node`], `nodes.rs`), grown through the protocol's own joins
//!    ([`Sim::grow`]), or placed and given tables filled from global knowledge
//!    ([`Sim::populate`], [`Sim::fill_from_global_knowledge`], `crate::init`).
//! 2. **Disturb** it: [`Sim::start_churn`] (`crate::churn`), [`Sim::remove_nodes`]
//!    (nodes that leave silently and stay in the tables as dead contacts).
//! 3. **Run**: [`Sim::run_for`] (`run.rs`), or lookups: [`Sim::run_lookup`] one at a
//!    time, [`Sim::run_lookups`] many over time (`crate::workload`).
//! 4. **Look**: [`Sim::node`], [`Sim::truth`] (the true closest nodes),
//!    [`Sim::table_presence`], [`Sim::stats`].

mod nodes;
pub(crate) mod queue;
mod run;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use swarmlab_dht::lookup::{LookupId, LookupKind, LookupResult};
use swarmlab_dht::routing::NodeState;
use swarmlab_dht::{Id, Node};

use crate::addr::{sim_addr, sim_index};
use crate::churn::ChurnState;
use crate::network::{Nat, NetworkModel, Place};
use crate::truth::Truth;
use crate::workload::Workload;
use crate::SimError;
use queue::Queue;

pub use run::NO_TIMER;

/// How a simulation runs: its seed and its network.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed of the simulation's RNG: placement, delays, loss, bootstrap choices,
    /// churn, and the seeds of the nodes that do not bring their own.
    pub seed: u64,
    /// The network model.
    pub network: NetworkModel,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            network: NetworkModel::lan(),
        }
    }
}

/// Datagrams counted by the network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NetStats {
    /// Datagrams the nodes sent.
    pub sent: u64,
    /// Delivered to a live node.
    pub delivered: u64,
    /// Lost to the loss model.
    pub lost: u64,
    /// Sent to an address where no node is (or where a node has left).
    pub to_nobody: u64,
    /// Dropped by a NAT (an unsolicited datagram to an unreachable node).
    pub filtered: u64,
}

/// The simulated network.
pub struct Sim {
    pub(crate) cfg: SimConfig,
    pub(crate) start: Instant,
    /// Nanoseconds since `start`.
    pub(crate) now: u64,
    /// Every node ever added; `None` once it has left.
    pub(crate) nodes: Vec<Option<Node>>,
    pub(crate) place: Vec<Place>,
    /// The wake-up of each node that is in the queue ([`NO_TIMER`]: none).
    pub(crate) timers: Vec<u64>,
    pub(crate) queue: Queue,
    pub(crate) rng: StdRng,
    /// Finished lookups by (node, lookup id), until taken.
    pub(crate) done: HashMap<(u32, LookupId), LookupResult>,
    /// Every id given so far: no two nodes may share one.
    pub(crate) ids: HashSet<Id>,
    /// The live nodes, sorted by id.
    pub(crate) truth: Truth,
    /// The live nodes in no order, and where each is in that list.
    pub(crate) alive: Vec<u32>,
    pub(crate) alive_pos: Vec<u32>,
    pub(crate) nat: Nat,
    /// Nodes a caller reached directly through [`Sim::node_mut`]: flushed first.
    pub(crate) touched: Vec<u32>,
    pub(crate) churn: Option<ChurnState>,
    pub(crate) workload: Option<Workload>,
    pub(crate) stats: NetStats,
}

impl Sim {
    /// An empty network (refused when the network model cannot work).
    pub fn new(cfg: SimConfig) -> Result<Sim, SimError> {
        cfg.network.validate()?;
        let nat = Nat::new(cfg.network.nat_timeout.as_nanos() as u64);
        Ok(Sim {
            rng: StdRng::seed_from_u64(cfg.seed),
            cfg,
            start: Instant::now(),
            now: 0,
            nodes: Vec::new(),
            place: Vec::new(),
            timers: Vec::new(),
            queue: Queue::default(),
            done: HashMap::new(),
            ids: HashSet::new(),
            truth: Truth::default(),
            alive: Vec::new(),
            alive_pos: Vec::new(),
            nat,
            touched: Vec::new(),
            churn: None,
            workload: None,
            stats: NetStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The simulated clock.
    pub fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.now)
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.now)
    }

    /// Nodes ever added (live or gone): indices run from 0 to `len() - 1`.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True before the first node is added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Live nodes.
    pub fn alive(&self) -> usize {
        self.alive.len()
    }

    /// The live nodes, in no particular order.
    pub fn alive_nodes(&self) -> &[u32] {
        &self.alive
    }

    /// Whether node `i` is live.
    pub fn is_alive(&self, i: usize) -> bool {
        self.nodes.get(i).is_some_and(Option::is_some)
    }

    /// Live node `i` (panics when it has left or never was: `i` comes from
    /// [`Sim::add_node`] and the caller checks [`Sim::is_alive`] under churn).
    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("a live node")
    }

    /// Live node `i`, to call it directly; what it sends is moved at the next run.
    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        self.touched.push(i as u32);
        self.nodes[i].as_mut().expect("a live node")
    }

    /// Node `i`'s address ([`sim_addr`]`(i)`).
    pub fn addr(&self, i: usize) -> SocketAddr {
        sim_addr(i)
    }

    /// Where node `i` lives.
    pub fn place(&self, i: usize) -> Place {
        self.place[i]
    }

    /// The live nodes sorted by id: the true closest nodes to any target.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Whether node `i` can be reached by a node it has not sent to (not behind a
    /// NAT).
    pub fn reachable(&self, i: usize) -> bool {
        !self.place[i].nat
    }

    /// The datagrams counted so far.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Items waiting in the event queue (datagrams, wake-ups, departures, lookups).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// For each node, how many *other* live nodes hold it in a routing-table bucket
    /// as a verified node (good or questionable: it answered their query). A live
    /// node with 0 is in nobody's table and cannot be found by a lookup.
    pub fn table_presence(&self) -> Vec<usize> {
        let now = self.now();
        let mut count = vec![0usize; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            for e in node.table().entries(now) {
                if !matches!(e.state, NodeState::Good | NodeState::Questionable) {
                    continue;
                }
                if let Some(j) = sim_index(e.addr).filter(|&j| j != i && j < count.len()) {
                    if self.nodes[j].as_ref().is_some_and(|n| n.id() == e.id) {
                        count[j] += 1;
                    }
                }
            }
        }
        count
    }

    /// Starts a lookup on live node `i`; its result comes through
    /// [`Sim::take_result`] once it ends.
    pub fn start_lookup(&mut self, i: usize, kind: LookupKind, target: Id) -> Option<LookupId> {
        let now = self.now();
        let lid = self
            .nodes
            .get_mut(i)?
            .as_mut()?
            .start_lookup(now, kind, target)
            .ok()?;
        self.flush(i);
        Some(lid)
    }

    /// The result of node `i`'s lookup `lid` (started with [`Sim::start_lookup`] or
    /// directly on [`Sim::node_mut`]), once it has ended; each result is given once.
    pub fn take_result(&mut self, i: usize, lid: LookupId) -> Option<LookupResult> {
        self.done.remove(&(i as u32, lid))
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
        let deadline = self.now.saturating_add(limit.as_nanos() as u64);
        while self.now <= deadline {
            if let Some(r) = self.done.remove(&(i as u32, lid)) {
                return Some(r);
            }
            if !self.step(deadline) {
                break;
            }
        }
        self.done.remove(&(i as u32, lid))
    }
}
