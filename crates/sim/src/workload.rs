//! Many lookups over time: each starts at its instant from its origin, runs
//! alongside the others (and alongside churn), and is recorded with what the
//! simulator knew when it started (the true closest nodes to its target).

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use swarmlab_dht::lookup::{LookupId, LookupKind, LookupResult};
use swarmlab_dht::Id;

use crate::engine::queue::Item;
use crate::Sim;

/// Where a lookup starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// From this node (skipped if it has left by then).
    Node(usize),
    /// From a live node picked at random when it starts.
    RandomAlive,
}

/// What a lookup looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// This id.
    Id(Id),
    /// A random id, drawn when it starts.
    RandomId,
    /// The id of a live node other than the origin, picked when it starts (a lookup
    /// that should find that very node first).
    RandomNode,
}

/// One lookup to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupSpec {
    /// When it starts, after the workload does.
    pub at: Duration,
    /// Where from.
    pub from: Origin,
    /// What for.
    pub target: Target,
    /// find_node, get_peers or announce.
    pub kind: LookupKind,
}

/// What became of one lookup.
#[derive(Debug, Clone, Serialize)]
pub struct LookupRecord {
    /// Its place in the workload.
    pub index: usize,
    /// Simulated time at which it started (from the start of the simulation).
    pub started: Duration,
    /// The node it ran on (`None`: it could not start, its origin had left).
    pub origin: Option<usize>,
    /// The id it looked for.
    pub target: Id,
    /// The node whose id it looked for ([`Target::RandomNode`]).
    pub target_node: Option<usize>,
    /// The true closest reachable live nodes to the target when it started, closest
    /// first (at most k; the origin is not one of them).
    pub truth: Vec<Id>,
    /// Live nodes when it started.
    pub alive: usize,
    /// Its result, if it ended within the limit.
    pub result: Option<LookupResult>,
}

/// A workload in progress.
#[derive(Debug)]
pub(crate) struct Workload {
    specs: Vec<LookupSpec>,
    k: usize,
    pub(crate) records: Vec<Option<LookupRecord>>,
    pub(crate) started: HashMap<(u32, LookupId), usize>,
    pub(crate) finished: usize,
    /// Lookups that could not start (their origin had left).
    skipped: usize,
}

impl Workload {
    pub(crate) fn finish(&mut self, j: usize, r: LookupResult, _now: u64) {
        if let Some(Some(rec)) = self.records.get_mut(j) {
            rec.result = Some(r);
            self.finished += 1;
        }
    }
}

impl Sim {
    /// Runs every lookup of `specs` (each starting `spec.at` from now), until all have
    /// ended or `limit` has passed since the last one started; `k` is how many true
    /// closest nodes each record keeps. `progress` gets (ended, total).
    pub fn run_lookups(
        &mut self,
        specs: &[LookupSpec],
        k: usize,
        limit: Duration,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Vec<LookupRecord> {
        let t0 = self.now;
        let mut last = t0;
        for (j, s) in specs.iter().enumerate() {
            let at = t0.saturating_add(s.at.as_nanos() as u64);
            last = last.max(at);
            self.queue.push(at, Item::Lookup(j as u32));
        }
        self.workload = Some(Workload {
            specs: specs.to_vec(),
            k,
            records: vec![None; specs.len()],
            started: HashMap::new(),
            finished: 0,
            skipped: 0,
        });
        let deadline = last.saturating_add(limit.as_nanos() as u64);
        let total = specs.len();
        let mut reported = usize::MAX;
        while let Some(w) = &self.workload {
            let (ended, all_started) = (w.finished + w.skipped, self.now >= last);
            if ended != reported {
                progress(ended, total);
                reported = ended;
            }
            if (all_started && ended >= total) || !self.step(deadline) {
                break;
            }
        }
        let w = self.workload.take().expect("the workload");
        // Lookups still running at the deadline keep running, but nobody waits for
        // them: their results go to `take_result`.
        w.records
            .into_iter()
            .enumerate()
            .map(|(j, r)| {
                r.unwrap_or(LookupRecord {
                    index: j,
                    started: Duration::from_nanos(self.now),
                    origin: None,
                    target: Id([0; 20]),
                    target_node: None,
                    truth: Vec::new(),
                    alive: self.alive(),
                    result: None,
                })
            })
            .collect()
    }

    pub(crate) fn on_workload_lookup(&mut self, j: usize) {
        let Some(spec) = self.workload.as_ref().and_then(|w| w.specs.get(j).copied()) else {
            return;
        };
        let k = self.workload.as_ref().map_or(8, |w| w.k);
        let origin = match spec.from {
            Origin::Node(i) => self.is_alive(i).then_some(i),
            Origin::RandomAlive => self.random_alive(1, None).first().copied(),
        };
        let (target, target_node) = match (spec.target, origin) {
            (Target::Id(id), _) => (id, None),
            (Target::RandomId, _) => (Id::random(&mut self.rng), None),
            (Target::RandomNode, Some(o)) => match self.random_other(o) {
                Some(t) => (self.node(t).id(), Some(t)),
                None => (Id::random(&mut self.rng), None),
            },
            (Target::RandomNode, None) => (Id::random(&mut self.rng), None),
        };
        // A node never returns itself: the origin is no part of what it should find.
        let truth: Vec<Id> = {
            let place = &self.place;
            let me = origin.map(|o| o as u32);
            self.truth
                .closest(&target, k, |n| !place[n as usize].nat && Some(n) != me)
                .into_iter()
                .map(|x| x.0)
                .collect()
        };
        let mut rec = LookupRecord {
            index: j,
            started: Duration::from_nanos(self.now),
            origin,
            target,
            target_node,
            truth,
            alive: self.alive(),
            result: None,
        };
        let lid = origin.and_then(|o| self.start_lookup(o, spec.kind, target));
        if lid.is_none() {
            rec.origin = None;
        }
        if let Some(w) = self.workload.as_mut() {
            match (origin, lid) {
                (Some(o), Some(lid)) => {
                    w.started.insert((o as u32, lid), j);
                }
                _ => w.skipped += 1,
            }
            w.records[j] = Some(rec);
        }
        // A lookup that ended at once (nothing to ask) reported through `done`.
        if let (Some(o), Some(lid)) = (origin, lid) {
            if let Some(r) = self.done.remove(&(o as u32, lid)) {
                if let Some(w) = self.workload.as_mut() {
                    w.started.remove(&(o as u32, lid));
                    w.finish(j, r, self.now);
                }
            }
        }
    }
}
