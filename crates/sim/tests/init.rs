//! Tables filled from global knowledge give the lookups of a grown network: the same
//! success, hops within one, messages and latency within a third (at 1,500 nodes; the
//! table at 20,000 is in docs/dht-simulation.md).

mod common;

use common::go;
use swarmlab_sim::experiment::{Experiment, Scenario};

#[test]
fn a_filled_network_looks_up_like_a_grown_one() {
    let base = Scenario {
        lookups: 100,
        seed: 31,
        ..Scenario::default()
    };
    let plan = Experiment::Init.plan(&base, &[1500.0]);
    assert_eq!(plan.len(), 2);
    let (g_run, global) = go(&plan[0].scenario, &plan[0].series);
    let (w_run, grown) = go(&plan[1].scenario, &plan[1].series);
    assert!(plan[0].series.starts_with("global") && plan[1].series.starts_with("grown"));
    assert!(global.found_all_pct >= 95.0 && grown.found_all_pct >= 95.0);
    assert!((global.hops_p50 - grown.hops_p50).abs() <= 1.0);
    let near = |a: f64, b: f64| (a / b - 1.0).abs() <= 1.0 / 3.0;
    assert!(near(global.messages_mean, grown.messages_mean));
    assert!(near(global.latency_p50, grown.latency_p50));
    // Both tables hold about as many nodes (the grown one, its unverified ones too).
    assert!(
        near(g_run.mean_table, w_run.mean_table),
        "{} vs {}",
        g_run.mean_table,
        w_run.mean_table
    );
    // The grown network cost joins; the filled one sent nothing before its lookups.
    assert!(w_run.net.sent > 10 * g_run.net.sent);
}
