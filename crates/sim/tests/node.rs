//! The engine's bookkeeping of nodes: every node gets an id of its own whatever its
//! configuration says, an explicit duplicate is refused, a node called directly has
//! its datagrams moved, and a node that leaves is gone from the truth and the tables'
//! answers.

use std::collections::HashSet;
use std::time::Duration;

use swarmlab_dht::{Id, LookupKind, NodeConfig};
use swarmlab_sim::{Join, Sim, SimConfig, SimError};

#[test]
fn one_config_with_a_fixed_seed_still_gives_every_node_its_own_id() {
    // The bench once shared one config with `seed: rand::random()` between all the
    // nodes: they all got the same id and no table could hold another node.
    let mut sim = Sim::new(SimConfig::default()).unwrap();
    let cfg = NodeConfig {
        seed: 0x5eed,
        ..NodeConfig::default()
    };
    sim.grow(30, &cfg, Join::First, Duration::from_millis(200))
        .unwrap();
    sim.run_for(Duration::from_secs(30));
    let ids: HashSet<Id> = (0..sim.len()).map(|i| sim.node(i).id()).collect();
    assert_eq!(ids.len(), 30, "ids repeat");
    let presence = sim.table_presence();
    assert!(
        presence.iter().all(|&p| p > 0),
        "nodes in nobody's table: {presence:?}"
    );
    assert!((0..sim.len()).all(|i| sim.node(i).table().len() >= 8));
}

#[test]
fn an_explicit_id_already_in_the_simulation_is_refused() {
    let mut sim = Sim::new(SimConfig::default()).unwrap();
    let cfg = NodeConfig {
        id: Some(Id([7; 20])),
        ..NodeConfig::default()
    };
    assert_eq!(sim.add_node(cfg.clone()), Ok(0));
    assert_eq!(sim.add_node(cfg), Err(SimError::DuplicateId(Id([7; 20]))));
    assert_eq!(sim.len(), 1);
}

#[test]
fn a_node_called_directly_has_its_datagrams_moved() {
    let mut sim = Sim::new(SimConfig::default()).unwrap();
    sim.grow(
        20,
        &NodeConfig::default(),
        Join::Random(3),
        Duration::from_millis(100),
    )
    .unwrap();
    sim.run_for(Duration::from_secs(30));
    let target = sim.node(5).id();
    let now = sim.now();
    let lid = sim
        .node_mut(2)
        .start_lookup(now, LookupKind::FindNode, target)
        .unwrap();
    let sent = sim.stats().sent;
    sim.run_for(Duration::from_secs(10));
    assert!(sim.stats().sent > sent);
    let r = sim.take_result(2, lid).expect("the lookup ended");
    assert_eq!(r.closest[0].0, target);
}

#[test]
fn a_node_that_leaves_is_gone() {
    let mut sim = Sim::new(SimConfig::default()).unwrap();
    sim.grow(
        30,
        &NodeConfig::default(),
        Join::Random(3),
        Duration::from_millis(100),
    )
    .unwrap();
    sim.run_for(Duration::from_secs(30));
    let gone = sim.node(9).id();
    assert!(sim.remove_node(9));
    assert!(!sim.remove_node(9));
    assert!(!sim.is_alive(9));
    assert_eq!((sim.alive(), sim.len()), (29, 30));
    assert!(sim.truth().closest(&gone, 1, |_| true)[0].0 != gone);
    // Others still hold it, and a lookup of its id times out on it.
    let r = sim
        .run_lookup(3, LookupKind::FindNode, gone, Duration::from_secs(60))
        .unwrap();
    assert!(r.closest.iter().all(|(id, _)| *id != gone));
    assert!(r.timeouts > 0);
    assert!(sim.stats().to_nobody > 0);
}
