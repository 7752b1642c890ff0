//! Initialisers: how a network comes to be before it is measured.
//!
//! * **Grown** ([`Sim::grow`]): nodes arrive one at a time and join through the
//!   protocol itself (a bootstrap lookup of their own id, then one lookup per far
//!   bucket), [`Join::First`] through one well-known node or [`Join::Random`] through
//!   a few random live nodes. Faithful, and the cost of a join grows with the
//!   network: practical up to some tens of thousands of nodes.
//! * **From global knowledge** ([`Sim::populate`] then
//!   [`Sim::fill_from_global_knowledge`]), as PeerSim's initialisers do: every node's
//!   routing table is filled directly with what the protocol would converge to. The
//!   simulator knows every live id (sorted, `truth.rs`); for each node and each
//!   bucket depth `b` (the nodes sharing exactly `b` leading bits with it), up to k
//!   of those nodes, chosen at random, are given to the node's table as if each had
//!   just answered it ([`Node::add_verified_node`](swarmlab_dht::Node::add_verified_node)),
//!   deepest buckets included, until no other node shares a longer prefix. The
//!   table's own insertion code places them (splits, one entry per IP), so a filled
//!   table is one the table itself accepts. Nothing is sent. The network then runs
//!   as any other: lookups, pings, refreshes, churn.
//!
//!   With `age` > 0 each node's table gets an age drawn uniformly in `[0, age)`
//!   (its entries were last heard from that long ago), so that bucket refreshes and
//!   good nodes turning questionable are spread over time as in a network that has
//!   run for a while, instead of all falling due at the same instant.
//!
//! `docs/dht-simulation.md` compares lookups on a filled network with lookups on a
//! grown one of the same size (and `tests/init.rs` does at a smaller size).

use std::time::Duration;

use rand::seq::index::sample;
use rand::Rng;
use swarmlab_dht::{Id, NodeConfig};

use crate::addr::sim_addr;
use crate::{Sim, SimError};

/// How a node added by [`Sim::grow`] (or arriving under churn) finds the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Bootstraps from the first live node (how real networks grow: one well-known
    /// router).
    First,
    /// Bootstraps from this many distinct live nodes picked at random.
    Random(usize),
}

/// Options of [`Sim::fill_from_global_knowledge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GlobalKnowledge {
    /// Each table's age is drawn in `[0, age)` (see the module docs); the simulation
    /// must have run at least that long since the nodes were added.
    pub age: Duration,
}

/// `id` with bit `b` flipped.
fn flip(id: &Id, b: usize) -> Id {
    let mut out = *id;
    out.0[b / 8] ^= 0x80 >> (b % 8);
    out
}

impl Sim {
    /// Adds `n` nodes with `cfg` that know nobody and send nothing (fill their
    /// tables with [`Sim::fill_from_global_knowledge`]).
    pub fn populate(
        &mut self,
        n: usize,
        cfg: &NodeConfig,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(), SimError> {
        for added in 0..n {
            self.add_node(cfg.clone())?;
            if added % 1024 == 1023 {
                progress(added + 1);
            }
        }
        progress(n);
        Ok(())
    }

    /// Fills every live node's routing table from global knowledge (see the module
    /// docs); `progress` gets the number of tables filled so far.
    pub fn fill_from_global_knowledge(
        &mut self,
        g: GlobalKnowledge,
        progress: &mut dyn FnMut(usize),
    ) {
        let now = self.now();
        let nodes: Vec<u32> = {
            let mut v = self.alive_nodes().to_vec();
            v.sort_unstable();
            v
        };
        let mut picks: Vec<(Id, u32)> = Vec::new();
        for (done, &x) in nodes.iter().enumerate() {
            let x = x as usize;
            let (id, k) = {
                let n = self.node(x);
                (n.id(), n.table().config().k)
            };
            let at = if g.age.is_zero() {
                now
            } else {
                let age = g.age.mul_f64(self.rng.gen::<f64>());
                now.checked_sub(age).unwrap_or(now).max(self.start)
            };
            picks.clear();
            for b in 0..160 {
                let run = self.truth.with_prefix(&flip(&id, b), b + 1);
                if run.len() <= k {
                    picks.extend_from_slice(run);
                } else {
                    for i in sample(&mut self.rng, run.len(), k).into_iter() {
                        picks.push(run[i]);
                    }
                }
                if self.truth.with_prefix(&id, b + 1).len() <= 1 {
                    break;
                }
            }
            if let Some(node) = self.nodes[x].as_mut() {
                for &(pid, j) in &picks {
                    node.add_verified_node(at, pid, sim_addr(j as usize));
                }
            }
            self.flush(x);
            if done % 1024 == 1023 {
                progress(done + 1);
            }
        }
        progress(nodes.len());
    }
}
