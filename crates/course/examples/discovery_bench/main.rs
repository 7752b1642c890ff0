//! The discovery benchmarks of issue 8, on a loopback DHT testnet in this process.
//!
//! ```text
//! cargo run --release -p swarmlab-course --example discovery_bench -- lookups [--nodes 1000] [--chunks 2048]
//! cargo run --release -p swarmlab-course --example discovery_bench -- trackerless [--nodes 1000] [--size 32MiB] [--chunk-size 512KiB]
//! ```
//!
//! - `lookups`: what discovery costs in datagrams for a file of `--chunks` chunks. A
//!   publisher (a peer's DHT node) announces the file id once, then every chunk's
//!   hash; Charlie's node (read-only, through the DHT source of the chain) looks up
//!   the file id once, then every chunk's hash. Each row: lookups or announces,
//!   datagrams the working node sent and received, time.
//! - `trackerless`: Alice and Bob (the course peers, BitTorrent mode on the course
//!   port, the peers' announcer) announce a random file's id into the testnet;
//!   Charlie, knowing only the file id and one bootstrap node, runs step 4 (DHT →
//!   metadata → GET_CHUNK/CHUNK). Printed: the time from Charlie's start to its first
//!   chunk and to the whole file, and the discovery report.
//!
//! The testnet's nodes run without rate limits (`Limits::unlimited()`): on a loopback
//! testnet every query of a run lands on the same thousand nodes, where the real DHT
//! spreads them over millions, so a default per-IP limit (5 queries/s, burst 20)
//! would measure the testnet, not the protocol. Charlie's node keeps the defaults a
//! user gets (500 queries/s out, burst 100): the time of 2,048 lookups is bounded by
//! that cap. The publisher runs without it (see `lookups.rs`). Figures go to
//! docs/course.md.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal

mod args;
mod lookups;
mod net;
mod trackerless;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args::Args::parse()?;
    match a.mode.as_str() {
        "lookups" => lookups::run(&a).await,
        "trackerless" => trackerless::run(&a).await,
        m => Err(format!("unknown mode {m:?}: lookups or trackerless").into()),
    }
}
