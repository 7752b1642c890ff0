//! One core's SHA-1 rate with the `sha1` crate the engine verifies pieces with:
//! hashes 1 MiB pieces for `SECONDS` (default 3) and prints one JSON line
//! `{"sha1_mb_s": R}`. Run by `experiments/fetch_bench.py`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let piece: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31 + 7) as u8).collect();
    let t0 = Instant::now();
    let mut n = 0u64;
    let mut acc = 0u8;
    while t0.elapsed().as_secs_f64() < secs {
        acc ^= swarmlab_engine::verify::sha1(&piece)[0];
        n += 1;
    }
    let rate = (n << 20) as f64 / t0.elapsed().as_secs_f64() / 1e6;
    println!("{{\"sha1_mb_s\": {rate:.1}, \"pieces\": {n}, \"check\": {acc}}}");
}
