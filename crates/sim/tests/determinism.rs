//! A whole scenario (internet model with loss and NATs, churn, lookups running
//! alongside each other) is deterministic for its seed.

mod common;

use std::time::Duration;

use common::go;
use swarmlab_sim::experiment::{sim_node_config, Scenario};
use swarmlab_sim::{Churn, NetworkModel};

fn scenario(seed: u64) -> Scenario {
    let mut churn = Churn::debian(sim_node_config());
    churn.scale = Duration::from_secs(10 * 60);
    Scenario {
        nodes: 500,
        seed,
        lookups: 40,
        interval: Duration::from_millis(50),
        warmup: Duration::from_secs(120),
        churn: Some(churn),
        network: NetworkModel {
            loss: 0.03,
            unreachable: 0.2,
            ..NetworkModel::internet()
        },
        ..Scenario::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_rows() {
    let (a, _) = go(&scenario(7), "a");
    let (b, _) = go(&scenario(7), "a");
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.net, b.net);
    assert_eq!(a.departures, b.departures);
    assert!(a.departures > 0 && a.net.lost > 0 && a.net.filtered > 0);
    let (c, _) = go(&scenario(8), "a");
    assert_ne!(a.rows, c.rows);
}
