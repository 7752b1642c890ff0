//! Benchmark tools for DHT nodes, usable against any BEP 5 node on loopback:
//!
//! * [`run_load`]: a load generator. Several UDP sockets (each on its own 127.x address,
//!   each on its own thread) keep a window of ping, find_node and get_peers queries
//!   outstanding against one node for a fixed time; it counts the answers and records
//!   every round trip ([`LoadReport`]).
//! * [`Fillers`]: many small fake nodes (one socket each, on distinct 127.x addresses)
//!   whose ids are spread over the distance classes of a target id. Each sends the node
//!   one `find_node` (its own id as sender and as target) and answers whatever the node
//!   asks back, so the node's routing table fills with a few hundred verified nodes.
//! * [`rss_bytes`]: the resident set size of this process.
//!
//! Queries are encoded by hand (fixed templates with the transaction id patched in) and
//! answers are parsed only as far as `t` and `y`, so that the generator spends as little
//! CPU as possible: on a 2-core machine it shares the cores with the node it measures.
#![allow(missing_docs)] // issue 7: documented by the structure work, then removed

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::Rng;

/// A query kind the generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ping,
    FindNode,
    GetPeers,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Ping, Kind::FindNode, Kind::GetPeers];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ping => "ping",
            Kind::FindNode => "find_node",
            Kind::GetPeers => "get_peers",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How to load a node.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: SocketAddr,
    /// One socket (and thread) per address; port 0.
    pub sources: Vec<IpAddr>,
    /// Queries each socket keeps outstanding.
    pub window: usize,
    pub duration: Duration,
    /// Sent in turn.
    pub mix: Vec<Kind>,
    /// A query unanswered this long is counted lost and its slot reused.
    pub lost_after: Duration,
    /// Send `ro: 1` (BEP 43): the node does not add the generator to its table.
    pub read_only: bool,
}

impl LoadConfig {
    pub fn new(target: SocketAddr, sources: Vec<IpAddr>) -> LoadConfig {
        LoadConfig {
            target,
            sources,
            window: 32,
            duration: Duration::from_secs(5),
            mix: Kind::ALL.to_vec(),
            lost_after: Duration::from_millis(500),
            read_only: false,
        }
    }
}

/// What a load run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub sent: u64,
    /// Responses (`y: r`) to our queries, per kind.
    pub answered: [u64; 3],
    /// KRPC errors (`y: e`) received.
    pub errors: u64,
    /// Queries counted lost (no answer within `lost_after`, or still out at the end).
    pub lost: u64,
    /// Queries the node sent us (answered by the generator).
    pub queries_from_node: u64,
    pub elapsed: Duration,
    /// Round trips of answered queries, microseconds, sorted.
    pub rtt_us: Vec<u32>,
}

impl LoadReport {
    pub fn answered_total(&self) -> u64 {
        self.answered.iter().sum()
    }

    /// Answered queries per second.
    pub fn qps(&self) -> f64 {
        self.answered_total() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn qps_of(&self, k: Kind) -> f64 {
        self.answered[k.index()] as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Round-trip percentile `p` (0..=100), milliseconds.
    pub fn pct_ms(&self, p: f64) -> f64 {
        percentile(&self.rtt_us, p) as f64 / 1000.0
    }

    fn merge(&mut self, o: LoadReport) {
        self.sent += o.sent;
        for (a, b) in self.answered.iter_mut().zip(o.answered) {
            *a += b;
        }
        self.errors += o.errors;
        self.lost += o.lost;
        self.queries_from_node += o.queries_from_node;
        self.elapsed = self.elapsed.max(o.elapsed);
        self.rtt_us.extend(o.rtt_us);
    }

    /// One line: rate, answers, latency percentiles.
    pub fn summary(&self) -> String {
        format!(
            "{:>9.0} answers/s ({} answered, {} errors, {} lost of {} sent) rtt p50 {:.3} p90 {:.3} p99 {:.3} ms",
            self.qps(),
            self.answered_total(),
            self.errors,
            self.lost,
            self.sent,
            self.pct_ms(50.0),
            self.pct_ms(90.0),
            self.pct_ms(99.0)
        )
    }
}

/// Value at percentile `p` of sorted `v` (nearest rank); 0 when empty.
pub fn percentile<T: Copy + Default>(v: &[T], p: f64) -> T {
    if v.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Consecutive IPv4 addresses from `first`.
pub fn ip_range(first: Ipv4Addr, n: usize) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(u32::from(first) + i as u32)))
        .collect()
}

/// Runs the load; blocks for `cfg.duration`.
pub fn run_load(cfg: &LoadConfig) -> io::Result<LoadReport> {
    if cfg.mix.is_empty() || cfg.sources.is_empty() || cfg.window == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "need a mix, sources and a window",
        ));
    }
    let mut sockets = Vec::new();
    for ip in &cfg.sources {
        let s = UdpSocket::bind(SocketAddr::new(*ip, 0))?;
        s.connect(cfg.target)?;
        s.set_read_timeout(Some(Duration::from_millis(10)))?;
        sockets.push(s);
    }
    let start = Instant::now();
    let handles: Vec<JoinHandle<LoadReport>> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let cfg = cfg.clone();
            std::thread::spawn(move || load_thread(s, i, &cfg, start))
        })
        .collect();
    let mut total = LoadReport::default();
    for h in handles {
        total.merge(
            h.join()
                .map_err(|_| io::Error::other("load thread panicked"))?,
        );
    }
    total.rtt_us.sort_unstable();
    Ok(total)
}

const RING: usize = 8192;

#[derive(Clone, Copy)]
struct Slot {
    seq: u32,
    sent: Instant,
    kind: Kind,
    live: bool,
}

fn load_thread(s: UdpSocket, index: usize, cfg: &LoadConfig, start: Instant) -> LoadReport {
    let mut rng = rand::thread_rng();
    let mut id = [0u8; 20];
    rng.fill(&mut id[..]);
    let window = cfg.window.min(RING / 2);
    let mut ring = vec![
        Slot {
            seq: 0,
            sent: start,
            kind: Kind::Ping,
            live: false,
        };
        RING
    ];
    let mut r = LoadReport {
        rtt_us: Vec::with_capacity(1 << 20),
        ..LoadReport::default()
    };
    let mut seq: u32 = (index as u32) << 24;
    let mut outstanding = 0usize;
    let mut mix_i = index;
    let mut out = Vec::with_capacity(128);
    let mut buf = [0u8; 2048];
    let deadline = start + cfg.duration;
    let mut next_sweep = start + Duration::from_millis(100);
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        while outstanding < window {
            let kind = cfg.mix[mix_i % cfg.mix.len()];
            mix_i += 1;
            let slot = &mut ring[seq as usize % RING];
            if slot.live {
                // Wrapped onto a query still out: it is lost.
                r.lost += 1;
                outstanding -= 1;
            }
            let mut target = [0u8; 20];
            rng.fill(&mut target[..]);
            encode_query(&mut out, kind, &id, &target, seq, cfg.read_only);
            *slot = Slot {
                seq,
                sent: Instant::now(),
                kind,
                live: true,
            };
            seq = seq.wrapping_add(1);
            match s.send(&out) {
                Ok(_) => {
                    r.sent += 1;
                    outstanding += 1;
                }
                Err(_) => {
                    slot.live = false;
                    break;
                }
            }
        }
        match s.recv(&mut buf) {
            Ok(n) => {
                let msg = &buf[..n];
                let Some((t, y)) = top_t_y(msg) else { continue };
                if y == b'q' {
                    // The node checks on us (a ping after our query): answer it.
                    r.queries_from_node += 1;
                    encode_response(&mut out, &id, t);
                    let _ = s.send(&out);
                    continue;
                }
                if t.len() != 4 {
                    continue;
                }
                let tseq = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
                let slot = &mut ring[tseq as usize % RING];
                if !slot.live || slot.seq != tseq {
                    continue;
                }
                slot.live = false;
                outstanding -= 1;
                match y {
                    b'r' => {
                        r.answered[slot.kind.index()] += 1;
                        let us = slot.sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        r.rtt_us.push(us);
                    }
                    _ => r.errors += 1,
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {}
        }
        let now = Instant::now();
        if now >= next_sweep {
            next_sweep = now + Duration::from_millis(100);
            for slot in ring.iter_mut().filter(|s| s.live) {
                if now - slot.sent >= cfg.lost_after {
                    slot.live = false;
                    outstanding -= 1;
                    r.lost += 1;
                }
            }
        }
    }
    r.lost += outstanding as u64;
    r.elapsed = start.elapsed();
    r
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

/// A KRPC query with a 4-byte transaction id (the `mainline` crate requires 4 bytes).
pub fn encode_query(
    out: &mut Vec<u8>,
    kind: Kind,
    id: &[u8; 20],
    target: &[u8; 20],
    tid: u32,
    read_only: bool,
) {
    out.clear();
    out.extend_from_slice(b"d1:ad2:id");
    put_bytes(out, id);
    match kind {
        Kind::Ping => {}
        Kind::FindNode => {
            out.extend_from_slice(b"6:target");
            put_bytes(out, target);
        }
        Kind::GetPeers => {
            out.extend_from_slice(b"9:info_hash");
            put_bytes(out, target);
        }
    }
    out.extend_from_slice(b"e1:q");
    put_bytes(out, kind.name().as_bytes());
    if read_only {
        out.extend_from_slice(b"2:roi1e");
    }
    out.extend_from_slice(b"1:t");
    put_bytes(out, &tid.to_be_bytes());
    out.extend_from_slice(b"1:y1:qe");
}

/// A response carrying only our id (answers ping, and is a valid enough answer to
/// anything else a node asks a benchmark socket).
pub fn encode_response(out: &mut Vec<u8>, id: &[u8; 20], tid: &[u8]) {
    out.clear();
    out.extend_from_slice(b"d1:rd2:id");
    put_bytes(out, id);
    out.extend_from_slice(b"e1:t");
    put_bytes(out, tid);
    out.extend_from_slice(b"1:y1:re");
}

/// The end of the bencoded value starting at `i`.
fn skip(b: &[u8], mut i: usize, depth: u32) -> Option<usize> {
    if depth > 32 {
        return None;
    }
    match *b.get(i)? {
        b'i' => Some(i + b[i..].iter().position(|&c| c == b'e')? + 1),
        b'l' | b'd' => {
            i += 1;
            while *b.get(i)? != b'e' {
                i = skip(b, i, depth + 1)?;
            }
            Some(i + 1)
        }
        b'0'..=b'9' => {
            let (s, e) = string_at(b, i)?;
            let _ = s;
            Some(e)
        }
        _ => None,
    }
}

/// The byte string at `i`: (its bytes' start, the end).
fn string_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let colon = i + b[i..].iter().take(8).position(|&c| c == b':')?;
    let len: usize = std::str::from_utf8(&b[i..colon]).ok()?.parse().ok()?;
    let end = colon + 1 + len;
    (end <= b.len()).then_some((colon + 1, end))
}

/// The top-level `t` (transaction id) and the first byte of `y` of a KRPC message.
pub fn top_t_y(b: &[u8]) -> Option<(&[u8], u8)> {
    if b.first() != Some(&b'd') {
        return None;
    }
    let mut i = 1;
    let (mut t, mut y) = (None, None);
    while *b.get(i)? != b'e' {
        let (ks, ke) = string_at(b, i)?;
        let key = &b[ks..ke];
        let vend = skip(b, ke, 0)?;
        if key == b"t" || key == b"y" {
            let (vs, _) = string_at(b, ke)?;
            if key == b"t" {
                t = Some(&b[vs..vend]);
            } else {
                y = b.get(vs).copied();
            }
        }
        i = vend;
    }
    Some((t?, y?))
}

/// Ids at increasing XOR distance classes from `center`: `per` ids whose first
/// differing bit from `center` is bit `d`, for `d` in `0..classes`.
pub fn ids_by_distance<R: Rng>(
    center: &[u8; 20],
    classes: usize,
    per: usize,
    rng: &mut R,
) -> Vec<[u8; 20]> {
    let mut out = Vec::with_capacity(classes * per);
    for d in 0..classes.min(160) {
        for _ in 0..per {
            let mut id = *center;
            id[d / 8] ^= 0x80 >> (d % 8);
            for bit in d + 1..160 {
                if rng.gen::<bool>() {
                    id[bit / 8] ^= 0x80 >> (bit % 8);
                }
            }
            out.push(id);
        }
    }
    out
}

/// Fake nodes that introduce themselves to a node and answer its queries.
pub struct Fillers {
    pub addrs: Vec<SocketAddr>,
    pub ids: Vec<[u8; 20]>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
    sockets: Vec<Arc<UdpSocket>>,
}

impl Fillers {
    /// One socket per id, on `first`, `first + 1`, … port `port`.
    pub fn start(first: Ipv4Addr, port: u16, ids: Vec<[u8; 20]>) -> io::Result<Fillers> {
        let mut sockets = Vec::new();
        let mut addrs = Vec::new();
        for ip in ip_range(first, ids.len()) {
            let s = UdpSocket::bind(SocketAddr::new(ip, port))?;
            s.set_nonblocking(true)?;
            addrs.push(s.local_addr()?);
            sockets.push(Arc::new(s));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, sockets, ids) = (stop.clone(), sockets.clone(), ids.clone());
            std::thread::spawn(move || serve_fillers(&sockets, &ids, &stop))
        };
        Ok(Fillers {
            addrs,
            ids,
            stop,
            thread: Some(thread),
            sockets,
        })
    }

    /// Every filler sends `to` a find_node for its own id.
    pub fn introduce(&self, to: SocketAddr) -> io::Result<()> {
        let mut out = Vec::new();
        for (i, (s, id)) in self.sockets.iter().zip(&self.ids).enumerate() {
            encode_query(&mut out, Kind::FindNode, id, id, i as u32, false);
            s.send_to(&out, to)?;
        }
        Ok(())
    }

    /// Stops answering; returns how many queries the fillers answered.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Fillers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_fillers(sockets: &[Arc<UdpSocket>], ids: &[[u8; 20]], stop: &AtomicBool) -> u64 {
    let mut buf = [0u8; 2048];
    let mut out = Vec::new();
    let mut answered = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut idle = true;
        for (s, id) in sockets.iter().zip(ids) {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                idle = false;
                if let Some((t, b'q')) = top_t_y(&buf[..n]) {
                    encode_response(&mut out, id, t);
                    let _ = s.send_to(&out, from);
                    answered += 1;
                }
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    answered
}

/// Resident set size of this process, bytes (Linux `/proc/self/statm`).
pub fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// UDP datagrams sent by this network namespace (`/proc/net/snmp`, `Udp: OutDatagrams`).
pub fn udp_out_datagrams() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut lines = s.lines().filter(|l| l.starts_with("Udp:"));
    let head: Vec<&str> = lines.next()?.split_whitespace().collect();
    let vals: Vec<&str> = lines.next()?.split_whitespace().collect();
    let i = head.iter().position(|h| *h == "OutDatagrams")?;
    vals.get(i)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding_parses_back() {
        let mut out = Vec::new();
        encode_query(
            &mut out,
            Kind::GetPeers,
            &[1; 20],
            &[2; 20],
            0x01020304,
            true,
        );
        let m = swarmlab_krpc::Message::decode(&out).unwrap();
        assert!(matches!(m.body, swarmlab_krpc::Body::Query(_)));
        assert_eq!(top_t_y(&out), Some((&[1u8, 2, 3, 4][..], b'q')));
        encode_response(&mut out, &[3; 20], b"ab");
        assert!(swarmlab_krpc::Message::decode(&out).is_ok());
        assert_eq!(top_t_y(&out), Some((&b"ab"[..], b'r')));
    }

    #[test]
    fn ids_fall_in_their_class() {
        let c = [0x55u8; 20];
        let ids = ids_by_distance(&c, 30, 4, &mut rand::thread_rng());
        assert_eq!(ids.len(), 120);
        for (i, id) in ids.iter().enumerate() {
            let a = swarmlab_krpc::Id(*id);
            assert_eq!(a.common_prefix_len(&swarmlab_krpc::Id(c)), (i / 4) as u32);
        }
    }

    #[test]
    fn percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile::<u32>(&[], 50.0), 0);
    }
}
