//! The network model does what it says: the region matrix sets the latency, loss
//! costs timeouts, unreachable nodes never answer a third party. Each test compares a
//! run with the effect against the same run without it, so a model that did nothing
//! would fail it.

mod common;

use std::time::Duration;

use common::go;
use swarmlab_dht::{LookupKind, NodeConfig};
use swarmlab_sim::experiment::Scenario;
use swarmlab_sim::network::{Latency, Region, RegionModel};
use swarmlab_sim::{sim_index, GlobalKnowledge, NetworkModel, Sim, SimConfig};

fn base() -> Scenario {
    Scenario {
        nodes: 800,
        lookups: 60,
        seed: 11,
        ..Scenario::default()
    }
}

/// Every node in region 0 of a two-region model whose in-region RTT is `rtt` ms.
fn one_region(rtt: f64) -> NetworkModel {
    NetworkModel {
        latency: Latency::Regions(RegionModel {
            regions: vec![
                Region {
                    name: "here",
                    share: 1.0,
                },
                Region {
                    name: "empty",
                    share: 0.0,
                },
            ],
            rtt_ms: vec![vec![rtt, 300.0], vec![300.0, 10.0]],
            access_ms: 0.0,
            jitter: 0.0,
        }),
        ..NetworkModel::internet()
    }
}

#[test]
fn lookup_latency_follows_the_rtt_matrix() {
    let near = go(
        &Scenario {
            network: one_region(20.0),
            ..base()
        },
        "rtt=20",
    )
    .1;
    let far = go(
        &Scenario {
            network: one_region(200.0),
            ..base()
        },
        "rtt=200",
    )
    .1;
    // Same seed, same ids, same lookups: only the delays differ, by 10 times, and so
    // does every lookup's latency (no timeout is involved below 500 ms).
    assert_eq!(near.messages_mean, far.messages_mean);
    let ratio = far.latency_p50 / near.latency_p50;
    assert!((9.0..=11.0).contains(&ratio), "latency ratio {ratio}");
    // A lookup is a few rounds of one RTT each.
    assert!(
        (2.0 * 20.0..=8.0 * 20.0).contains(&near.latency_p50),
        "{}",
        near.latency_p50
    );
}

#[test]
fn loss_costs_timeouts_and_time() {
    let clean = go(&base(), "loss=0").1;
    let (r, lossy) = go(
        &Scenario {
            network: NetworkModel {
                loss: 0.2,
                ..NetworkModel::internet()
            },
            ..base()
        },
        "loss=0.2",
    );
    assert!(r.net.lost > r.net.sent / 10, "{:?}", r.net);
    assert_eq!(clean.timeouts_mean, 0.0);
    assert!(lossy.timeouts_mean > 1.0, "{}", lossy.timeouts_mean);
    assert!(lossy.latency_p50 > clean.latency_p50 + 400.0);
}

#[test]
fn unreachable_nodes_never_answer_a_third_party() {
    let clean = go(&base(), "unreachable=0").1;
    let (r, natted) = go(
        &Scenario {
            network: NetworkModel {
                unreachable: 0.5,
                ..NetworkModel::internet()
            },
            ..base()
        },
        "unreachable=0.5",
    );
    assert!(r.net.filtered > 0);
    assert!(r.reachable < r.alive * 6 / 10 && r.reachable > r.alive * 4 / 10);
    // Half the contacts never answer: timeouts appear where there were none, and the
    // lookups still find the reachable closest nodes.
    assert_eq!(clean.timeouts_mean, 0.0);
    assert!(natted.timeouts_mean > 2.0, "{}", natted.timeouts_mean);
    assert!(natted.closest_pct > 80.0, "{}", natted.closest_pct);
}

#[test]
fn a_node_behind_a_nat_answers_only_the_nodes_it_sent_to() {
    let mut sim = Sim::new(SimConfig {
        seed: 4,
        network: NetworkModel {
            unreachable: 0.5,
            ..NetworkModel::internet()
        },
    })
    .unwrap();
    sim.populate(400, &NodeConfig::default(), &mut |_| {})
        .unwrap();
    sim.fill_from_global_knowledge(GlobalKnowledge::default(), &mut |_| {});
    let natted: Vec<usize> = (0..400).filter(|&i| !sim.reachable(i)).collect();
    let open: Vec<usize> = (0..400).filter(|&i| sim.reachable(i)).collect();
    assert!(!natted.is_empty() && !open.is_empty());
    // Lookups of the ids of nodes behind NATs, from reachable nodes: the target never
    // answers, so it is never in a result.
    for (&t, &from) in natted.iter().zip(&open).take(20) {
        let target = sim.node(t).id();
        let r = sim
            .run_lookup(from, LookupKind::FindNode, target, Duration::from_secs(60))
            .unwrap();
        assert!(r.closest.iter().all(|(id, _)| *id != target));
        for (_, addr) in &r.closest {
            assert!(sim.reachable(sim_index(*addr).unwrap()));
        }
    }
    // A node behind a NAT looks itself up: the nodes it queries answer it.
    let from = natted[0];
    let target = sim.node(from).id();
    let r = sim
        .run_lookup(from, LookupKind::FindNode, target, Duration::from_secs(60))
        .unwrap();
    assert!(r.responses >= 8, "{}", r.responses);
}
