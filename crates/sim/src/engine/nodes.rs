//! Nodes arriving and leaving: a new node gets an id of its own, a place in the
//! network and an address; a node that leaves is dropped silently (its address goes
//! dead, other tables keep it until they notice).

use std::time::Duration;

use rand::seq::index::sample;
use rand::Rng;
use swarmlab_dht::{Node, NodeConfig};

use super::{Sim, NO_TIMER};
use crate::addr::{sim_addr, MAX_NODES};
use crate::SimError;

impl Sim {
    /// Adds a node; returns its index. Every node gets an id of its own, whatever the
    /// configuration says:
    ///
    /// * `cfg.seed == 0`: the node's seed is drawn from the simulation's RNG;
    /// * a seed whose id another node already has (one `cfg` reused for every node,
    ///   with a fixed non-zero seed) is replaced by one drawn from the simulation's RNG,
    ///   until the id is new;
    /// * `cfg.id` naming an id already in the simulation is refused
    ///   ([`SimError::DuplicateId`]).
    ///
    /// Without this, nodes sharing an id refuse each other from their routing tables
    /// and the network never forms.
    pub fn add_node(&mut self, mut cfg: NodeConfig) -> Result<usize, SimError> {
        if let Some(id) = cfg.id.filter(|id| self.ids.contains(id)) {
            return Err(SimError::DuplicateId(id));
        }
        if self.nodes.len() >= MAX_NODES {
            return Err(SimError::TooManyNodes(MAX_NODES));
        }
        if cfg.seed == 0 {
            cfg.seed = self.rng.gen();
        }
        let now = self.now();
        let node = loop {
            let node = Node::new(now, cfg.clone())?;
            if !self.ids.contains(&node.id()) {
                break node;
            }
            cfg.seed = self.rng.gen();
        };
        let i = self.nodes.len();
        self.ids.insert(node.id());
        self.truth.insert(node.id(), i as u32);
        self.alive_pos.push(self.alive.len() as u32);
        self.alive.push(i as u32);
        let place = self.cfg.network.place(&mut self.rng);
        self.nodes.push(Some(node));
        self.place.push(place);
        self.timers.push(NO_TIMER);
        self.flush(i);
        Ok(i)
    }

    /// Node `i` joins through the nodes `via` (a bootstrap of their addresses).
    pub fn bootstrap(&mut self, i: usize, via: &[usize]) {
        let addrs = via.iter().map(|&j| sim_addr(j)).collect();
        let now = self.now();
        if let Some(n) = self.nodes[i].as_mut() {
            n.bootstrap(now, addrs);
        }
        self.flush(i);
    }

    /// `m` distinct live nodes other than `not`, at random (fewer if there are not
    /// that many).
    pub fn random_alive(&mut self, m: usize, not: Option<usize>) -> Vec<usize> {
        let pool = self.alive.len();
        // One more than asked: at most one of them is `not`.
        let draw = (m + usize::from(not.is_some())).min(pool);
        let mut out: Vec<usize> = sample(&mut self.rng, pool, draw)
            .into_iter()
            .map(|k| self.alive[k] as usize)
            .filter(|&j| Some(j) != not)
            .collect();
        out.truncate(m);
        out
    }

    /// A random live node other than `not` (`None` when there is none).
    pub fn random_other(&mut self, not: usize) -> Option<usize> {
        self.random_alive(1, Some(not)).first().copied()
    }

    /// Node `i` leaves silently: it is dropped, datagrams to it go nowhere, and the
    /// nodes that hold it in their tables keep it until it fails to answer them.
    pub fn remove_node(&mut self, i: usize) -> bool {
        let Some(node) = self.nodes.get_mut(i).and_then(Option::take) else {
            return false;
        };
        self.truth.remove(&node.id());
        let pos = self.alive_pos[i] as usize;
        self.alive.swap_remove(pos);
        if let Some(&moved) = self.alive.get(pos) {
            self.alive_pos[moved as usize] = pos as u32;
        }
        self.alive_pos[i] = u32::MAX;
        self.timers[i] = NO_TIMER;
        self.nat.forget(i as u32);
        true
    }

    /// A share `fraction` of the live nodes, at random, leave silently and are not
    /// replaced: they stay in the other nodes' tables as dead contacts (the tables of
    /// a network whose nodes left without the others refreshing). Returns how many.
    pub fn remove_nodes(&mut self, fraction: f64) -> usize {
        let n = (self.alive.len() as f64 * fraction.clamp(0.0, 1.0)).round() as usize;
        let chosen: Vec<usize> = sample(&mut self.rng, self.alive.len(), n)
            .into_iter()
            .map(|k| self.alive[k] as usize)
            .collect();
        chosen.into_iter().filter(|&i| self.remove_node(i)).count()
    }

    /// Grows the network by `n` nodes, one at a time: each is added with `cfg`, joins
    /// as `join` says, and the network runs for `gap` before the next one arrives.
    pub fn grow(
        &mut self,
        n: usize,
        cfg: &NodeConfig,
        join: crate::init::Join,
        gap: Duration,
    ) -> Result<(), SimError> {
        self.grow_with(n, cfg, join, gap, &mut |_| {})
    }

    /// [`Sim::grow`], calling `progress` with the number of nodes added so far.
    pub fn grow_with(
        &mut self,
        n: usize,
        cfg: &NodeConfig,
        join: crate::init::Join,
        gap: Duration,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(), SimError> {
        for added in 0..n {
            let i = self.add_node(cfg.clone())?;
            self.join(i, join);
            self.run_for(gap);
            progress(added + 1);
        }
        Ok(())
    }

    /// Node `i` joins as `join` says (nothing when it is the only live node).
    pub(crate) fn join(&mut self, i: usize, join: crate::init::Join) {
        if self.alive.len() < 2 {
            return;
        }
        let via = match join {
            crate::init::Join::First => {
                let first = self.alive.iter().map(|&j| j as usize).find(|&j| j != i);
                first.into_iter().collect()
            }
            crate::init::Join::Random(m) => self.random_alive(m.max(1), Some(i)),
        };
        self.bootstrap(i, &via);
    }
}
