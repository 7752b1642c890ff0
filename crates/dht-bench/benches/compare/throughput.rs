//! Queries answered per second by one node on loopback, ours and `mainline`'s in the
//! same run, rounds alternating between them: four phases with rate limits off (the
//! headline), and our node once more with its default limits.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use swarmlab_dht::limits::Limits;
use swarmlab_dht_bench::{ip_range, run_load, Kind, LoadConfig, LoadReport};
use swarmlab_krpc::Id;

use crate::subjects::{fill, Ours, Subject, Theirs};

const OURS_ADDR: &str = "127.65.0.1:6881";
/// Our node with the default limits (a separate node, so the headline one is untouched).
const OURS_DEFAULT_ADDR: &str = "127.65.0.2:6881";
const THEIRS_IP: Ipv4Addr = Ipv4Addr::new(127, 67, 0, 1);
const PORT: u16 = 6881;

/// One phase: the best round of each node.
pub struct Row {
    pub what: String,
    pub ours: LoadReport,
    /// `None` for the default-limits phase, which only our node has.
    pub theirs: Option<LoadReport>,
}

const PHASES: [&str; 4] = [
    "mixed, empty table",
    "find_node, empty table",
    "mixed, full table",
    "find_node, full table",
];

/// The name of the default-limits phase.
pub const DEFAULT_PHASE: &str = "mixed, empty table, default limits";

fn load(target: SocketAddr, from: Ipv4Addr, mix: &[Kind], secs: f64) -> LoadReport {
    let mut cfg = LoadConfig::new(target, ip_range(from, 4));
    cfg.window = 32;
    cfg.duration = Duration::from_secs_f64(secs);
    cfg.mix = mix.to_vec();
    run_load(&cfg).expect("load generator")
}

/// Keeps the round with more answers per second.
fn keep_best(best: &mut Option<LoadReport>, r: LoadReport) {
    if best.as_ref().is_none_or(|b| r.qps() > b.qps()) {
        *best = Some(r);
    }
}

pub fn throughput(secs: f64, rounds: usize) -> Vec<Row> {
    let mixed = [Kind::Ping, Kind::FindNode, Kind::GetPeers];
    let find = [Kind::FindNode];
    let ours = Ours::start(OURS_ADDR.parse().unwrap(), Limits::unlimited());
    // mainline adds the sender of every find_node to its table (with the *target* as
    // its id) while it has no bootstrap nodes (its rule for the first node of a
    // network), so the load itself would fill it. For the empty-table phases it gets a
    // bootstrap address where nothing listens; the full-table node has none and is
    // filled like ours.
    let empty = Theirs::start(THEIRS_IP, PORT, Some(&["127.64.255.254:9".to_string()]));
    let full = Theirs::start(Ipv4Addr::new(127, 67, 0, 2), PORT, None);
    eprintln!("[ours] {} id {}", ours.addr(), Id(ours.id()));
    eprintln!("[mainline] {} id {}", empty.addr(), Id(empty.id()));
    let (from_o, from_t) = (Ipv4Addr::new(127, 68, 0, 1), Ipv4Addr::new(127, 69, 0, 1));
    let mut rows = Vec::new();
    let mut fillers = Vec::new();
    for (i, what) in PHASES.iter().enumerate() {
        if i == 2 {
            for (s, ip) in [
                (&ours as &dyn Subject, Ipv4Addr::new(127, 66, 0, 1)),
                (&full, Ipv4Addr::new(127, 64, 0, 1)),
            ] {
                let (f, n) = fill(s, ip, 200);
                eprintln!("[{}] table filled: {n} nodes", s.name());
                fillers.push(f);
            }
        }
        let theirs: &dyn Subject = if i < 2 { &empty } else { &full };
        let mix = if i % 2 == 0 { &mixed[..] } else { &find[..] };
        // Rounds alternate between the two nodes so that both see the same background
        // load (the machine is shared); the best round of each is kept.
        let (mut best_o, mut best_t) = (None, None);
        for round in 0..rounds.max(1) {
            let o = load(ours.addr(), from_o, mix, secs);
            let t = load(theirs.addr(), from_t, mix, secs);
            eprintln!(
                "[{what}] round {round}: ours {:.0}/s (table {}), mainline {:.0}/s (table {}), ratio {:.2}",
                o.qps(),
                ours.table_len(),
                t.qps(),
                theirs.table_len(),
                o.qps() / t.qps().max(1.0)
            );
            keep_best(&mut best_o, o);
            keep_best(&mut best_t, t);
        }
        rows.push(Row {
            what: what.to_string(),
            ours: best_o.expect("at least one round"),
            theirs: best_t,
        });
    }
    drop(fillers);
    ours.rt.block_on(ours.dht.shutdown());

    // The same mixed load against a node with the default limits (5 queries/s per IP
    // with a burst of 20, an IP over it blocked 60 s; 1,000 replies/s in all): the load
    // comes from 4 addresses, so it sees what 4 busy clients would.
    let limited = Ours::start(OURS_DEFAULT_ADDR.parse().unwrap(), Limits::default());
    let mut best = None;
    for round in 0..rounds.max(1) {
        // Each round from 4 fresh addresses: the last round's are blocked.
        let from = Ipv4Addr::new(127, 68, 1 + round as u8, 1);
        let r = load(limited.addr(), from, &mixed, secs);
        eprintln!("[{DEFAULT_PHASE}] round {round}: ours {}", r.summary());
        keep_best(&mut best, r);
    }
    if let Ok(s) = limited.rt.block_on(limited.dht.snapshot()) {
        eprintln!(
            "[{DEFAULT_PHASE}] refused: {} rate-limited, {} blocked, {} over the reply cap",
            s.stats.rate_limited, s.stats.blocked, s.stats.replies_capped
        );
    }
    limited.rt.block_on(limited.dht.shutdown());
    rows.push(Row {
        what: DEFAULT_PHASE.to_string(),
        ours: best.expect("at least one round"),
        theirs: None,
    });
    rows
}

/// The table of the phases, every figure of both nodes from the same run.
pub fn report(rows: &[Row], rounds: usize, secs: f64, out: &mut Vec<String>) {
    out.push(format!(
        "== Queries answered per second: one node on loopback, 4 sockets x 32 outstanding, best of {rounds} rounds of {secs} s, rounds alternating ours/mainline; rate limits off in both (Limits::unlimited() for ours) except in the last row"
    ));
    out.push(format!(
        "{:<36} {:>12} {:>12} {:>7}   {:<24} {:<24}",
        "phase",
        "ours /s",
        "mainline /s",
        "ratio",
        "ours p50/p90/p99 ms",
        "mainline p50/p90/p99 ms"
    ));
    let lat = |x: &LoadReport| {
        format!(
            "{:.3}/{:.3}/{:.3}",
            x.pct_ms(50.0),
            x.pct_ms(90.0),
            x.pct_ms(99.0)
        )
    };
    for r in rows {
        let (theirs, ratio, tlat) = match &r.theirs {
            Some(t) => (
                format!("{:.0}", t.qps()),
                format!("{:.2}", r.ours.qps() / t.qps().max(1.0)),
                lat(t),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        out.push(format!(
            "{:<36} {:>12.0} {:>12} {:>7}   {:<24} {:<24}",
            r.what,
            r.ours.qps(),
            theirs,
            ratio,
            lat(&r.ours),
            tlat
        ));
    }
    for r in rows {
        let theirs = r.theirs.as_ref().map_or(String::new(), |t| {
            format!(
                "; mainline lost {} / {} sent, errors {}",
                t.lost, t.sent, t.errors
            )
        });
        out.push(format!(
            "  {}: ours lost {} / {} sent, errors {}{theirs}",
            r.what, r.ours.lost, r.ours.sent, r.ours.errors
        ));
    }
}
