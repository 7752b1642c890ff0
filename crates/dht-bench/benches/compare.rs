//! Our node side by side with the `mainline` crate (8.0.1), in the same run:
//!
//! 1. queries answered per second by one node on loopback, from the load generator
//!    (several sockets, a window of ping / find_node / get_peers queries outstanding),
//!    with an empty table and with a full one; round-trip percentiles;
//! 2. lookups in a 1,000-node loopback testnet: success, median and p90 latency,
//!    datagrams per lookup;
//! 3. memory: RSS of one node with a full table (each in a child process), and bytes
//!    per node in a testnet (and in our simulator).
//!
//! Run: `cargo bench -p swarmlab-dht-bench --bench compare` (release profile).
//! Environment: `DHT_BENCH_SECS` (seconds per load round, default 3), `DHT_BENCH_ROUNDS`
//! (rounds per phase, default 2), `DHT_BENCH_NODES`
//! (testnet size, default 1000), `DHT_BENCH_LOOKUPS` (default 30),
//! `DHT_BENCH_SKIP` (comma list of `load`, `lookup`, `memory`).
//!
//! Addresses: everything is on 127.60.0.0 – 127.69.255.255.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal
#![allow(deprecated)] // mainline's blocking API is marked deprecated in favour of async

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::Command;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use swarmlab_dht::limits::Limits;
use swarmlab_dht::lookup::LookupKind;
use swarmlab_dht::node::NodeConfig;
use swarmlab_dht_bench::{
    ids_by_distance, ip_range, percentile, rss_bytes, run_load, udp_out_datagrams, Fillers, Kind,
    LoadConfig, LoadReport,
};
use swarmlab_dht_driver::{Dht, DriverConfig};
use swarmlab_krpc::Id;

const OURS_ADDR: &str = "127.65.0.1:6881";
const THEIRS_IP: Ipv4Addr = Ipv4Addr::new(127, 67, 0, 1);
const PORT: u16 = 6881;
/// Fake nodes introduced to fill a table.
const FILL: usize = 240;

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

fn our_config() -> NodeConfig {
    NodeConfig {
        limits: Limits::unlimited(),
        seed: rand::random(),
        ..NodeConfig::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    // One worker: the node's task runs on one thread, like mainline's actor thread.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A node under test, ours or theirs.
trait Subject {
    fn name(&self) -> &'static str;
    fn addr(&self) -> SocketAddr;
    fn id(&self) -> [u8; 20];
    fn table_len(&self) -> usize;
    /// Fake-node ids that fill this implementation's table.
    fn fill_ids(&self) -> Vec<[u8; 20]>;
}

struct Ours {
    rt: tokio::runtime::Runtime,
    dht: Dht,
}

impl Ours {
    fn start(addr: SocketAddr) -> Ours {
        let rt = runtime();
        let mut cfg = DriverConfig::new(addr);
        cfg.node = our_config();
        let dht = rt.block_on(Dht::start(cfg)).expect("start our node");
        Ours { rt, dht }
    }
}

impl Subject for Ours {
    fn name(&self) -> &'static str {
        "ours"
    }
    fn addr(&self) -> SocketAddr {
        self.dht.local_addr()
    }
    fn id(&self) -> [u8; 20] {
        self.dht.id().0
    }
    fn table_len(&self) -> usize {
        self.rt
            .block_on(self.dht.snapshot())
            .map(|s| s.table_nodes)
            .unwrap_or(0)
    }
    fn fill_ids(&self) -> Vec<[u8; 20]> {
        // BEP 5 buckets of 8: one full bucket per shared-prefix length.
        ids_by_distance(&self.id(), FILL / 8, 8, &mut rand::thread_rng())
    }
}

struct Theirs {
    dht: mainline::Dht,
    addr: SocketAddr,
    id: [u8; 20],
}

impl Theirs {
    fn start(ip: Ipv4Addr, port: u16, bootstrap: Option<&[String]>) -> Theirs {
        let mut b = mainline::Dht::builder();
        b.server_mode().bind_address(ip).port(port);
        match bootstrap {
            Some(bs) => b.bootstrap(bs),
            None => b.no_bootstrap(),
        };
        let dht = b.build().expect("start a mainline node");
        let info = dht.info();
        Theirs {
            addr: SocketAddr::V4(info.local_addr()),
            id: *info.id().as_bytes(),
            dht,
        }
    }
}

impl Subject for Theirs {
    fn name(&self) -> &'static str {
        "mainline"
    }
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn id(&self) -> [u8; 20] {
        self.id
    }
    fn table_len(&self) -> usize {
        self.dht.to_bootstrap().len()
    }
    fn fill_ids(&self) -> Vec<[u8; 20]> {
        // mainline's buckets: one per XOR distance, 20 nodes each.
        ids_by_distance(&self.id(), FILL / 20, 20, &mut rand::thread_rng())
    }
}

/// Introduces fake nodes until the table holds `want` (or 10 s pass).
fn fill(s: &dyn Subject, first: Ipv4Addr, want: usize) -> (Fillers, usize) {
    let f = Fillers::start(first, 0, s.fill_ids()).expect("bind the fake nodes");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    while Instant::now() < deadline {
        f.introduce(s.addr()).expect("introduce");
        std::thread::sleep(Duration::from_millis(300));
        n = s.table_len();
        if n >= want {
            break;
        }
    }
    (f, n)
}

fn load(target: SocketAddr, from: Ipv4Addr, mix: &[Kind], secs: f64) -> LoadReport {
    let mut cfg = LoadConfig::new(target, ip_range(from, 4));
    cfg.window = 32;
    cfg.duration = Duration::from_secs_f64(secs);
    cfg.mix = mix.to_vec();
    run_load(&cfg).expect("load generator")
}

struct Row {
    what: String,
    ours: LoadReport,
    theirs: LoadReport,
}

const PHASES: [&str; 4] = [
    "mixed, empty table",
    "find_node, empty table",
    "mixed, full table",
    "find_node, full table",
];

fn throughput(secs: f64, rounds: usize) -> Vec<Row> {
    let mixed = [Kind::Ping, Kind::FindNode, Kind::GetPeers];
    let find = [Kind::FindNode];
    let ours = Ours::start(OURS_ADDR.parse().unwrap());
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
        let (mut best_o, mut best_t): (Option<LoadReport>, Option<LoadReport>) = (None, None);
        for _ in 0..rounds.max(1) {
            for (s, from, best) in [
                (&ours as &dyn Subject, from_o, &mut best_o),
                (theirs, from_t, &mut best_t),
            ] {
                let r = load(s.addr(), from, mix, secs);
                eprintln!(
                    "[{}] {what} (table {}): {}",
                    s.name(),
                    s.table_len(),
                    r.summary()
                );
                if best.as_ref().is_none_or(|b| r.qps() > b.qps()) {
                    *best = Some(r);
                }
            }
        }
        rows.push(Row {
            what: what.to_string(),
            ours: best_o.unwrap(),
            theirs: best_t.unwrap(),
        });
    }
    drop(fillers);
    ours.rt.block_on(ours.dht.shutdown());
    rows
}

struct LookupStats {
    n: usize,
    ok: usize,
    ms: Vec<f64>,
    /// Queries the lookup sent (ours: exact, from the lookup's own count).
    sent: Vec<f64>,
    /// UDP datagrams sent by everything on this host during the lookup (queries and
    /// replies), less the idle rate.
    snmp: Vec<f64>,
    note: String,
}

impl LookupStats {
    fn line(&self) -> String {
        let mut ms = self.ms.clone();
        ms.sort_by(|a, b| a.total_cmp(b));
        let mut sent = self.sent.clone();
        sent.sort_by(|a, b| a.total_cmp(b));
        let mut snmp = self.snmp.clone();
        snmp.sort_by(|a, b| a.total_cmp(b));
        format!(
            "{}/{} found, latency p50 {:.1} ms p90 {:.1} ms, queries sent p50 {}, datagrams (host counter) p50 {:.0} p90 {:.0}{}",
            self.ok,
            self.n,
            percentile(&ms, 50.0),
            percentile(&ms, 90.0),
            if sent.is_empty() {
                "n/a".to_string()
            } else {
                format!("{:.0} p90 {:.0}", percentile(&sent, 50.0), percentile(&sent, 90.0))
            },
            percentile(&snmp, 50.0),
            percentile(&snmp, 90.0),
            self.note
        )
    }
}

/// Datagrams per second sent on this host while nothing of ours runs a lookup.
fn idle_rate() -> f64 {
    let a = udp_out_datagrams().unwrap_or(0);
    std::thread::sleep(Duration::from_secs(1));
    let b = udp_out_datagrams().unwrap_or(0);
    (b - a) as f64
}

fn our_lookups(nodes: usize, lookups: usize) -> (LookupStats, f64, f64) {
    let rt = runtime();
    let rss0 = rss_bytes().unwrap_or(0);
    let t0 = Instant::now();
    let net = rt
        .block_on(swarmlab_dht_driver::testnet(
            nodes,
            Ipv4Addr::new(127, 61, 0, 1),
            PORT,
            our_config(),
        ))
        .expect("our testnet");
    rt.block_on(async {
        for n in net.iter().rev().take(20) {
            n.wait_for_nodes(8, Duration::from_secs(20)).await.ok();
        }
    });
    // Let the joins' far-bucket refreshes settle.
    std::thread::sleep(Duration::from_secs(3));
    let rss1 = rss_bytes().unwrap_or(0);
    eprintln!(
        "[ours] {nodes}-node testnet up in {:.1} s, {:.1} KiB RSS per node",
        t0.elapsed().as_secs_f64(),
        (rss1 - rss0) as f64 / nodes as f64 / 1024.0
    );
    let rtt = {
        let mut c = LoadConfig::new(
            net[0].local_addr(),
            ip_range(Ipv4Addr::new(127, 63, 0, 1), 1),
        );
        c.window = 1;
        c.mix = vec![Kind::Ping];
        c.duration = Duration::from_millis(500);
        run_load(&c).map(|r| r.pct_ms(50.0)).unwrap_or(0.0)
    };
    let idle = idle_rate();
    let mut rng = rand::thread_rng();
    let mut st = LookupStats {
        n: 0,
        ok: 0,
        ms: vec![],
        sent: vec![],
        snmp: vec![],
        note: String::new(),
    };
    for i in 0..lookups {
        let ih = Id::random(&mut rng);
        let idx: Vec<usize> = (0..nodes).collect();
        let pick: Vec<&usize> = idx.choose_multiple(&mut rng, 2).collect();
        let (a, b) = (&net[*pick[0]], &net[*pick[1]]);
        let port = 10000 + i as u16;
        let _ = rt.block_on(a.announce(ih, Some(port)));
        let c0 = udp_out_datagrams().unwrap_or(0);
        let t = Instant::now();
        let r = rt.block_on(b.lookup(LookupKind::GetPeers, ih));
        let el = t.elapsed();
        let c1 = udp_out_datagrams().unwrap_or(0);
        st.n += 1;
        if let Ok(r) = r {
            let want = SocketAddr::new(a.local_addr().ip(), port);
            if r.peers.contains(&want) {
                st.ok += 1;
            }
            st.ms.push(r.elapsed_ms);
            st.sent.push(r.messages as f64);
        }
        st.snmp
            .push(((c1 - c0) as f64 - idle * el.as_secs_f64()).max(0.0));
    }
    rt.block_on(async {
        for n in &net {
            n.shutdown().await;
        }
    });
    (st, rtt, (rss1 - rss0) as f64 / nodes as f64)
}

fn their_lookups(nodes: usize, lookups: usize) -> (LookupStats, f64) {
    let rss0 = rss_bytes().unwrap_or(0);
    let t0 = Instant::now();
    let first = Theirs::start(Ipv4Addr::new(127, 62, 0, 1), PORT, None);
    let boot = vec![first.addr.to_string()];
    let mut net = vec![first];
    for ip in ip_range(Ipv4Addr::new(127, 62, 0, 2), nodes - 1) {
        let std::net::IpAddr::V4(ip) = ip else {
            unreachable!()
        };
        net.push(Theirs::start(ip, PORT, Some(&boot)));
    }
    // Wait for the last nodes to have a table.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && net.iter().rev().take(20).any(|n| n.table_len() < 8) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let rss1 = rss_bytes().unwrap_or(0);
    eprintln!(
        "[mainline] {nodes}-node testnet up in {:.1} s, {:.1} KiB RSS per node",
        t0.elapsed().as_secs_f64(),
        (rss1 - rss0) as f64 / nodes as f64 / 1024.0
    );
    let idle = idle_rate();
    let mut rng = rand::thread_rng();
    let mut st = LookupStats {
        n: 0,
        ok: 0,
        ms: vec![],
        sent: vec![],
        snmp: vec![],
        note: String::new(),
    };
    let mut first_ms = Vec::new();
    for i in 0..lookups {
        let ih = mainline::Id::random();
        let (a, b) = {
            let a = rng.gen_range(0..nodes);
            let mut b = rng.gen_range(0..nodes);
            while b == a {
                b = rng.gen_range(0..nodes);
            }
            (a, b)
        };
        let port = 10000 + i as u16;
        let _ = net[a].dht.announce_peer(ih, Some(port));
        let want = SocketAddrV4::new(
            match net[a].addr.ip() {
                std::net::IpAddr::V4(v) => v,
                _ => unreachable!(),
            },
            port,
        );
        let c0 = udp_out_datagrams().unwrap_or(0);
        let t = Instant::now();
        let mut found = false;
        let mut first = None;
        for batch in net[b].dht.get_peers(ih) {
            if first.is_none() {
                first = Some(t.elapsed());
            }
            found |= batch.contains(&want);
        }
        let el = t.elapsed();
        let c1 = udp_out_datagrams().unwrap_or(0);
        st.n += 1;
        st.ok += found as usize;
        st.ms.push(el.as_secs_f64() * 1000.0);
        if let Some(f) = first {
            first_ms.push(f.as_secs_f64() * 1000.0);
        }
        st.snmp
            .push(((c1 - c0) as f64 - idle * el.as_secs_f64()).max(0.0));
    }
    first_ms.sort_by(|a, b| a.total_cmp(b));
    st.note = format!(
        "; first peers after p50 {:.1} ms (the lookup runs on to its end)",
        percentile(&first_ms, 50.0)
    );
    drop(net);
    (st, (rss1 - rss0) as f64 / nodes as f64)
}

/// Bytes per node of our simulator (`swarmlab_dht::sim`), `n` nodes joined.
fn sim_bytes_per_node(n: usize) -> f64 {
    use swarmlab_dht::sim::{Join, Sim, SimConfig};
    let rss0 = rss_bytes().unwrap_or(0);
    let mut sim = Sim::new(SimConfig::default());
    sim.grow(n, &our_config(), Join::First, Duration::from_millis(100))
        .expect("sim");
    sim.run_for(Duration::from_secs(60));
    let rss1 = rss_bytes().unwrap_or(0);
    let per = (rss1.saturating_sub(rss0)) as f64 / n as f64;
    drop(sim);
    per
}

/// Child process: one node with a full table; prints its RSS growth.
fn memory_child(which: &str) {
    let base = rss_bytes().unwrap_or(0);
    let (rss, table) = match which {
        "ours" => {
            let s = Ours::start("127.60.0.1:6881".parse().unwrap());
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
    println!("MEMORY {which} {} {} {}", base, rss, table);
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

fn memory_of(which: &str) -> Option<(u64, u64, usize)> {
    let text = child(which);
    let w = field(&text, "MEMORY")?;
    Some((w[1].parse().ok()?, w[2].parse().ok()?, w[3].parse().ok()?))
}

fn p50(s: &LookupStats) -> f64 {
    let mut v = s.ms.clone();
    v.sort_by(|a, b| a.total_cmp(b));
    percentile(&v, 50.0)
}

/// Child: a lookup benchmark; prints `LINE`, `P50`, `RSSNODE` and (ours) `RTT`.
fn lookup_child(which: &str, nodes: usize, lookups: usize) {
    let (st, bpn, rtt) = match which {
        "lookup-ours" => {
            let (st, rtt, bpn) = our_lookups(nodes, lookups);
            (st, bpn, rtt)
        }
        _ => {
            let (st, bpn) = their_lookups(nodes, lookups);
            (st, bpn, 0.0)
        }
    };
    println!("LINE {}", st.line());
    println!("P50 {}", p50(&st));
    println!("RSSNODE {bpn}");
    println!("RTT {rtt}");
}

fn kib(b: f64) -> String {
    format!("{:.0} KiB", b / 1024.0)
}

fn main() {
    let secs = env_num("DHT_BENCH_SECS", 3.0);
    let nodes = env_num("DHT_BENCH_NODES", 1000.0) as usize;
    let lookups = env_num("DHT_BENCH_LOOKUPS", 30.0) as usize;
    if std::env::var_os("DHT_BENCH_CHILD").is_none() && !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench targets too, unoptimized: skip.
        println!("compare: run with `cargo bench -p swarmlab-dht-bench --bench compare`");
        return;
    }
    if let Ok(which) = std::env::var("DHT_BENCH_CHILD") {
        match which.as_str() {
            "lookup-ours" | "lookup-mainline" => lookup_child(&which, nodes, lookups),
            "sim" => println!("SIM {}", sim_bytes_per_node(nodes.min(1000))),
            _ => memory_child(&which),
        }
        return;
    }
    let mut report = Vec::new();

    if !skipped("load") {
        let rounds = env_num("DHT_BENCH_ROUNDS", 2.0) as usize;
        let rows = throughput(secs, rounds);
        report.push(format!(
            "== Queries answered per second: one node on loopback, 4 sockets x 32 outstanding, best of {rounds} rounds of {secs} s, rounds alternating ours/mainline"
        ));
        report.push(format!(
            "{:<26} {:>12} {:>12} {:>7}   {:<24} {:<24}",
            "phase",
            "ours /s",
            "mainline /s",
            "ratio",
            "ours p50/p90/p99 ms",
            "mainline p50/p90/p99 ms"
        ));
        for r in &rows {
            let lat = |x: &LoadReport| {
                format!(
                    "{:.3}/{:.3}/{:.3}",
                    x.pct_ms(50.0),
                    x.pct_ms(90.0),
                    x.pct_ms(99.0)
                )
            };
            report.push(format!(
                "{:<26} {:>12.0} {:>12.0} {:>7.2}   {:<24} {:<24}",
                r.what,
                r.ours.qps(),
                r.theirs.qps(),
                r.ours.qps() / r.theirs.qps().max(1.0),
                lat(&r.ours),
                lat(&r.theirs)
            ));
        }
        for r in &rows {
            report.push(format!(
                "  {}: ours lost {} / {} sent, errors {}; mainline lost {} / {} sent, errors {}",
                r.what,
                r.ours.lost,
                r.ours.sent,
                r.ours.errors,
                r.theirs.lost,
                r.theirs.sent,
                r.theirs.errors
            ));
        }
    }

    if !skipped("lookup") {
        let ours = child("lookup-ours");
        let theirs = child("lookup-mainline");
        let get = |t: &str, k: &str| -> f64 {
            field(t, k)
                .and_then(|w| w.first().and_then(|x| x.parse().ok()))
                .unwrap_or(f64::NAN)
        };
        let line = |t: &str| {
            field(t, "LINE")
                .map(|w| w.join(" "))
                .unwrap_or_else(|| "child failed".into())
        };
        report.push(format!(
            "== get_peers lookups in a {nodes}-node loopback testnet ({lookups} lookups, each of a peer announced from another random node); loopback ping rtt p50 {:.3} ms",
            get(&ours, "RTT")
        ));
        report.push(format!("ours:     {}", line(&ours)));
        report.push(format!("mainline: {}", line(&theirs)));
        report.push(format!(
            "latency p50 ratio mainline/ours: {:.1}",
            get(&theirs, "P50") / get(&ours, "P50").max(1e-3)
        ));
        let (ob, tb) = (get(&ours, "RSSNODE"), get(&theirs, "RSSNODE"));
        report.push(format!(
            "testnet RSS per node (each testnet in a fresh process): ours {}, mainline {} (ratio {:.1})",
            kib(ob),
            kib(tb),
            tb / ob.max(1.0)
        ));
    }

    if !skipped("memory") {
        report.push("== Memory".to_string());
        for which in ["ours", "mainline"] {
            match memory_of(which) {
                Some((base, rss, table)) => report.push(format!(
                    "{which:<9} one node, {table} nodes in its table: process RSS {}, {} above the bare process",
                    kib(rss as f64),
                    kib(rss.saturating_sub(base) as f64)
                )),
                None => report.push(format!("{which}: memory child failed")),
            }
        }
        let n = nodes.min(1000);
        let sim = field(&child("sim"), "SIM")
            .and_then(|w| w.first().and_then(|x| x.parse().ok()))
            .unwrap_or(f64::NAN);
        report.push(format!(
            "ours, simulator ({n} nodes joined, 60 simulated s, fresh process): {} per node",
            kib(sim)
        ));
    }

    println!("\n{}", report.join("\n"));
}
