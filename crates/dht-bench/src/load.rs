//! The load generator: several UDP sockets, each on its own 127.x address and thread,
//! keep a window of queries outstanding against one node for a fixed time.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::host::percentile;
use crate::wire::{encode_query, encode_response, top_t_y};

/// A query kind the generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ping`.
    Ping,
    /// `find_node` of a random target.
    FindNode,
    /// `get_peers` of a random info-hash.
    GetPeers,
}

impl Kind {
    /// The three kinds, in mix order.
    pub const ALL: [Kind; 3] = [Kind::Ping, Kind::FindNode, Kind::GetPeers];

    /// The KRPC method name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ping => "ping",
            Kind::FindNode => "find_node",
            Kind::GetPeers => "get_peers",
        }
    }

    /// The kind of a method name.
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
    /// The node under load.
    pub target: SocketAddr,
    /// One socket (and thread) per address; port 0.
    pub sources: Vec<IpAddr>,
    /// Queries each socket keeps outstanding.
    pub window: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// Sent in turn.
    pub mix: Vec<Kind>,
    /// A query unanswered this long is counted lost and its slot reused.
    pub lost_after: Duration,
    /// Send `ro: 1` (BEP 43): the node does not add the generator to its table.
    pub read_only: bool,
}

impl LoadConfig {
    /// A load of `target` from one socket per address of `sources`: window 32, 5 s,
    /// the three kinds in turn, lost after 500 ms, not read-only.
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
    /// Queries sent.
    pub sent: u64,
    /// Responses (`y: r`) to our queries, per kind.
    pub answered: [u64; 3],
    /// KRPC errors (`y: e`) received.
    pub errors: u64,
    /// Queries counted lost (no answer within `lost_after`, or still out at the end).
    pub lost: u64,
    /// Queries the node sent us (answered by the generator).
    pub queries_from_node: u64,
    /// How long the load ran.
    pub elapsed: Duration,
    /// Round trips of answered queries, microseconds, sorted.
    pub rtt_us: Vec<u32>,
}

impl LoadReport {
    /// Responses of every kind.
    pub fn answered_total(&self) -> u64 {
        self.answered.iter().sum()
    }

    /// Answered queries per second.
    pub fn qps(&self) -> f64 {
        self.answered_total() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Answered queries of kind `k` per second.
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
