//! Size estimation on simulated networks: 16 lookups for random ids estimate the
//! number of reachable nodes within ±15%, and 64 narrow it (the figures at 100,000
//! and 1,000,000 nodes are in docs/experiments.md).

mod common;

use common::go;
use swarmlab_sim::experiment::{estimate_rows, Scenario};
use swarmlab_sim::measure::Labels;
use swarmlab_sim::NetworkModel;

#[test]
fn sixteen_lookups_estimate_ten_thousand_nodes_within_fifteen_percent() {
    let s = Scenario {
        nodes: 10_000,
        lookups: 64,
        seed: 41,
        ..Scenario::default()
    };
    let (r, _) = go(&s, "estimate");
    let labels = Labels {
        experiment: "test".into(),
        series: "estimate".into(),
        param: 0.0,
        seed: 41,
    };
    let rows = estimate_rows(&labels, &r.records, r.reachable, r.alive, &[16, 64]);
    assert_eq!(rows.len(), 5);
    for e in &rows {
        println!("{e:?}");
        assert!(e.error_pct.abs() <= 15.0, "{e:?}");
    }
    let all = rows.iter().find(|e| e.lookups == 64).unwrap();
    assert!(all.error_pct.abs() <= 10.0, "{all:?}");
}

#[test]
fn nodes_behind_nats_are_not_counted() {
    let s = Scenario {
        nodes: 4_000,
        lookups: 64,
        seed: 42,
        network: NetworkModel {
            unreachable: 0.5,
            ..NetworkModel::internet()
        },
        ..Scenario::default()
    };
    let (r, _) = go(&s, "natted");
    let labels = Labels {
        experiment: "test".into(),
        series: "natted".into(),
        param: 0.0,
        seed: 42,
    };
    let e = &estimate_rows(&labels, &r.records, r.reachable, r.alive, &[64])[0];
    println!("{e:?}");
    // Nodes behind NATs never answer, so they are not counted: the estimate is
    // below the reachable nodes, far below all of them. It reads low, too: every
    // reply names the k closest nodes it knows, half of them unreachable, so a
    // lookup misses some of the true closest reachable nodes and its k-th closest
    // is farther than it should be (docs/experiments.md).
    assert!(e.estimate < r.reachable as f64 * 1.15, "{e:?}");
    assert!(e.estimate < r.alive as f64 * 0.6, "{e:?}");
}
