//! `--experiment udp`: the same lookups over a real UDP loopback testnet. `--nodes`
//! nodes run in this process, each on its own 127.x.y.z address (`--first`, then
//! counting up); once they have joined, `--lookups` find_node lookups for random ids
//! run one after the other from random nodes, and each gives the same row as a
//! simulated lookup, checked against the true k closest nodes of the testnet. Times
//! are wall-clock times on loopback: they measure this machine, not a network.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_dht::limits::Limits;
use swarmlab_dht::{Id, LookupKind, NodeConfig};
use swarmlab_sim::experiment::{Planned, Run, Scenario};
use swarmlab_sim::measure::{Labels, LookupRow};
use swarmlab_sim::truth::Truth;
use swarmlab_sim::NetStats;

use super::report::{Report, RunInfo};
use super::SimArgs;

/// Runs the lookups of `base` over a loopback testnet.
pub async fn run(a: &SimArgs, base: &Scenario) -> Result<Report> {
    let n = base.nodes;
    if n > 65_000 {
        bail!("--experiment udp: at most 65,000 nodes on loopback");
    }
    let wall = Instant::now();
    let cfg = NodeConfig {
        limits: Limits::unlimited(),
        alpha: base.node.alpha,
        soft_timeout: base.node.soft_timeout,
        request_timeout: base.node.request_timeout,
        ..NodeConfig::default()
    };
    let nodes = swarmlab_dht_driver::testnet(n, a.first, 6881, cfg).await?;
    // Joined: every node holds k verified nodes (or all the others), or 60 s passed.
    let want = (n - 1).min(base.node.k);
    for d in &nodes {
        d.wait_for_nodes(want, Duration::from_secs(60)).await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut truth = Truth::default();
    for (i, d) in nodes.iter().enumerate() {
        truth.insert(d.id(), i as u32);
    }
    let labels = Labels {
        experiment: "udp".into(),
        series: format!("udp,nodes={n}"),
        param: n as f64,
        seed: base.seed,
    };
    let mut rng = StdRng::seed_from_u64(base.seed);
    let mut rows = Vec::with_capacity(base.lookups);
    let t0 = Instant::now();
    for j in 0..base.lookups {
        let from = rng.gen_range(0..n);
        let target = Id::random(&mut rng);
        let closest: Vec<Id> = truth
            .closest(&target, base.node.k, |i| i as usize != from)
            .into_iter()
            .map(|x| x.0)
            .collect();
        let started = t0.elapsed().as_secs_f64();
        let r = nodes[from].lookup(LookupKind::FindNode, target).await.ok();
        rows.push(LookupRow::from_result(
            &labels,
            j,
            n,
            started,
            r.as_ref(),
            &closest,
        ));
    }
    let mut mean_table = 0.0;
    for d in &nodes {
        mean_table += d.table().await.map_or(0, |t| t.len()) as f64 / n as f64;
    }
    for d in &nodes {
        d.shutdown().await;
    }
    let planned = Planned {
        series: labels.series.clone(),
        param: labels.param,
        scenario: base.clone(),
    };
    let run = Run {
        rows: Vec::new(),
        records: Vec::new(),
        net: NetStats::default(),
        alive: n,
        reachable: n,
        departures: 0,
        mean_table,
        rss_before: None,
        rss_after: None,
        sim_seconds: 0.0,
        wall_seconds: wall.elapsed().as_secs_f64(),
    };
    let mut report = Report::new("udp", base, None);
    report.scenario = format!(
        "{n} nodes of a real UDP loopback testnet from {}, alpha {}, soft/hard timeout {}/{} ms; {} find_node lookups for random ids, one at a time, wall-clock times",
        a.first,
        base.node.alpha,
        base.node.soft_timeout.as_millis(),
        base.node.request_timeout.as_millis(),
        base.lookups
    );
    report.add_run(RunInfo::of(&planned, &run), rows);
    Ok(report)
}
