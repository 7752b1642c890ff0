//! Churn does what it says: nodes leave and newcomers join (the network keeps its
//! size), tables fill with dead contacts, and lookups time out more and find fewer of
//! the true closest nodes than on the same network without churn.

mod common;

use std::time::Duration;

use common::go;
use swarmlab_sim::experiment::{sim_node_config, Scenario};
use swarmlab_sim::Churn;

#[test]
fn churn_makes_lookups_time_out_and_miss_closest_nodes() {
    let base = Scenario {
        nodes: 1000,
        lookups: 80,
        seed: 21,
        warmup: Duration::from_secs(15 * 60),
        ..Scenario::default()
    };
    let (calm_run, calm) = go(&base, "no churn");
    let mut churn = Churn::debian(sim_node_config());
    churn.scale = Duration::from_secs(5 * 60); // median session 1.9 minutes
    let (r, churned) = go(
        &Scenario {
            churn: Some(churn),
            ..base.clone()
        },
        "churn",
    );
    assert_eq!(calm_run.departures, 0);
    assert!(r.departures > 500, "{} departures", r.departures);
    assert_eq!(r.alive, base.nodes, "every departure brings a newcomer");
    assert!(r.net.to_nobody > 0, "datagrams to nodes that left");
    assert!(
        churned.timeouts_mean > calm.timeouts_mean + 1.0,
        "timeouts {} vs {}",
        churned.timeouts_mean,
        calm.timeouts_mean
    );
    assert!(
        churned.found_all_pct < calm.found_all_pct,
        "found all k: {} vs {}",
        churned.found_all_pct,
        calm.found_all_pct
    );
    assert!(churned.latency_p50 > calm.latency_p50);
}
