//! The markdown tables that docs/ shows: one line per series, and the size estimates.

use std::fmt::Write as _;

use swarmlab_sim::experiment::EstimateRow;
use swarmlab_sim::measure::{percentile, Summary};

/// Milliseconds with the precision their size needs (loopback lookups take less
/// than one).
fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), ms)
}

/// The summary table of an experiment.
pub fn summary_table(rows: &[Summary]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "| series | nodes | lookups | ended | all k closest (%) | exact (%) | hops p50 / p90 | messages mean / p90 | timeouts mean | latency p50 / p90 / p99 (ms) | first closest p50 / p90 (ms) | < 1 s (%) |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for s in rows {
        let _ = writeln!(
            o,
            "| {} | {:.0} | {} | {} | {:.1} | {} | {:.0} / {:.0} | {:.1} / {:.0} | {:.2} | {} / {} / {} | {} / {} | {:.1} |",
            s.series,
            s.nodes,
            s.lookups,
            s.finished,
            s.found_all_pct,
            s.exact_pct.map_or_else(|| "–".into(), |e| format!("{e:.1}")),
            s.hops_p50,
            s.hops_p90,
            s.messages_mean,
            s.messages_p90,
            s.timeouts_mean,
            ms(s.latency_p50),
            ms(s.latency_p90),
            ms(s.latency_p99),
            opt(s.first_p50),
            opt(s.first_p90),
            s.sub_second_pct,
        );
    }
    o
}

/// The size-estimation table: per series and group size, how many estimates fell
/// within ±15% and the spread of their errors.
pub fn estimate_table(rows: &[EstimateRow]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "| series | reachable nodes | lookups per estimate | estimates | within ±15% | error p50 (%) | mean |error| (%) | error p5 / p95 (%) | σ claimed (%) |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    let mut keys: Vec<(String, usize)> =
        rows.iter().map(|r| (r.series.clone(), r.lookups)).collect();
    keys.dedup();
    keys.sort_by_key(|k| (rows.iter().position(|r| r.series == k.0), k.1));
    keys.dedup();
    for (series, g) in keys {
        let sel: Vec<&EstimateRow> = rows
            .iter()
            .filter(|r| r.series == series && r.lookups == g)
            .collect();
        let errs: Vec<f64> = sel.iter().map(|r| r.error_pct).collect();
        let within = errs.iter().filter(|e| e.abs() <= 15.0).count();
        let mean_abs = errs.iter().map(|e| e.abs()).sum::<f64>() / errs.len().max(1) as f64;
        let _ = writeln!(
            o,
            "| {series} | {} | {g} | {} | {within}/{} | {:+.1} | {mean_abs:.1} | {:+.1} / {:+.1} | {:.1} |",
            sel.first().map_or(0, |r| r.reachable),
            sel.len(),
            sel.len(),
            percentile(&errs, 0.5).unwrap_or(0.0),
            percentile(&errs, 0.05).unwrap_or(0.0),
            percentile(&errs, 0.95).unwrap_or(0.0),
            sel.first().map_or(0.0, |r| r.rel_std_error_pct),
        );
    }
    o
}
