//! The experiments, each a list of scenarios that differ in one parameter.
//!
//! | experiment | varies | default values |
//! |---|---|---|
//! | `size` | nodes | 1,000, 10,000, 100,000, 1,000,000 |
//! | `alpha` | requests in flight per lookup (α) | 1, 2, 3, 4, 8 |
//! | `timeout` | the soft timeout (ms; the hard one is at least as long) | 125, 250, 500, 1000, 2000 |
//! | `churn` | the Weibull scale λ of sessions (min; 0: no churn), shape 0.38 | 0, 60, 30, 10, 3 |
//! | `faults` | loss (series `loss=…`), then the share of unreachable nodes (`unreachable=…`) | 0, 0.05, 0.1, 0.2 / 0.25, 0.5 |
//! | `regimes` | the 2007 regime, the tuned one, and one change at a time | `regimes.rs` |
//! | `estimate` | nodes (rows: one size estimate per group of lookups) | 1,000, 10,000, 100,000 |
//! | `init` | nodes, each filled from global knowledge and grown | 2,000, 5,000, 20,000 |
//!
//! A series is named `family=value` (`nodes=10000`, `loss=0.1`, `grown,nodes=2000`);
//! plots draw one line per family.

use std::time::Duration;

use super::regimes::regime_steps;
use super::{Init, Scenario};
use crate::churn::Churn;
use crate::init::Join;

/// An experiment of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Experiment {
    /// Lookups against network size.
    Size,
    /// The α sweep.
    Alpha,
    /// The soft-timeout sweep.
    Timeout,
    /// Success and cost against churn.
    Churn,
    /// Loss and unreachable nodes.
    Faults,
    /// The two published regimes and the steps between them.
    Regimes,
    /// Size estimation accuracy.
    Estimate,
    /// Tables from global knowledge against a grown network.
    Init,
}

/// One scenario of an experiment.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The series' name (`family=value`).
    pub series: String,
    /// The parameter's value.
    pub param: f64,
    /// The scenario.
    pub scenario: Scenario,
}

impl Experiment {
    /// Every experiment.
    pub const ALL: [Experiment; 8] = [
        Experiment::Size,
        Experiment::Alpha,
        Experiment::Timeout,
        Experiment::Churn,
        Experiment::Faults,
        Experiment::Regimes,
        Experiment::Estimate,
        Experiment::Init,
    ];

    /// Its name on the command line and in the CSV.
    pub fn name(&self) -> &'static str {
        match self {
            Experiment::Size => "size",
            Experiment::Alpha => "alpha",
            Experiment::Timeout => "timeout",
            Experiment::Churn => "churn",
            Experiment::Faults => "faults",
            Experiment::Regimes => "regimes",
            Experiment::Estimate => "estimate",
            Experiment::Init => "init",
        }
    }

    /// The experiment of that name.
    pub fn from_name(s: &str) -> Option<Experiment> {
        Experiment::ALL.into_iter().find(|e| e.name() == s)
    }

    /// What its parameter is (the x axis of its plots).
    pub fn parameter(&self) -> &'static str {
        match self {
            Experiment::Size | Experiment::Estimate | Experiment::Init => "nodes",
            Experiment::Alpha => "alpha (requests in flight)",
            Experiment::Timeout => "soft timeout (ms)",
            Experiment::Churn => "Weibull scale of sessions (min, 0 = no churn)",
            Experiment::Faults => "loss / unreachable share",
            Experiment::Regimes => "step",
        }
    }

    /// The values it runs when none are given.
    pub fn default_values(&self) -> Vec<f64> {
        match self {
            Experiment::Size => vec![1e3, 1e4, 1e5, 1e6],
            Experiment::Alpha => vec![1.0, 2.0, 3.0, 4.0, 8.0],
            Experiment::Timeout => vec![125.0, 250.0, 500.0, 1000.0, 2000.0],
            Experiment::Churn => vec![0.0, 60.0, 30.0, 10.0, 3.0],
            Experiment::Faults => vec![0.0, 0.05, 0.1, 0.2],
            Experiment::Regimes => Vec::new(),
            Experiment::Estimate => vec![1e3, 1e4, 1e5],
            Experiment::Init => vec![2e3, 5e3, 2e4],
        }
    }

    /// The scenarios: `base` with the parameter set to each of `values` (the
    /// defaults when empty).
    pub fn plan(&self, base: &Scenario, values: &[f64]) -> Vec<Planned> {
        let values = if values.is_empty() {
            self.default_values()
        } else {
            values.to_vec()
        };
        let one = |series: String, param: f64, s: Scenario| Planned {
            series,
            param,
            scenario: s,
        };
        match self {
            Experiment::Size | Experiment::Estimate => values
                .iter()
                .map(|&v| {
                    let mut s = base.clone();
                    s.nodes = v as usize;
                    one(format!("nodes={}", v as usize), v, s)
                })
                .collect(),
            Experiment::Alpha => values
                .iter()
                .map(|&v| {
                    let mut s = base.clone();
                    s.node.alpha = (v as usize).max(1);
                    one(format!("alpha={}", s.node.alpha), v, s)
                })
                .collect(),
            Experiment::Timeout => values
                .iter()
                .map(|&v| {
                    let mut s = base.clone();
                    s.node.soft_timeout = Duration::from_secs_f64(v.max(1.0) / 1e3);
                    s.node.request_timeout = s.node.request_timeout.max(s.node.soft_timeout);
                    one(format!("soft_ms={}", v as u64), v, s)
                })
                .collect(),
            Experiment::Churn => values
                .iter()
                .map(|&v| {
                    let mut s = base.clone();
                    if v > 0.0 {
                        let mut c = Churn::debian(s.node.clone());
                        c.scale = Duration::from_secs_f64(v * 60.0);
                        s.churn = Some(c);
                    } else {
                        s.churn = None;
                    }
                    one(format!("scale_min={v}"), v, s)
                })
                .collect(),
            Experiment::Faults => {
                let mut out: Vec<Planned> = values
                    .iter()
                    .map(|&v| {
                        let mut s = base.clone();
                        s.network.loss = v.clamp(0.0, 1.0);
                        one(format!("loss={v}"), v, s)
                    })
                    .collect();
                for u in [0.25, 0.5] {
                    let mut s = base.clone();
                    s.network.unreachable = u;
                    out.push(one(format!("unreachable={u}"), u, s));
                }
                out
            }
            Experiment::Regimes => regime_steps()
                .into_iter()
                .enumerate()
                .map(|(i, step)| {
                    let mut s = base.clone();
                    step.apply(&mut s);
                    one(step.name.to_string(), i as f64, s)
                })
                .collect(),
            Experiment::Init => values
                .iter()
                .flat_map(|&v| {
                    let mut g = base.clone();
                    g.nodes = v as usize;
                    g.init = Init::Global {
                        age: Duration::ZERO,
                    };
                    let mut grown = g.clone();
                    grown.init = Init::Grown {
                        join: Join::Random(3),
                        gap: Duration::from_millis(100),
                    };
                    // Both networks run the same time before their lookups: the grown
                    // one's last joins settle, the filled one idles.
                    let settle = Duration::from_secs(120);
                    g.warmup = g.warmup.max(settle);
                    grown.warmup = grown.warmup.max(settle);
                    [
                        one(format!("global,nodes={}", v as usize), v, g),
                        one(format!("grown,nodes={}", v as usize), v, grown),
                    ]
                })
                .collect(),
        }
    }
}

/// The family of a series (`loss` for `loss=0.1`, `grown,nodes` for
/// `grown,nodes=2000`): plots draw one line per family.
pub fn family(series: &str) -> &str {
    series.rsplit_once('=').map_or(series, |(f, _)| f)
}
