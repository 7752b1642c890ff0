//! Runs the big simulator scenarios and prints a table.
//!
//! ```text
//! cargo run --release -p swarmlab-sim --example sim -- --nodes 250,500,1000,2000
//! cargo run --release -p swarmlab-sim --example sim -- --nodes 1000 --join first --loss 0.1
//! ```
//!
//! One network is grown one node at a time (each joining through node 0, or through a
//! few random existing nodes) and measured whenever it reaches one of the `--nodes`
//! sizes: after `--settle` seconds of simulated time it counts the nodes that are in
//! nobody's routing table, runs a find_node for the id of `--lookups` random nodes
//! (from another random node) and checks that the exact node comes first, announces
//! `--keys` info-hashes from random nodes and looks each up with get_peers from
//! another random node. Figures: success rates, hops (highest hop among the k closest
//! nodes), queries and datagrams per lookup, simulated lookup latency, resident memory
//! per node, wall time. The fixed-latency network of the first simulator; `swarmlab sim`
//! runs the same on the regions model, with churn and the other experiments.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant as Wall};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_dht::limits::Limits;
use swarmlab_dht::{Id, LookupKind, LookupResult, NodeConfig};
use swarmlab_sim::{Join, Latency, NetworkModel, Sim, SimConfig};

struct Args {
    nodes: Vec<usize>,
    seed: u64,
    join: Join,
    gap: Duration,
    settle: Duration,
    lookups: usize,
    keys: usize,
    latency: Duration,
    jitter: Duration,
    loss: f64,
    unlimited: bool,
}

const USAGE: &str = "usage: sim [--nodes 250,500,1000,2000] [--seed 1] [--join first|random:3] [--gap-ms 200] \
[--settle-s 120] [--lookups 1000] [--keys 50] [--latency-ms 20] [--jitter-ms 10] [--loss 0.0] [--unlimited]";

fn parse() -> Result<Args, String> {
    let mut a = Args {
        nodes: vec![250, 500, 1000, 2000],
        seed: 1,
        join: Join::Random(3),
        gap: Duration::from_millis(200),
        settle: Duration::from_secs(120),
        lookups: 1000,
        keys: 50,
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(10),
        loss: 0.0,
        unlimited: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--unlimited" {
            a.unlimited = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let v = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("bad value for {flag}: {v} ({e})");
        match flag.as_str() {
            "--nodes" => {
                a.nodes = v
                    .split(',')
                    .map(|x| x.trim().parse().map_err(|e| bad(&e)))
                    .collect::<Result<_, _>>()?;
                a.nodes.sort_unstable();
            }
            "--seed" => a.seed = v.parse().map_err(|e| bad(&e))?,
            "--join" => {
                a.join = match v.split_once(':') {
                    _ if v == "first" => Join::First,
                    Some(("random", m)) => Join::Random(m.parse().map_err(|e| bad(&e))?),
                    _ => return Err(format!("--join first|random:M, not {v}")),
                }
            }
            "--gap-ms" => a.gap = Duration::from_millis(v.parse().map_err(|e| bad(&e))?),
            "--settle-s" => a.settle = Duration::from_secs(v.parse().map_err(|e| bad(&e))?),
            "--lookups" => a.lookups = v.parse().map_err(|e| bad(&e))?,
            "--keys" => a.keys = v.parse().map_err(|e| bad(&e))?,
            "--latency-ms" => a.latency = Duration::from_millis(v.parse().map_err(|e| bad(&e))?),
            "--jitter-ms" => a.jitter = Duration::from_millis(v.parse().map_err(|e| bad(&e))?),
            "--loss" => a.loss = v.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if a.nodes.is_empty() || a.nodes[0] < 2 {
        return Err("--nodes needs sizes of at least 2".into());
    }
    Ok(a)
}

/// Resident set size in bytes (Linux), 0 elsewhere.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn pct<T: Copy + PartialOrd + Default>(v: &[T], p: f64) -> T {
    if v.is_empty() {
        return T::default();
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// A random node other than `not`.
fn other(rng: &mut StdRng, n: usize, not: usize) -> usize {
    loop {
        let j = rng.gen_range(0..n);
        if j != not {
            return j;
        }
    }
}

/// Datagrams a lookup caused: its queries, and the replies it got.
fn datagrams(r: &LookupResult) -> usize {
    r.messages + r.responses
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let limits = if a.unlimited {
        Limits::unlimited()
    } else {
        Limits::default()
    };
    let cfg = NodeConfig {
        limits,
        ..NodeConfig::default()
    };
    let wall0 = Wall::now();
    let rss0 = rss();

    let network = NetworkModel {
        latency: Latency::Fixed {
            one_way: a.latency,
            jitter: a.jitter,
        },
        loss: a.loss,
        ..NetworkModel::lan()
    };
    let Ok(mut sim) = Sim::new(SimConfig {
        seed: a.seed,
        network,
    }) else {
        eprintln!("--loss must be between 0 and 1");
        return ExitCode::from(2);
    };
    let mut rng = StdRng::seed_from_u64(a.seed ^ 0x5eed);
    let join = match a.join {
        Join::First => "node 0".to_string(),
        Join::Random(m) => format!("{m} random"),
    };
    println!(
        "seed {}, join via {join}, {} ms between joins, settle {} s, latency {} ms + jitter {} ms, loss {:.0}%, limits {}",
        a.seed,
        a.gap.as_millis(),
        a.settle.as_secs(),
        a.latency.as_millis(),
        a.jitter.as_millis(),
        a.loss * 100.0,
        if a.unlimited { "off" } else { "default" }
    );
    println!();
    println!(
        "| N | in nobody's table | find_node exact | get_peers found | hops median | hops p90 | hops max | queries/lookup (mean, max) | datagrams/lookup (mean) | latency median (ms) | latency p90 (ms) | memory/node (KiB) | wall (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &a.nodes {
        let grow = n - sim.len();
        sim.grow(grow, &cfg, a.join, a.gap).expect("valid config");
        sim.run_for(a.settle);
        let mem = rss().saturating_sub(rss0) as f64 / n as f64;
        let orphans = sim.table_presence().iter().filter(|&&c| c == 0).count();

        let mut hops = Vec::new();
        let mut queries = Vec::new();
        let mut dgrams = Vec::new();
        let mut latency = Vec::new();
        let mut exact = 0;
        let lookups = a.lookups.min(n);
        let targets: Vec<usize> = if lookups == n {
            (0..n).collect()
        } else {
            rand::seq::index::sample(&mut rng, n, lookups).into_vec()
        };
        for &t in &targets {
            let target = sim.node(t).id();
            let from = other(&mut rng, n, t);
            let Some(r) =
                sim.run_lookup(from, LookupKind::FindNode, target, Duration::from_secs(60))
            else {
                continue;
            };
            if r.closest.first().map(|c| c.0) == Some(target) {
                exact += 1;
            }
            hops.push(r.hops);
            queries.push(r.messages);
            dgrams.push(datagrams(&r));
            latency.push(r.elapsed_ms);
        }

        let mut found = 0;
        for _ in 0..a.keys {
            let mut ih = [0u8; 20];
            rng.fill(&mut ih);
            let ih = Id(ih);
            let announcer = rng.gen_range(0..n);
            let port = rng.gen_range(1024..65535u16);
            sim.run_lookup(
                announcer,
                LookupKind::Announce { port: Some(port) },
                ih,
                Duration::from_secs(60),
            );
            let want = SocketAddr::new(sim.addr(announcer).ip(), port);
            let from = other(&mut rng, n, announcer);
            if let Some(r) = sim.run_lookup(from, LookupKind::GetPeers, ih, Duration::from_secs(60))
            {
                if r.peers.contains(&want) {
                    found += 1;
                }
                hops.push(r.hops);
                queries.push(r.messages);
                dgrams.push(datagrams(&r));
                latency.push(r.elapsed_ms);
            }
        }

        let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
        println!(
            "| {n} | {orphans} | {exact}/{lookups} ({:.1}%) | {found}/{} | {} | {} | {} | {:.1}, {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} |",
            100.0 * exact as f64 / lookups.max(1) as f64,
            a.keys,
            pct(&hops, 0.5),
            pct(&hops, 0.9),
            hops.iter().max().unwrap_or(&0),
            mean(&queries),
            queries.iter().max().unwrap_or(&0),
            mean(&dgrams),
            pct(&latency, 0.5),
            pct(&latency, 0.9),
            mem / 1024.0,
            wall0.elapsed().as_secs_f64()
        );
    }
    println!();
    // Memory of bare nodes (empty tables), on a separate simulator, measured last so the
    // figures above are not inflated by memory it freed.
    let bare = {
        let n = *a.nodes.last().unwrap_or(&1000);
        let before = rss();
        let Ok(mut s) = Sim::new(SimConfig {
            seed: a.seed,
            ..SimConfig::default()
        }) else {
            return ExitCode::FAILURE;
        };
        for _ in 0..n {
            s.add_node(cfg.clone()).expect("valid config");
        }
        let per = rss().saturating_sub(before) as f64 / n as f64;
        drop(s);
        per
    };

    println!(
        "bare node (empty table, nothing in flight): {:.1} KiB per node",
        bare / 1024.0
    );
    println!(
        "datagrams sent {} (lost {}), simulated time {:.0} s, wall {:.1} s",
        sim.stats().sent,
        sim.stats().lost + sim.stats().to_nobody,
        sim.elapsed().as_secs_f64(),
        wall0.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
