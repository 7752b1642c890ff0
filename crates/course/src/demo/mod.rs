//! `swarmlab demo`: the four roles in one process on loopback, Charlie through five
//! steps on a random file, with one line of throughput per step.
//!
//! 1. `roles`: the course tree (a random file cut by `chunks create`: chunks,
//!    file.ini, file.torrent), Alice and Bob (both protocols on one port), the
//!    Tracker and its discovery socket, all on 127.0.0.1;
//! 2. steps 1, 2 and 3: Charlie from the configuration files, from the tracker of
//!    peers.ini, from a broadcast (to 127.255.255.255 only);
//! 3. `dht`: the tracker is stopped; a DHT testnet starts in this process and Alice
//!    and Bob announce the file id into it with the peers' announcer;
//! 4. step 4 (dht, no tracker): Charlie knows only the file id and a bootstrap node
//!    (DHT → metadata from a peer → GET_CHUNK/CHUNK);
//! 5. step 5 (pex): Charlie knows only the file id and Alice (a magnet with `x.pe`),
//!    and finds Bob through Alice's ut_pex.
//!
//! Each step's Charlie starts from an empty `chunks/charlie/`, and the merged file is
//! compared with the original.

mod dht;
mod roles;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::charlie::{self, CharlieOptions, SourceKind};
use crate::chunks::{self, DEFAULT_CHUNK_SIZE};
use crate::discovery::{DhtOptions, FileRef, StepReport};
use crate::engine::Progress;
use crate::error::{CharlieError, DemoError};
use crate::layout::Layout;
use crate::torrent::CourseTorrent;
use crate::tracker::DISCOVERY_PORT;

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Size of the random file, in bytes.
    pub size: u64,
    /// Chunk size, in bytes.
    pub chunk_size: usize,
    /// UDP port of discovery (step 3).
    pub discovery_port: u16,
    /// Run in this directory instead of a temporary one (kept afterwards).
    pub root: Option<PathBuf>,
    /// Told of each step's download progress.
    pub progress: Option<Arc<dyn Progress>>,
    /// Seed of the random file.
    pub seed: u64,
    /// Nodes of the DHT testnet (steps 4 and 5).
    pub dht_nodes: usize,
    /// The testnet's first address: node i listens on first + i (port chosen by the
    /// system).
    pub dht_first: Ipv4Addr,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            size: 32 << 20,
            chunk_size: DEFAULT_CHUNK_SIZE,
            discovery_port: DISCOVERY_PORT,
            root: None,
            progress: None,
            seed: rand::random(),
            dht_nodes: 16,
            dht_first: Ipv4Addr::new(127, 88, 0, 1),
        }
    }
}

/// One step's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct DemoStep {
    /// The step: 1 to 5.
    pub step: u8,
    /// How Charlie found the peers.
    pub how: &'static str,
    /// True when the merged file is identical to the original.
    pub ok: bool,
    /// Bytes of the file.
    pub bytes: u64,
    /// Chunks of the file.
    pub chunks: usize,
    /// Time of the download, in seconds.
    pub elapsed_s: f64,
    /// Download speed, in MB/s (10^6 bytes).
    pub throughput_mb_s: f64,
    /// Time from Charlie's start (discovery included) to the file merged, in seconds.
    pub total_s: f64,
    /// Every run of a discovery source (phase, what it found, time, cost).
    pub discovery: Vec<StepReport>,
    /// Why the step failed.
    pub error: Option<String>,
}

impl DemoStep {
    /// The one line the demo prints for this step.
    pub fn line(&self) -> String {
        match &self.error {
            None => format!(
                "step {} ({}): {:.1} MiB in {} chunks, {:.3} s, {:.0} MB/s, file identical",
                self.step,
                self.how,
                self.bytes as f64 / (1 << 20) as f64,
                self.chunks,
                self.elapsed_s,
                self.throughput_mb_s
            ),
            Some(e) => format!("step {} ({}): FAILED: {e}", self.step, self.how),
        }
    }

    /// A step that failed before Charlie could run, or whose Charlie failed.
    fn failed(step: u8, how: &'static str, error: String, discovery: Vec<StepReport>) -> DemoStep {
        DemoStep {
            step,
            how,
            ok: false,
            bytes: 0,
            chunks: 0,
            elapsed_s: 0.0,
            throughput_mb_s: 0.0,
            total_s: 0.0,
            discovery,
            error: Some(error),
        }
    }

    /// The step of a run of Charlie that took `total`.
    fn of(
        step: u8,
        how: &'static str,
        r: Result<charlie::CharlieReport, CharlieError>,
        total: Duration,
    ) -> DemoStep {
        let rep = match r {
            Ok(rep) => rep,
            Err(e) => {
                let discovery = match &e {
                    CharlieError::NoManifest(d) | CharlieError::Download { discovery: d, .. } => {
                        d.clone()
                    }
                    _ => Vec::new(),
                };
                return DemoStep::failed(step, how, e.to_string(), discovery);
            }
        };
        let ok = rep.identical == Some(true);
        DemoStep {
            step,
            how,
            ok,
            bytes: rep.download.bytes,
            chunks: rep.download.chunks,
            elapsed_s: rep.download.elapsed_s,
            throughput_mb_s: rep.download.throughput_mb_s,
            total_s: total.as_secs_f64(),
            discovery: rep.discovery,
            error: (!ok).then(|| "the merged file differs from the original".into()),
        }
    }
}

/// The whole demo's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Where the demo ran.
    pub root: String,
    /// Size of the random file, in bytes.
    pub size: u64,
    /// Chunk size, in bytes.
    pub chunk_size: usize,
    /// The file id (the info-hash of config/file.torrent).
    pub file_id: String,
    /// SHA-1 speed of one core of this machine, MB/s: the bound on download speed.
    pub sha1_limit_mb_s: f64,
    /// The five steps.
    pub steps: Vec<DemoStep>,
}

impl DemoReport {
    /// True when all five steps passed.
    pub fn passed(&self) -> bool {
        self.steps.len() == 5 && self.steps.iter().all(|s| s.ok)
    }
}

/// Measures SHA-1 throughput of one core over `bytes` bytes, in MB/s.
pub fn sha1_speed_mb_s(bytes: usize) -> f64 {
    let buf = vec![0x5au8; 4 << 20];
    let rounds = (bytes / buf.len()).max(1);
    let t0 = Instant::now();
    let mut acc = 0u8;
    for _ in 0..rounds {
        acc ^= chunks::sha1(&buf)[0];
    }
    std::hint::black_box(acc);
    (rounds * buf.len()) as f64 / t0.elapsed().as_secs_f64() / 1e6
}

/// Runs Charlie with `c` from an empty chunks/charlie/ and makes its step.
async fn step(layout: &Layout, step: u8, how: &'static str, c: &CharlieOptions) -> DemoStep {
    let _ = std::fs::remove_dir_all(layout.chunk_dir("charlie"));
    let t0 = Instant::now();
    let r = charlie::run(c).await;
    DemoStep::of(step, how, r, t0.elapsed())
}

/// Runs the demo; `on_step` sees each step as it ends.
pub async fn run(
    opts: DemoOptions,
    mut on_step: impl FnMut(&DemoStep),
) -> Result<DemoReport, DemoError> {
    let tmp;
    let root = match &opts.root {
        Some(r) => r.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("swarmlab-demo-")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let layout = Layout::new(&root);
    roles::make_file(&layout, &opts).await?;
    let torrent = CourseTorrent::load(&layout)?;
    let sha1_limit_mb_s = tokio::task::spawn_blocking(|| sha1_speed_mb_s(256 << 20)).await?;
    let mut roles = roles::start(&layout, opts.discovery_port).await?;
    let charlie = |step: u8| {
        let mut c = CharlieOptions::new(layout.clone(), step);
        c.broadcast = vec![Ipv4Addr::new(127, 255, 255, 255)];
        c.discovery_port = opts.discovery_port;
        c.tracker_name = roles.tracker_name.clone();
        c.engine.progress = opts.progress.clone();
        c
    };
    let mut steps = Vec::new();
    for (n, how) in [(1u8, "config files"), (2, "tracker"), (3, "broadcast")] {
        let s = step(&layout, n, how, &charlie(n)).await;
        on_step(&s);
        steps.push(s);
    }

    // Steps 4 and 5: no tracker.
    roles.tracker = None;
    let (alice, file_id) = (roles.alice.addr, torrent.file_id());
    let mut c4 = charlie(4);
    c4.file = Some(FileRef::from_id(&file_id.to_hex())?);
    let mut c5 = charlie(0);
    c5.discovery = Some(vec![SourceKind::Pex]);
    let v4 = |a: SocketAddr| match a {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => SocketAddrV4::new(Ipv4Addr::LOCALHOST, a.port()),
    };
    c5.file = Some(FileRef::from_magnet(&torrent.magnet(&[v4(alice)]))?);
    let wait = Duration::from_secs(30);
    let net = dht::start(&mut roles, opts.dht_first, opts.dht_nodes, wait).await;
    let s = match &net {
        Ok(net) => {
            c4.dht = DhtOptions::new(
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                vec![net.bootstrap().to_string()],
            );
            step(&layout, 4, "dht, no tracker", &c4).await
        }
        Err(e) => DemoStep::failed(4, "dht, no tracker", e.to_string(), Vec::new()),
    };
    on_step(&s);
    steps.push(s);
    let s = step(&layout, 5, "pex, only Alice known", &c5).await;
    on_step(&s);
    steps.push(s);
    if let Ok(net) = net {
        net.shutdown().await;
    }
    Ok(DemoReport {
        root: if opts.root.is_some() {
            root.display().to_string()
        } else {
            "(temporary, removed)".into()
        },
        size: opts.size,
        chunk_size: opts.chunk_size,
        file_id: file_id.to_hex(),
        sha1_limit_mb_s,
        steps,
    })
}
