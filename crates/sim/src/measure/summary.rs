//! A series of lookups in a few numbers: the markdown tables of docs/ are made of
//! these.

use serde::Serialize;

use super::row::LookupRow;
use super::stats::{mean, percentile};

/// One series summed up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The series.
    pub series: String,
    /// The parameter's value.
    pub param: f64,
    /// Live nodes (mean over its lookups).
    pub nodes: f64,
    /// Lookups in the series.
    pub lookups: usize,
    /// Of which ended.
    pub finished: usize,
    /// Share of lookups that returned every one of the true k closest nodes (%).
    pub found_all_pct: f64,
    /// Share of the true closest nodes returned, over all lookups (%).
    pub closest_pct: f64,
    /// Share of lookups of a node's id that found that node first (%), if any.
    pub exact_pct: Option<f64>,
    /// Hops, median and 90th percentile.
    pub hops_p50: f64,
    /// 90th percentile of hops.
    pub hops_p90: f64,
    /// Requests per lookup, mean.
    pub messages_mean: f64,
    /// 90th percentile of requests per lookup.
    pub messages_p90: f64,
    /// Timeouts per lookup, mean.
    pub timeouts_mean: f64,
    /// Latency to the end of the lookup (ms): median.
    pub latency_p50: f64,
    /// 90th percentile of the latency.
    pub latency_p90: f64,
    /// 99th percentile of the latency.
    pub latency_p99: f64,
    /// Time to the first answer from a true closest node (ms): median.
    pub first_p50: Option<f64>,
    /// 90th percentile of the time to the first answer from a true closest node.
    pub first_p90: Option<f64>,
    /// Share of ended lookups that ended within one second (%).
    pub sub_second_pct: f64,
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

impl Summary {
    /// Sums up `rows` (one series) under `series`.
    pub fn of(series: &str, param: f64, rows: &[&LookupRow]) -> Summary {
        let done: Vec<&&LookupRow> = rows.iter().filter(|r| r.finished).collect();
        let f = |g: &dyn Fn(&LookupRow) -> f64| -> Vec<f64> { done.iter().map(|r| g(r)).collect() };
        let hops = f(&|r| f64::from(r.hops));
        let msgs = f(&|r| r.messages as f64);
        let lat: Vec<f64> = done.iter().filter_map(|r| r.latency_ms).collect();
        let first: Vec<f64> = done.iter().filter_map(|r| r.first_closest_ms).collect();
        let exact: Vec<bool> = rows.iter().filter_map(|r| r.exact).collect();
        let found: usize = rows.iter().map(|r| r.closest_found).sum();
        let of: usize = rows.iter().map(|r| r.closest_k).sum();
        Summary {
            series: series.to_string(),
            param,
            nodes: mean(&rows.iter().map(|r| r.nodes as f64).collect::<Vec<_>>()).unwrap_or(0.0),
            lookups: rows.len(),
            finished: done.len(),
            found_all_pct: pct(rows.iter().filter(|r| r.found_all()).count(), rows.len()),
            closest_pct: pct(found, of),
            exact_pct: (!exact.is_empty())
                .then(|| pct(exact.iter().filter(|&&e| e).count(), exact.len())),
            hops_p50: percentile(&hops, 0.5).unwrap_or(0.0),
            hops_p90: percentile(&hops, 0.9).unwrap_or(0.0),
            messages_mean: mean(&msgs).unwrap_or(0.0),
            messages_p90: percentile(&msgs, 0.9).unwrap_or(0.0),
            timeouts_mean: mean(&f(&|r| r.timeouts as f64)).unwrap_or(0.0),
            latency_p50: percentile(&lat, 0.5).unwrap_or(0.0),
            latency_p90: percentile(&lat, 0.9).unwrap_or(0.0),
            latency_p99: percentile(&lat, 0.99).unwrap_or(0.0),
            first_p50: percentile(&first, 0.5),
            first_p90: percentile(&first, 0.9),
            sub_second_pct: pct(lat.iter().filter(|&&l| l < 1000.0).count(), done.len()),
        }
    }
}
