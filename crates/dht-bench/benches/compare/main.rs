//! Our node side by side with the `mainline` crate (8.0.1), in the same run:
//!
//! 1. queries answered per second by one node on loopback, from the load generator
//!    (several sockets, a window of ping / find_node / get_peers queries outstanding),
//!    with an empty table and with a full one, rate limits off in both; our node again
//!    with its default limits (`throughput.rs`);
//! 2. lookups in a 1,000-node loopback testnet of each: success, latency (wall time
//!    around the call, for both), datagrams per lookup; nodes in nobody's table and
//!    find_node exactness (`lookups.rs`);
//! 3. memory: RSS of one node with a full table (each in a child process), bytes per
//!    node in each testnet and in our simulator (`memory.rs`).
//!
//! Run: `cargo bench -p swarmlab-dht-bench --bench compare` (release profile). It
//! prints every round on standard error and the report, as pasted in
//! docs/dht-bench.md, on standard output.
//!
//! Environment: `DHT_BENCH_SECS` (seconds per load round, default 3), `DHT_BENCH_ROUNDS`
//! (rounds per phase, default 2), `DHT_BENCH_NODES` (testnet size, default 1000; the
//! simulator grows at most 1,000), `DHT_BENCH_LOOKUPS` (get_peers lookups, default 30),
//! `DHT_BENCH_FIND` (find_node lookups of the quality check, default 100),
//! `DHT_BENCH_SKIP` (comma list of `load`, `lookup`, `memory`).
//!
//! Addresses: everything is on 127.60.0.0 – 127.69.255.255.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal
#![allow(deprecated)] // mainline's blocking API is marked deprecated in favour of async

mod lookups;
mod memory;
mod subjects;
mod throughput;

use std::process::Command;

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn skipped(what: &str) -> bool {
    std::env::var("DHT_BENCH_SKIP")
        .map(|v| v.split(',').any(|s| s.trim() == what))
        .unwrap_or(false)
}

/// Runs this bench again as a child with `DHT_BENCH_CHILD=which` (so that every
/// RSS figure starts from a fresh process) and returns its standard output.
fn child(which: &str) -> String {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .env("DHT_BENCH_CHILD", which)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run the bench as a child");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The words after `KEY ` on the child's line that starts with it.
fn field<'a>(text: &'a str, key: &str) -> Option<Vec<&'a str>> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))?;
    Some(line.split_whitespace().skip(1).collect())
}

/// The first word after `KEY` as a number (NaN when the child failed).
fn number(text: &str, key: &str) -> f64 {
    field(text, key)
        .and_then(|w| w.first().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// The rest of the line after `KEY`.
fn line(text: &str, key: &str) -> String {
    field(text, key)
        .map(|w| w.join(" "))
        .unwrap_or_else(|| "child failed".into())
}

fn kib(b: f64) -> String {
    format!("{:.0} KiB", b / 1024.0)
}

/// A child process's work, chosen by `DHT_BENCH_CHILD`.
fn run_child(which: &str, nodes: usize, lookups: usize, finds: usize) {
    match which {
        "lookup-ours" => {
            let (st, rtt, per_node) = lookups::ours(nodes, lookups, finds);
            st.print();
            println!("RSSNODE {per_node}");
            println!("RTT {rtt}");
        }
        "lookup-mainline" => {
            let (st, per_node) = lookups::theirs(nodes, lookups, finds);
            st.print();
            println!("RSSNODE {per_node}");
        }
        "sim" => memory::sim_child(nodes.min(1000)),
        _ => memory::one_node_child(which),
    }
}

fn main() {
    let secs = env_num("DHT_BENCH_SECS", 3.0);
    let rounds = env_num("DHT_BENCH_ROUNDS", 2.0) as usize;
    let nodes = (env_num("DHT_BENCH_NODES", 1000.0) as usize).max(2);
    let lookups = env_num("DHT_BENCH_LOOKUPS", 30.0) as usize;
    let finds = env_num("DHT_BENCH_FIND", 100.0) as usize;
    if std::env::var_os("DHT_BENCH_CHILD").is_none() && !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench targets too, unoptimized: skip.
        println!("compare: run with `cargo bench -p swarmlab-dht-bench --bench compare`");
        return;
    }
    if let Ok(which) = std::env::var("DHT_BENCH_CHILD") {
        run_child(&which, nodes, lookups, finds);
        return;
    }
    let mut report = Vec::new();

    if !skipped("load") {
        let rows = throughput::throughput(secs, rounds);
        throughput::report(&rows, rounds, secs, &mut report);
    }

    if !skipped("lookup") {
        let ours = child("lookup-ours");
        let theirs = child("lookup-mainline");
        report.push(format!(
            "== get_peers lookups in a {nodes}-node loopback testnet ({lookups} lookups, each of a peer announced from another random node; rate limits off); loopback ping rtt p50 {:.3} ms",
            number(&ours, "RTT")
        ));
        report.push(format!("ours:     {}", line(&ours, "LINE")));
        report.push(format!("mainline: {}", line(&theirs, "LINE")));
        report.push(format!(
            "latency p50 ratio mainline/ours (both wall time): {:.1}",
            number(&theirs, "P50") / number(&ours, "P50").max(1e-3)
        ));
        report.push(format!("quality, ours:     {}", line(&ours, "QUALITY")));
        report.push(format!("quality, mainline: {}", line(&theirs, "QUALITY")));
        let (ob, tb) = (number(&ours, "RSSNODE"), number(&theirs, "RSSNODE"));
        report.push(format!(
            "testnet RSS per node (each testnet in a fresh process): ours {}, mainline {} (ratio mainline/ours {:.2})",
            kib(ob),
            kib(tb),
            tb / ob.max(1.0)
        ));
    }

    if !skipped("memory") {
        report.push("== Memory".to_string());
        for which in ["ours", "mainline"] {
            let text = child(which);
            match field(&text, "MEMORY") {
                Some(w) if w.len() == 4 => {
                    let (base, rss): (f64, f64) = (
                        w[1].parse().unwrap_or(f64::NAN),
                        w[2].parse().unwrap_or(f64::NAN),
                    );
                    report.push(format!(
                        "{which:<9} one node, {} nodes in its table: process RSS {}, {} above the bare process",
                        w[3],
                        kib(rss),
                        kib((rss - base).max(0.0))
                    ));
                }
                _ => report.push(format!("{which}: memory child failed")),
            }
        }
        let n = nodes.min(1000);
        let sim = child("sim");
        match field(&sim, "SIM") {
            Some(w) if w.len() == 4 => report.push(format!(
                "ours, simulator ({n} nodes grown through node 0 with default limits, then 60 simulated s; fresh process): {} per node; {} distinct ids, {} nodes per table on average, {} in nobody's table",
                kib(w[0].parse().unwrap_or(f64::NAN)),
                w[1],
                w[2],
                w[3]
            )),
            _ => report.push("simulator: child failed".into()),
        }
    }

    println!("\n{}", report.join("\n"));
}
