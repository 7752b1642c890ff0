//! Memory, each figure from a fresh child process: one node with a full table (ours
//! and mainline's), and bytes per node of our simulator once its network has grown.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use swarmlab_dht::limits::Limits;
use swarmlab_dht::node::NodeConfig;
use swarmlab_dht_bench::rss_bytes;
use swarmlab_sim::{Join, Sim, SimConfig};

use crate::subjects::{fill, Ours, Theirs};

const PORT: u16 = 6881;

/// Child: one node with a full table; prints `MEMORY which base rss table`.
pub fn one_node_child(which: &str) {
    let base = rss_bytes().unwrap_or(0);
    let (rss, table) = match which {
        "ours" => {
            let s = Ours::start("127.60.0.1:6881".parse().unwrap(), Limits::unlimited());
            let (f, n) = fill(&s, Ipv4Addr::new(127, 60, 1, 1), 200);
            std::thread::sleep(Duration::from_millis(500));
            let r = rss_bytes().unwrap_or(0);
            drop(f);
            (r, n)
        }
        _ => {
            let s = Theirs::start(Ipv4Addr::new(127, 60, 2, 1), PORT, None);
            let (f, n) = fill(&s, Ipv4Addr::new(127, 60, 3, 1), 200);
            std::thread::sleep(Duration::from_millis(500));
            let r = rss_bytes().unwrap_or(0);
            drop(f);
            (r, n)
        }
    };
    println!("MEMORY {which} {base} {rss} {table}");
}

/// Child: our simulator grows `n` nodes (each through node 0, 100 ms apart), runs 60
/// simulated seconds more, and prints `SIM bytes-per-node distinct-ids mean-table
/// in-nobodys-table`, so that the figure is seen to come from a grown network.
pub fn sim_child(n: usize) {
    let rss0 = rss_bytes().unwrap_or(0);
    let mut sim = Sim::new(SimConfig::default()).expect("the default network");
    // Seed 0: the simulator gives every node a seed (and so an id) of its own.
    let cfg = NodeConfig::default();
    sim.grow(n, &cfg, Join::First, Duration::from_millis(100))
        .expect("sim");
    sim.run_for(Duration::from_secs(60));
    let rss1 = rss_bytes().unwrap_or(0);
    let ids: HashSet<_> = (0..sim.len()).map(|i| sim.node(i).id()).collect();
    let mean_table = (0..sim.len())
        .map(|i| sim.node(i).table().len())
        .sum::<usize>() as f64
        / n as f64;
    let nobody = sim.table_presence().iter().filter(|&&p| p == 0).count();
    let per = rss1.saturating_sub(rss0) as f64 / n as f64;
    println!("SIM {per} {} {mean_table:.1} {nobody}", ids.len());
}
