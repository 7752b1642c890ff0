//! The options of `swarmlab sim` that describe one network and its lookups, and the
//! [`Scenario`] they make.

use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use swarmlab_dht::limits::Limits;
use swarmlab_dht::LookupKind;
use swarmlab_sim::experiment::{sim_node_config, Init, Scenario};
use swarmlab_sim::{Churn, Join, Latency, NetworkModel, RegionModel, Target};

/// How the network is built.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InitArg {
    /// Routing tables filled from global knowledge (any size).
    Global,
    /// Grown one join at a time through the protocol (up to some tens of thousands).
    Grown,
}

/// The network model.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum NetArg {
    /// Regions with SimBlock's 2019 RTT matrix and per-node access delays.
    Internet,
    /// One latency plus jitter for every datagram (--latency-ms, --jitter-ms).
    Lan,
}

/// What each lookup looks for.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TargetArg {
    /// A random id: the result is checked against the true k closest nodes.
    RandomId,
    /// A random node's id: that node must come first.
    RandomNode,
}

/// The lookup to run.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KindArg {
    /// find_node.
    FindNode,
    /// get_peers.
    GetPeers,
}

/// One simulated network and the lookups run on it.
#[derive(Args, Clone, Debug)]
pub struct ScenarioOpts {
    /// Nodes.
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    /// Seed: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How the network is built.
    #[arg(long, value_enum, default_value_t = InitArg::Global)]
    pub init: InitArg,
    /// How grown nodes and newcomers under churn join: first, or random:M.
    #[arg(long, default_value = "random:3", value_parser = parse_join)]
    pub join: Join,
    /// Simulated ms between two joins of a grown network.
    #[arg(long, default_value_t = 100)]
    pub gap_ms: u64,
    /// Tables filled from global knowledge are up to this old (s): spreads bucket
    /// refreshes over time.
    #[arg(long, default_value_t = 0)]
    pub age_s: u64,
    /// The network model.
    #[arg(long, value_enum, default_value_t = NetArg::Internet)]
    pub network: NetArg,
    /// One-way latency of the lan model (ms).
    #[arg(long, default_value_t = 20.0)]
    pub latency_ms: f64,
    /// Largest jitter of the lan model (ms).
    #[arg(long, default_value_t = 10.0)]
    pub jitter_ms: f64,
    /// Mean one-way access delay of the internet model (ms).
    #[arg(long, default_value_t = 5.0)]
    pub access_ms: f64,
    /// Probability that a datagram is lost.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Share of nodes behind a filtering NAT (they never answer a node they did not
    /// send to).
    #[arg(long, default_value_t = 0.0)]
    pub unreachable: f64,
    /// How long a NAT lets a peer in after sending to it (s).
    #[arg(long, default_value_t = 120)]
    pub nat_timeout_s: u64,
    /// Churn: Weibull scale of session lengths in minutes (0: no churn; Stutzbach
    /// and Rejaie's Debian fit is 42.4).
    #[arg(long, default_value_t = 0.0)]
    pub churn_scale_min: f64,
    /// Churn: Weibull shape of session lengths (0.38 in the Debian fit).
    #[arg(long, default_value_t = 0.38)]
    pub churn_shape: f64,
    /// Share of nodes that leave once the network is built, without replacement:
    /// dead contacts in every table.
    #[arg(long, default_value_t = 0.0)]
    pub dead: f64,
    /// Bucket size and lookup width.
    #[arg(short, long, default_value_t = 8)]
    pub k: usize,
    /// Requests a lookup keeps in flight.
    #[arg(long, default_value_t = 3)]
    pub alpha: usize,
    /// A request unanswered this long has failed (ms).
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
    /// A request unanswered this long stops holding a lookup slot (ms).
    #[arg(long, default_value_t = 500)]
    pub soft_timeout_ms: u64,
    /// Replacement-cache entries per bucket (8 on a real node).
    #[arg(long, default_value_t = 2)]
    pub cache: usize,
    /// Switch off the nodes' rate limits.
    #[arg(long)]
    pub no_limits: bool,
    /// Lookups to run.
    #[arg(long, default_value_t = 100)]
    pub lookups: usize,
    /// Simulated ms between two lookup starts.
    #[arg(long, default_value_t = 200)]
    pub interval_ms: u64,
    /// What each lookup looks for.
    #[arg(long, value_enum, default_value_t = TargetArg::RandomId)]
    pub target: TargetArg,
    /// The lookup.
    #[arg(long, value_enum, default_value_t = KindArg::FindNode)]
    pub kind: KindArg,
    /// Simulated seconds between the build (and the start of churn) and the first
    /// lookup.
    #[arg(long, default_value_t = 10)]
    pub warmup_s: u64,
    /// Simulated seconds to wait for the last lookups.
    #[arg(long, default_value_t = 600)]
    pub limit_s: u64,
}

fn parse_join(s: &str) -> Result<Join, String> {
    match s.split_once(':') {
        _ if s == "first" => Ok(Join::First),
        Some(("random", m)) => m
            .parse()
            .map(Join::Random)
            .map_err(|e| format!("random:M needs a number ({e})")),
        _ => Err(format!("first or random:M, not {s}")),
    }
}

fn ms(x: f64) -> Duration {
    Duration::from_secs_f64(x.max(0.0) / 1e3)
}

impl ScenarioOpts {
    /// The scenario these options describe.
    pub fn scenario(&self) -> Result<Scenario> {
        if self.nodes < 2 {
            bail!("--nodes needs at least 2");
        }
        let latency = match self.network {
            NetArg::Lan => Latency::Fixed {
                one_way: ms(self.latency_ms),
                jitter: ms(self.jitter_ms),
            },
            NetArg::Internet => Latency::Regions(RegionModel {
                access_ms: self.access_ms,
                ..RegionModel::simblock_2019()
            }),
        };
        let network = NetworkModel {
            latency,
            loss: self.loss,
            unreachable: self.unreachable,
            nat_timeout: Duration::from_secs(self.nat_timeout_s),
        };
        let mut node = sim_node_config();
        node.k = self.k.max(1);
        node.routing.k = node.k;
        node.alpha = self.alpha.max(1);
        node.request_timeout = Duration::from_millis(self.timeout_ms.max(1));
        node.soft_timeout = Duration::from_millis(self.soft_timeout_ms.max(1));
        node.routing.replacement_cache = self.cache;
        if self.no_limits {
            node.limits = Limits::unlimited();
        }
        let churn = (self.churn_scale_min > 0.0).then(|| Churn {
            shape: self.churn_shape,
            scale: Duration::from_secs_f64(self.churn_scale_min * 60.0),
            join: self.join,
            node: node.clone(),
        });
        Ok(Scenario {
            nodes: self.nodes,
            seed: self.seed,
            init: match self.init {
                InitArg::Global => Init::Global {
                    age: Duration::from_secs(self.age_s),
                },
                InitArg::Grown => Init::Grown {
                    join: self.join,
                    gap: Duration::from_millis(self.gap_ms),
                },
            },
            network,
            node,
            churn,
            dead: self.dead.clamp(0.0, 1.0),
            warmup: Duration::from_secs(self.warmup_s),
            lookups: self.lookups,
            interval: Duration::from_millis(self.interval_ms),
            target: match self.target {
                TargetArg::RandomId => Target::RandomId,
                TargetArg::RandomNode => Target::RandomNode,
            },
            kind: match self.kind {
                KindArg::FindNode => LookupKind::FindNode,
                KindArg::GetPeers => LookupKind::GetPeers,
            },
            limit: Duration::from_secs(self.limit_s),
        })
    }
}
