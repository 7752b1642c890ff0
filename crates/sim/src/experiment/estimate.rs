//! Size estimation from a run's lookups: consecutive ended lookups are taken in groups
//! (16, then 64), each group gives one estimate ([`swarmlab_dht::estimate`]), and each
//! estimate is one row, compared with the number of reachable live nodes.

use serde::{Deserialize, Serialize};
use swarmlab_dht::estimate::SizeEstimator;

use crate::measure::Labels;
use crate::workload::LookupRecord;

/// The CSV columns of [`EstimateRow`], in order.
pub const ESTIMATE_COLUMNS: [&str; 10] = [
    "experiment",
    "series",
    "seed",
    "nodes",
    "reachable",
    "group",
    "lookups",
    "estimate",
    "error_pct",
    "rel_std_error_pct",
];

/// One estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateRow {
    /// The experiment.
    pub experiment: String,
    /// The series.
    pub series: String,
    /// The run's seed.
    pub seed: u64,
    /// Live nodes.
    pub nodes: usize,
    /// Reachable live nodes: what the estimate should find.
    pub reachable: usize,
    /// The group's number among the groups of its size.
    pub group: usize,
    /// Lookups per estimate (16 or 64).
    pub lookups: usize,
    /// The estimate.
    pub estimate: f64,
    /// Its error against `reachable` (%).
    pub error_pct: f64,
    /// The estimator's own relative standard error (%).
    pub rel_std_error_pct: f64,
}

/// One row per group of `sizes[i]` consecutive ended lookups, for each group size.
pub fn estimate_rows(
    labels: &Labels,
    records: &[LookupRecord],
    reachable: usize,
    nodes: usize,
    sizes: &[usize],
) -> Vec<EstimateRow> {
    let done: Vec<&LookupRecord> = records.iter().filter(|r| r.result.is_some()).collect();
    let mut rows = Vec::new();
    for &g in sizes {
        for (n, chunk) in done.chunks_exact(g.max(1)).enumerate() {
            let mut est = SizeEstimator::new();
            for r in chunk {
                if let Some(res) = &r.result {
                    est.add_result(res);
                }
            }
            if let Some(e) = est.estimate() {
                rows.push(EstimateRow {
                    experiment: labels.experiment.clone(),
                    series: labels.series.clone(),
                    seed: labels.seed,
                    nodes,
                    reachable,
                    group: n,
                    lookups: g,
                    estimate: e.nodes,
                    error_pct: 100.0 * (e.nodes / reachable.max(1) as f64 - 1.0),
                    rel_std_error_pct: 100.0 * e.rel_std_error,
                });
            }
        }
    }
    rows
}
