//! The live-stream benchmark: on loopback (127.74.0.0/16), a source fed at a fixed
//! rate and N viewers (each given the source, finding the others by ut_pex), for
//! each N on the command line. Per N it prints the end-to-end delay (from the time a
//! chunk of input was written into the source to the time it left each viewer's
//! output: p50, p90, p99, max over every chunk at every viewer), the source's share
//! of all piece bytes uploaded, and checks every viewer's output byte for byte.
//!
//! `cargo run --release -p swarmlab-stream --example stream_bench -- 1 10 50`
//!
//! Environment: `RATE` (input bytes per second, default 524288), `DURATION` (input seconds,
//! default 10), `PIECE` (piece size, default 16384), `FANOUT` (default 2).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use swarmlab_stream::{Bound, DriverConfig, Report, StreamId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Bytes the feeder writes at a time (one delay sample per chunk per viewer).
const CHUNK: usize = 4096;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    delays_ms: Vec<f64>,
    source: Report,
    viewers: Vec<Report>,
    identical: usize,
}

async fn run(n: usize, rate: u64, seconds: u64, piece: usize, fanout: usize) -> Run {
    let key = SigningKey::from_bytes(&rand::random());
    let id = StreamId::new(key.verifying_key());
    let total = (rate * seconds) as usize / CHUNK * CHUNK;
    let data: Arc<Vec<u8>> = Arc::new((0..total).map(|_| rand::random::<u8>()).collect());

    let max_peers = std::env::var("MAX_PEERS").ok().and_then(|v| v.parse().ok());
    let mut cfg = DriverConfig::new("127.74.0.1:0".parse().unwrap());
    cfg.node.piece_size = piece;
    cfg.node.fanout = fanout;
    cfg.node.end_linger = Duration::from_secs(5);
    let bound = Bound::bind(cfg.clone()).await.unwrap();
    let source_addr = bound.local_addr();
    let (feed, input) = tokio::io::duplex(1 << 20);
    let source = tokio::spawn(bound.send(key, input));

    // Viewers, each with its output read here: (time, bytes so far).
    let mut viewers = Vec::new();
    for i in 0..n {
        let listen: SocketAddr = format!("127.74.{}.{}:0", 1 + i / 250, 1 + i % 250)
            .parse()
            .unwrap();
        let mut vc = DriverConfig::new(listen);
        vc.node = cfg.node.clone();
        vc.peers = vec![source_addr];
        if let Some(m) = max_peers {
            vc.max_peers = m;
        }
        let bound = Bound::bind(vc).await.unwrap();
        let (out, mut read) = tokio::io::duplex(1 << 20);
        let report = tokio::spawn(bound.recv(id, out));
        let expect = data.clone();
        let reader = tokio::spawn(async move {
            let mut got = Vec::with_capacity(expect.len());
            let mut marks = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => {
                        got.extend_from_slice(&buf[..k]);
                        marks.push((Instant::now(), got.len()));
                    }
                }
            }
            (got == *expect, marks)
        });
        viewers.push((report, reader));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the last ones connect (they start from the first piece either way: the
    // window holds more than the stream made so far).
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Feed at the rate, noting when each chunk went in.
    let written = tokio::spawn(async move {
        let mut feed = feed;
        let start = Instant::now();
        let per_chunk = Duration::from_secs_f64(CHUNK as f64 / rate as f64);
        let mut times = Vec::new();
        for (i, c) in data.chunks(CHUNK).enumerate() {
            tokio::time::sleep_until(start + per_chunk * i as u32).await;
            feed.write_all(c).await.unwrap();
            times.push(Instant::now());
        }
        drop(feed);
        times
    });
    let times = written.await.unwrap();
    let source = source.await.unwrap().unwrap();
    let mut delays_ms = Vec::new();
    let mut reports = Vec::new();
    let mut identical = 0;
    for (report, reader) in viewers {
        let (same, marks) = reader.await.unwrap();
        reports.push(report.await.unwrap().unwrap());
        identical += usize::from(same);
        // A chunk left the viewer at the first mark covering its last byte.
        let mut m = 0;
        for (i, t_in) in times.iter().enumerate() {
            let end = (i + 1) * CHUNK;
            while m < marks.len() && marks[m].1 < end {
                m += 1;
            }
            if let Some((t_out, _)) = marks.get(m) {
                delays_ms.push(t_out.duration_since(*t_in).as_secs_f64() * 1000.0);
            }
        }
    }
    delays_ms.sort_by(|a, b| a.total_cmp(b));
    Run {
        delays_ms,
        source,
        viewers: reports,
        identical,
    }
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1, 10, 50]
    } else {
        counts
    };
    let rate = env("RATE", 512 * 1024);
    let seconds = env("DURATION", 10);
    let piece = env("PIECE", 16384) as usize;
    let fanout = env("FANOUT", 2) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "stream_bench: input {rate} B/s for {seconds} s, pieces of {piece} B, fanout {fanout}, \
         on loopback, source and viewers in one process ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12} {:>12} {:>10} {:>8} {:>9}",
        "viewers",
        "identical",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "seed bytes",
        "all bytes",
        "seed share",
        "skipped",
        "wire share"
    );
    for n in counts {
        let r = rt.block_on(run(n, rate, seconds, piece, fanout));
        let seed = r.source.node.piece_bytes_uploaded;
        let all = seed
            + r.viewers
                .iter()
                .map(|v| v.node.piece_bytes_uploaded)
                .sum::<u64>();
        let seed_wire = r.source.wire_bytes_out;
        let all_wire = seed_wire + r.viewers.iter().map(|v| v.wire_bytes_out).sum::<u64>();
        let skipped: u64 = r.viewers.iter().map(|v| v.node.pieces_skipped).sum();
        if std::env::var_os("VERBOSE").is_some() {
            let sum = |f: fn(&Report) -> u64| r.viewers.iter().map(f).sum::<u64>();
            eprintln!(
                "  viewers: requests {} timeouts {} dont_have {} duplicates {} peers {} pushes-in {}; source peers {}",
                sum(|v| v.node.requests_sent),
                sum(|v| v.node.request_timeouts),
                sum(|v| v.node.dont_haves),
                sum(|v| v.node.duplicates),
                sum(|v| v.peers),
                r.source.node.pushes,
                r.source.peers,
            );
        }
        let d = &r.delays_ms;
        println!(
            "{:>8} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>12} {:>12} {:>9.1}% {:>8} {:>8.1}%",
            n,
            format!("{}/{}", r.identical, n),
            pct(d, 0.5),
            pct(d, 0.9),
            pct(d, 0.99),
            pct(d, 1.0),
            seed,
            all,
            100.0 * seed as f64 / all.max(1) as f64,
            skipped,
            100.0 * seed_wire as f64 / all_wire.max(1) as f64,
        );
    }
}
