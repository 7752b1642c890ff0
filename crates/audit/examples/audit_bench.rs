//! Benchmark: how many peers per second the audit completes (TCP connect, BEP 3
//! handshake, BEP 10 extension handshake, bitfield) against real libtorrent peers on
//! loopback, and how much memory each peer costs.
//!
//! ```text
//! cargo run --release -p swarmlab-audit --example audit_bench -- [PEERS] [SESSIONS] [MAX_CONNS] [ROUNDS]
//! ```
//! Defaults: 400 peer addresses served by 8 libtorrent sessions (50 listening
//! addresses each, half seeds, half leechers at different completions), --max-conns 200,
//! 3 rounds. Needs Debian's python3-libtorrent (`/usr/bin/python3 -c "import libtorrent"`).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use swarmlab_audit::{audit_round, AuditConfig, RoundInputs, Target};
use swarmlab_tests::swarm::start_swarm;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let peers = arg(1, 400);
    let sessions = arg(2, 8).max(1);
    let max_conns = arg(3, 200);
    let rounds = arg(4, 3).max(1);
    let per_session = peers.div_ceil(sessions);
    let seeds = sessions / 2;
    let leechers: Vec<String> = (0..sessions - seeds)
        .map(|i| format!("{:.2}", (i as f64 + 1.0) / (sessions - seeds + 1) as f64))
        .collect();
    eprintln!("starting {sessions} libtorrent sessions × {per_session} listening addresses ...");
    let (seeds, leechers, per_session) = (
        seeds.to_string(),
        leechers.join(","),
        per_session.to_string(),
    );
    let mut args = vec![
        "--seeds",
        &seeds,
        "--leechers",
        &leechers,
        "--pieces",
        "256",
        "--piece-size",
        "16384",
        "--listen-per-session",
        &per_session,
    ];
    if std::env::var_os("AUDIT_BENCH_LOG").is_some() {
        args.push("--log-disconnects");
    }
    let swarm = start_swarm(&args);
    let addrs: Vec<SocketAddr> = swarm
        .info
        .peers
        .iter()
        .map(|p| p.addr)
        .take(peers)
        .collect();
    eprintln!(
        "libtorrent {} serving {} peer addresses",
        swarm.info.libtorrent_version,
        addrs.len()
    );

    let cfg = AuditConfig {
        max_conns,
        connect_timeout: Duration::from_secs(5),
        peer_budget: Duration::from_secs(30),
        linger: Duration::ZERO,
        use_dht: false,
        follow_pex: false,
        ..AuditConfig::default()
    };
    let inputs = RoundInputs {
        peers: addrs.clone(),
        ..RoundInputs::default()
    };
    println!(
        "{:>5} {:>6} {:>8} {:>8} {:>9} {:>10} {:>9} {:>9} {:>13} {:>13}",
        "round",
        "peers",
        "reached",
        "retried",
        "seconds",
        "peers/s",
        "p50 ms",
        "p99 ms",
        "peak KiB/conn",
        "report B/peer"
    );
    for round in 1..=rounds as u32 {
        let mut target = Target::from_file(&swarm.info.torrent)?;
        let base = rss_kib("VmRSS:");
        let peak = Arc::new(AtomicU64::new(base));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib("VmRSS:"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let t0 = Instant::now();
        let report = audit_round(&mut target, &inputs, &cfg, round, None).await;
        let secs = t0.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let reached = report.summary.reached;
        let concurrent = max_conns.min(addrs.len()).max(1) as f64;
        let per_conn = peak.load(Ordering::Relaxed).saturating_sub(base) as f64 / concurrent;
        let json = serde_json::to_vec(&report.peers)?;
        let mut durations: Vec<u64> = report.peers.iter().map(|p| p.duration_ms).collect();
        durations.sort_unstable();
        let pct = |q: f64| {
            durations
                .get(((durations.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0)
        };
        let retried = report
            .peers
            .iter()
            .filter(|p| p.warnings.iter().any(|w| w.contains("retried")))
            .count();
        println!(
            "{:>5} {:>6} {:>8} {:>8} {:>9.2} {:>10.0} {:>9} {:>9} {:>13.1} {:>13.0}",
            round,
            addrs.len(),
            reached,
            retried,
            secs,
            reached as f64 / secs,
            pct(0.5),
            pct(0.99),
            per_conn,
            json.len() as f64 / addrs.len().max(1) as f64
        );
        if reached < addrs.len() {
            let mut reasons = report.summary.failed_by_reason.clone();
            reasons.extend(report.summary.errors_after_handshake.clone());
            eprintln!("  not all reached: {reasons:?}");
            for p in report.peers.iter().filter(|p| p.failure.is_some()).take(3) {
                eprintln!("    {} {:?}", p.addr, p.failure);
            }
        }
    }
    drop(swarm);
    Ok(())
}
