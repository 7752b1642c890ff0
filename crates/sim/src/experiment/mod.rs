//! Experiments: a [`Scenario`] describes one network and the lookups run on it;
//! [`run`] builds it, disturbs it, runs the lookups and returns one row per lookup;
//! [`Experiment::plan`] turns a base scenario into the series of an experiment (one
//! scenario per value of the parameter it varies). The binary (`swarmlab sim`) writes
//! the rows as CSV and draws the plots and tables.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`Scenario`], [`Init`], [`run`] |
//! | `catalog.rs` | [`Experiment`]: size, alpha, timeout, churn, faults, regimes, estimate, init |
//! | `regimes.rs` | the 2007 regime and the tuned one, and the steps between |
//! | `estimate.rs` | size-estimation rows from a run's lookups |

mod catalog;
mod estimate;
mod regimes;

use std::time::{Duration, Instant as Wall};

use serde::Serialize;
use swarmlab_dht::lookup::LookupKind;
use swarmlab_dht::routing::RoutingConfig;
use swarmlab_dht::NodeConfig;

use crate::churn::Churn;
use crate::engine::NetStats;
use crate::init::{GlobalKnowledge, Join};
use crate::measure::{rss, Labels, LookupRow, Rss};
use crate::network::NetworkModel;
use crate::workload::{LookupSpec, Origin, Target};
use crate::{Sim, SimConfig, SimError};

pub use catalog::{family, Experiment, Planned};
pub use estimate::{estimate_rows, EstimateRow, ESTIMATE_COLUMNS};
pub use regimes::{regime_steps, RegimeStep};

/// How the network is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Grown one join at a time, `gap` apart.
    Grown {
        /// How each node joins.
        join: Join,
        /// Simulated time between two arrivals.
        gap: Duration,
    },
    /// Tables filled from global knowledge, aged up to `age`.
    Global {
        /// See [`GlobalKnowledge::age`].
        age: Duration,
    },
}

/// One network and the lookups run on it.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Nodes.
    pub nodes: usize,
    /// Seed of the run.
    pub seed: u64,
    /// How the network is built.
    pub init: Init,
    /// The network model.
    pub network: NetworkModel,
    /// Every node's configuration (the seed is drawn per node).
    pub node: NodeConfig,
    /// Churn, started once the network is built.
    pub churn: Option<Churn>,
    /// Share of the nodes that leave silently once the network is built, without
    /// replacement: dead contacts in everyone's tables.
    pub dead: f64,
    /// Simulated time between the end of the build (and the start of churn) and the
    /// first lookup.
    pub warmup: Duration,
    /// Lookups to run.
    pub lookups: usize,
    /// Simulated time between two lookup starts.
    pub interval: Duration,
    /// What each lookup looks for.
    pub target: Target,
    /// find_node (default), get_peers or announce.
    pub kind: LookupKind,
    /// How long to wait for the last lookups after the last one started.
    pub limit: Duration,
}

/// A simulated node's configuration: the default node, with replacement caches of 2
/// entries instead of 8 (a million tables fit in memory; the caches only matter once
/// buckets are full and nodes fail).
pub fn sim_node_config() -> NodeConfig {
    NodeConfig {
        routing: RoutingConfig {
            replacement_cache: 2,
            ..RoutingConfig::default()
        },
        ..NodeConfig::default()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            nodes: 1000,
            seed: 1,
            init: Init::Global {
                age: Duration::ZERO,
            },
            network: NetworkModel::internet(),
            node: sim_node_config(),
            churn: None,
            dead: 0.0,
            warmup: Duration::from_secs(10),
            lookups: 100,
            interval: Duration::from_millis(200),
            target: Target::RandomId,
            kind: LookupKind::FindNode,
            limit: Duration::from_secs(600),
        }
    }
}

/// Where a run is, for a progress bar: (phase, done, total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Adding nodes (grown: joins).
    Build,
    /// Filling tables from global knowledge.
    Fill,
    /// Letting the network run before the lookups.
    Warmup,
    /// Running the lookups.
    Lookups,
}

/// What a run gave.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// One row per lookup.
    pub rows: Vec<LookupRow>,
    /// The records behind the rows (targets, truths, results).
    #[serde(skip)]
    pub records: Vec<crate::workload::LookupRecord>,
    /// Datagrams counted by the network.
    pub net: NetStats,
    /// Live nodes at the end.
    pub alive: usize,
    /// Reachable live nodes at the end (not behind a NAT).
    pub reachable: usize,
    /// Churn departures (each followed by an arrival).
    pub departures: u64,
    /// Mean routing-table size (nodes in buckets) of the live nodes at the end.
    pub mean_table: f64,
    /// The process's resident memory before the network was built.
    pub rss_before: Option<Rss>,
    /// …and once it was built and measured.
    pub rss_after: Option<Rss>,
    /// Simulated time of the run.
    pub sim_seconds: f64,
    /// Wall time of the run (machine-dependent: not a result).
    pub wall_seconds: f64,
}

impl Run {
    /// Growth of resident memory per node, in bytes (`None` without /proc).
    pub fn bytes_per_node(&self, nodes: usize) -> Option<f64> {
        let (a, b) = (self.rss_before?, self.rss_after?);
        Some(b.now.saturating_sub(a.now) as f64 / nodes.max(1) as f64)
    }
}

/// Builds the scenario's network, disturbs it, runs its lookups; `progress` gets
/// (phase, done, total).
pub fn run(
    s: &Scenario,
    labels: &Labels,
    progress: &mut dyn FnMut(Phase, usize, usize),
) -> Result<Run, SimError> {
    let wall = Wall::now();
    let rss_before = rss();
    let mut sim = Sim::new(SimConfig {
        seed: s.seed,
        network: s.network.clone(),
    })?;
    match s.init {
        Init::Grown { join, gap } => {
            sim.grow_with(s.nodes, &s.node, join, gap, &mut |d| {
                progress(Phase::Build, d, s.nodes)
            })?;
        }
        Init::Global { age } => {
            sim.populate(s.nodes, &s.node, &mut |d| {
                progress(Phase::Build, d, s.nodes)
            })?;
            if !age.is_zero() {
                sim.run_for(age);
            }
            sim.fill_from_global_knowledge(GlobalKnowledge { age }, &mut |d| {
                progress(Phase::Fill, d, s.nodes)
            });
        }
    }
    if s.dead > 0.0 {
        sim.remove_nodes(s.dead);
    }
    if let Some(c) = &s.churn {
        sim.start_churn(c.clone())?;
    }
    let warm = s.warmup.as_secs().max(1) as usize;
    for sec in 0..warm {
        sim.run_for(s.warmup / warm as u32);
        progress(Phase::Warmup, sec + 1, warm);
    }
    let specs: Vec<LookupSpec> = (0..s.lookups)
        .map(|j| LookupSpec {
            at: s.interval * j as u32,
            from: Origin::RandomAlive,
            target: s.target,
            kind: s.kind,
        })
        .collect();
    let k = s.node.k;
    let records = sim.run_lookups(&specs, k, s.limit, &mut |d, t| {
        progress(Phase::Lookups, d, t)
    });
    let rows = records
        .iter()
        .map(|r| LookupRow::from_record(labels, r))
        .collect();
    let alive = sim.alive();
    let reachable = sim
        .alive_nodes()
        .iter()
        .filter(|&&i| sim.reachable(i as usize))
        .count();
    let mean_table = sim
        .alive_nodes()
        .iter()
        .map(|&i| sim.node(i as usize).table().len() as f64)
        .sum::<f64>()
        / alive.max(1) as f64;
    let rss_after = rss();
    Ok(Run {
        rows,
        records,
        net: sim.stats(),
        alive,
        reachable,
        departures: sim.departures(),
        mean_table,
        rss_before,
        rss_after,
        sim_seconds: sim.elapsed().as_secs_f64(),
        wall_seconds: wall.elapsed().as_secs_f64(),
    })
}
