//! The speed of `RoutingTable::closest(now, target, 8)`, the routing table's hot path
//! (every find_node and get_peers reply, every lookup seed), in the three cases of
//! `crates/dht/README.md` ("Speed of `closest`"):
//!
//! 1. every node good: the walk stops after the first buckets;
//! 2. every node stale (questionable): the table knows that no node can be good, and
//!    the walk still stops early;
//! 3. four good nodes, fewer than the 8 asked for: every node's state is checked.
//!
//! `cargo run --release -p swarmlab-dht --example closest` prints one markdown row per
//! case: nodes in the table, ns per call (mean over random targets), calls per second.
//! `-- --quick` runs a hundredth of the calls (to check that it works, not to measure).
#![allow(clippy::print_stdout)] // a program that reports on its terminal

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use swarmlab_dht::routing::RoutingTable;
use swarmlab_dht::Id;

/// Times `closest(at, target, 8)` over `calls` random targets; prints a markdown row.
fn time(case: &str, table: &RoutingTable, at: Instant, calls: u32, rng: &mut StdRng) {
    let targets: Vec<Id> = (0..1024).map(|_| Id::random(rng)).collect();
    let start = Instant::now();
    for i in 0..calls {
        let t = &targets[i as usize % targets.len()];
        black_box(table.closest(at, black_box(t), 8));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(calls);
    println!(
        "| {case} | {} | {} | {ns:.0} | {:.0} |",
        table.len(),
        table.good_len(at),
        1e9 / ns
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let calls = if quick { 10_000 } else { 1_000_000 };
    let mut rng = StdRng::seed_from_u64(7);
    let t0 = Instant::now();
    let our = Id::random(&mut rng);
    let mut table = RoutingTable::new(t0, our);
    // 8 nodes for each common-prefix length 0..70 with our id (bucket i holds the nodes
    // sharing exactly i bits), each answering once: a table of about 550 nodes, the
    // size a node on the real network reaches.
    let mut answered = Vec::new();
    let mut n = 0u32;
    for cpl in 0..70usize {
        for _ in 0..8 {
            let mut id = Id::random(&mut rng);
            for bit in 0..cpl {
                let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
                id.0[byte] = (id.0[byte] & !mask) | (our.0[byte] & mask);
            }
            let (byte, mask) = (cpl / 8, 0x80u8 >> (cpl % 8));
            id.0[byte] = (id.0[byte] & !mask) | (!our.0[byte] & mask);
            n += 1;
            let addr = SocketAddr::from((Ipv4Addr::from(0x0b00_0000 + n), 6881));
            if table.on_response(t0, id, addr).in_bucket() {
                answered.push((id, addr));
            }
        }
    }
    println!("| table | nodes | good | ns per closest(…, 8) | calls per second |");
    println!("|---|---|---|---|---|");
    time("every node good", &table, t0, calls, &mut rng);
    // 16 minutes later every node is past the 15-minute good window.
    let stale = t0 + Duration::from_secs(16 * 60);
    time("every node questionable", &table, stale, calls, &mut rng);
    // Four of them answer again: good, but fewer than the 8 asked for.
    for (id, addr) in answered.iter().take(4) {
        table.on_response(stale, *id, *addr);
    }
    time(
        "4 good, the rest questionable",
        &table,
        stale,
        calls / 10,
        &mut rng,
    );
}
