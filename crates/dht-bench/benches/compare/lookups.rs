//! Lookups in a loopback testnet of each implementation (each testnet in a child
//! process of its own): get_peers of a peer announced from another random node, timed
//! the same way for both (wall time around the call), with the datagrams the host sent;
//! then the network's quality: nodes in nobody's table, and find_node lookups of node
//! ids that return the exact node first.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use swarmlab_dht::limits::Limits;
use swarmlab_dht::lookup::LookupKind;
use swarmlab_dht_bench::{
    ip_range, percentile, rss_bytes, run_load, udp_out_datagrams, Kind, LoadConfig,
};
use swarmlab_krpc::Id;

use crate::subjects::{our_config, runtime, Theirs};

const PORT: u16 = 6881;

/// What one testnet's lookups gave.
#[derive(Default)]
pub struct LookupStats {
    n: usize,
    ok: usize,
    /// Wall time around each get_peers call, ms.
    ms: Vec<f64>,
    /// Ours only: the lookup's own `elapsed_ms` (the node's clock).
    node_ms: Vec<f64>,
    /// Ours only: queries the lookup sent, from its own count.
    sent: Vec<f64>,
    /// UDP datagrams sent by everything on this host during the lookup (queries and
    /// replies), less the idle rate.
    snmp: Vec<f64>,
    /// mainline only: time until its first batch of peers, ms.
    first_ms: Vec<f64>,
    /// Nodes that no other node holds as a verified (ours) or non-stale (mainline)
    /// table entry.
    orphans: usize,
    /// find_node lookups of a node's id, and how many returned that node first.
    find: usize,
    exact: usize,
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn p50_p90(v: &[f64]) -> String {
    if v.is_empty() {
        return "n/a".into();
    }
    let v = sorted(v);
    format!(
        "p50 {:.1} p90 {:.1}",
        percentile(&v, 50.0),
        percentile(&v, 90.0)
    )
}

impl LookupStats {
    /// The child's lines: `LINE` (the lookups), `QUALITY` and `P50`.
    pub fn print(&self) {
        println!(
            "LINE {}/{} found, latency (wall time around the call) {} ms, queries sent {}, datagrams (host counter) {}{}{}",
            self.ok,
            self.n,
            p50_p90(&self.ms),
            p50_p90(&self.sent),
            p50_p90(&self.snmp),
            if self.node_ms.is_empty() {
                String::new()
            } else {
                format!("; the node's own elapsed_ms {}", p50_p90(&self.node_ms))
            },
            if self.first_ms.is_empty() {
                String::new()
            } else {
                format!("; first peers after {} ms (the lookup runs on to its end)", p50_p90(&self.first_ms))
            },
        );
        println!(
            "QUALITY {} nodes in nobody's table; find_node of a node's id returned it first in {}/{} lookups ({:.1}%)",
            self.orphans,
            self.exact,
            self.find,
            100.0 * self.exact as f64 / self.find.max(1) as f64
        );
        println!("P50 {}", percentile(&sorted(&self.ms), 50.0));
    }
}

/// Datagrams per second sent on this host while nothing of ours runs a lookup.
fn idle_rate() -> f64 {
    let a = udp_out_datagrams().unwrap_or(0);
    std::thread::sleep(Duration::from_secs(1));
    let b = udp_out_datagrams().unwrap_or(0);
    (b - a) as f64
}

/// Host datagrams of a call that took `el`, less the idle rate.
fn net_datagrams(c0: u64, c1: u64, idle: f64, el: Duration) -> f64 {
    ((c1 - c0) as f64 - idle * el.as_secs_f64()).max(0.0)
}

/// Lets a testnet that started at `t0` settle (the joins' far-bucket refreshes), then
/// returns the process RSS and logs the RSS per node above `rss0`.
fn settled_rss(name: &str, nodes: usize, rss0: u64, t0: Instant) -> u64 {
    std::thread::sleep(Duration::from_secs(3));
    let rss1 = rss_bytes().unwrap_or(0);
    eprintln!(
        "[{name}] {nodes}-node testnet up in {:.1} s, {:.1} KiB RSS per node",
        t0.elapsed().as_secs_f64(),
        rss1.saturating_sub(rss0) as f64 / nodes as f64 / 1024.0
    );
    rss1
}

/// Two distinct random indices below `n`.
fn two(rng: &mut impl Rng, n: usize) -> (usize, usize) {
    let a = rng.gen_range(0..n);
    let mut b = rng.gen_range(0..n);
    while b == a {
        b = rng.gen_range(0..n);
    }
    (a, b)
}

fn v4(a: SocketAddr) -> Ipv4Addr {
    match a.ip() {
        IpAddr::V4(v) => v,
        IpAddr::V6(_) => unreachable!("the testnets are IPv4"),
    }
}

/// Our testnet: returns the stats, the loopback ping round trip (ms) and RSS per node.
pub fn ours(nodes: usize, lookups: usize, finds: usize) -> (LookupStats, f64, f64) {
    let rt = runtime();
    let rss0 = rss_bytes().unwrap_or(0);
    let t0 = Instant::now();
    let net = rt
        .block_on(swarmlab_dht_driver::testnet(
            nodes,
            Ipv4Addr::new(127, 61, 0, 1),
            PORT,
            our_config(Limits::unlimited()),
        ))
        .expect("our testnet");
    rt.block_on(async {
        for n in net.iter().rev().take(20) {
            n.wait_for_nodes(8, Duration::from_secs(20)).await.ok();
        }
    });
    let rss1 = settled_rss("ours", nodes, rss0, t0);
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
    let mut st = LookupStats::default();
    for i in 0..lookups {
        let ih = Id::random(&mut rng);
        let (a, b) = two(&mut rng, nodes);
        let (a, b) = (&net[a], &net[b]);
        let port = 10000 + i as u16;
        let _ = rt.block_on(a.announce(ih, Some(port)));
        let c0 = udp_out_datagrams().unwrap_or(0);
        let t = Instant::now();
        let r = rt.block_on(b.lookup(LookupKind::GetPeers, ih));
        let el = t.elapsed();
        let c1 = udp_out_datagrams().unwrap_or(0);
        st.n += 1;
        st.ms.push(el.as_secs_f64() * 1000.0);
        st.snmp.push(net_datagrams(c0, c1, idle, el));
        if let Ok(r) = r {
            if r.peers
                .contains(&SocketAddr::new(a.local_addr().ip(), port))
            {
                st.ok += 1;
            }
            st.node_ms.push(r.elapsed_ms);
            st.sent.push(r.messages as f64);
        }
    }
    // Quality: verified entries of every table, then find_node of random nodes' ids.
    let mut known: HashSet<SocketAddr> = HashSet::new();
    for n in &net {
        for e in rt.block_on(n.table()).unwrap_or_default() {
            if e.last_response.is_some() {
                known.insert(e.addr);
            }
        }
    }
    st.orphans = net
        .iter()
        .filter(|n| !known.contains(&n.local_addr()))
        .count();
    for _ in 0..finds {
        let (a, b) = two(&mut rng, nodes);
        let target = net[a].id();
        st.find += 1;
        if let Ok(r) = rt.block_on(net[b].lookup(LookupKind::FindNode, target)) {
            st.exact += usize::from(r.closest.first().map(|c| c.0) == Some(target));
        }
    }
    rt.block_on(async {
        for n in &net {
            n.shutdown().await;
        }
    });
    (st, rtt, rss1.saturating_sub(rss0) as f64 / nodes as f64)
}

/// `mainline`'s testnet: returns the stats and RSS per node.
pub fn theirs(nodes: usize, lookups: usize, finds: usize) -> (LookupStats, f64) {
    let rss0 = rss_bytes().unwrap_or(0);
    let t0 = Instant::now();
    let first = Theirs::start(Ipv4Addr::new(127, 62, 0, 1), PORT, None);
    let boot = vec![first.addr.to_string()];
    let mut net = vec![first];
    for ip in ip_range(Ipv4Addr::new(127, 62, 0, 2), nodes - 1) {
        let IpAddr::V4(ip) = ip else {
            unreachable!("ip_range gives IPv4")
        };
        net.push(Theirs::start(ip, PORT, Some(&boot)));
    }
    // Wait for the last nodes to have a table.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && net
            .iter()
            .rev()
            .take(20)
            .any(|n| n.dht.to_bootstrap().len() < 8)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let rss1 = settled_rss("mainline", nodes, rss0, t0);
    let idle = idle_rate();
    let mut rng = rand::thread_rng();
    let mut st = LookupStats::default();
    for i in 0..lookups {
        let ih = mainline::Id::random();
        let (a, b) = two(&mut rng, nodes);
        let port = 10000 + i as u16;
        let _ = net[a].dht.announce_peer(ih, Some(port));
        let want = SocketAddrV4::new(v4(net[a].addr), port);
        let c0 = udp_out_datagrams().unwrap_or(0);
        let t = Instant::now();
        let (mut found, mut first) = (false, None);
        for batch in net[b].dht.get_peers(ih) {
            first.get_or_insert_with(|| t.elapsed().as_secs_f64() * 1000.0);
            found |= batch.contains(&want);
        }
        st.first_ms.extend(first);
        let el = t.elapsed();
        let c1 = udp_out_datagrams().unwrap_or(0);
        st.n += 1;
        st.ok += usize::from(found);
        st.ms.push(el.as_secs_f64() * 1000.0);
        st.snmp.push(net_datagrams(c0, c1, idle, el));
    }
    // Quality: every node's non-stale table entries, then find_node of random ids.
    let mut known: HashSet<SocketAddr> = HashSet::new();
    for n in &net {
        known.extend(
            n.dht
                .to_bootstrap()
                .iter()
                .filter_map(|a| a.parse::<SocketAddr>().ok()),
        );
    }
    st.orphans = net.iter().filter(|n| !known.contains(&n.addr)).count();
    let ids: Vec<usize> = (0..nodes).collect();
    for _ in 0..finds {
        let pick: Vec<&usize> = ids.choose_multiple(&mut rng, 2).collect();
        let (a, b) = (*pick[0], *pick[1]);
        let target = mainline::Id::from_bytes(net[a].id).expect("20 bytes");
        st.find += 1;
        let got = net[b].dht.find_node(target);
        st.exact += usize::from(got.first().map(|n| *n.id()) == Some(target));
    }
    drop(net);
    (st, rss1.saturating_sub(rss0) as f64 / nodes as f64)
}
