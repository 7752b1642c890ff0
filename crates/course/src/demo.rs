//! `swarmlab demo`: the four roles in one process on loopback, Charlie through steps
//! 1, 2 and 3 on a random file, with one line of throughput per step.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rand::{RngCore, SeedableRng};
use serde::Serialize;
use swarmlab_course_wire::TrackerInfo;
use tokio::net::TcpListener;

use crate::charlie::{self, CharlieOptions};
use crate::chunks::{self, DEFAULT_CHUNK_SIZE};
use crate::config::PeersIni;
use crate::engine::Progress;
use crate::error::DemoError;
use crate::layout::Layout;
use crate::running::{start_discovery, start_peer, start_tracker};
use crate::server::ServerLimits;
use crate::tracker::{self, DISCOVERY_PORT};

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
        }
    }
}

/// One step's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct DemoStep {
    /// The step: 1, 2 or 3.
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
    /// SHA-1 speed of one core of this machine, MB/s: the bound on download speed.
    pub sha1_limit_mb_s: f64,
    /// The three steps.
    pub steps: Vec<DemoStep>,
}

impl DemoReport {
    /// True when all three steps passed.
    pub fn passed(&self) -> bool {
        self.steps.len() == 3 && self.steps.iter().all(|s| s.ok)
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

fn write_random_file(path: &std::path::Path, size: u64, seed: u64) -> std::io::Result<()> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    w.flush()
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
    std::fs::create_dir_all(layout.files_dir())?;
    std::fs::create_dir_all(root.join("config"))?;
    let (size, chunk_size, seed) = (opts.size, opts.chunk_size, opts.seed);
    let l2 = layout.clone();
    tokio::task::spawn_blocking(move || -> Result<(), DemoError> {
        write_random_file(&l2.files_dir().join("demo.bin"), size, seed)?;
        chunks::create(&l2, "demo.bin", chunk_size)?;
        Ok(())
    })
    .await??;
    let sha1_limit_mb_s = tokio::task::spawn_blocking(|| sha1_speed_mb_s(256 << 20)).await?;

    let localhost = |_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0));
    let (alice_l, bob_l, tracker_l) = (
        localhost(0).await?,
        localhost(1).await?,
        localhost(2).await?,
    );
    let v4 = |a: SocketAddr| match a {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => SocketAddrV4::new(Ipv4Addr::LOCALHOST, a.port()),
    };
    let peers = PeersIni {
        entries: vec![
            ("tracker".into(), v4(tracker_l.local_addr()?)),
            ("alice".into(), v4(alice_l.local_addr()?)),
            ("bob".into(), v4(bob_l.local_addr()?)),
        ],
    };
    crate::layout::write_atomic(&layout.peers_ini(), peers.to_text().as_bytes())?;
    let limits = ServerLimits::default();
    let _alice = start_peer(&layout, "alice", alice_l, limits.clone())?;
    let _bob = start_peer(&layout, "bob", bob_l, limits.clone())?;
    let tracker_addr = v4(tracker_l.local_addr()?);
    let _tracker = start_tracker(&layout, tracker_l, limits)?;
    // A name of our own, so that Charlie prefers this tracker over any other one
    // answering on the same port of this host.
    let name = format!("swarmlab-demo-{}", std::process::id());
    let _discovery = start_discovery(
        tracker::discovery_addr(opts.discovery_port),
        TrackerInfo {
            addr: tracker_addr,
            name: name.clone(),
        },
    )
    .map_err(|source| DemoError::Discovery {
        port: opts.discovery_port,
        source,
    })?;

    let mut steps = Vec::new();
    for (step, how) in [(1u8, "config files"), (2, "tracker"), (3, "broadcast")] {
        let charlie_dir = layout.chunk_dir("charlie");
        let _ = std::fs::remove_dir_all(&charlie_dir);
        let mut c = CharlieOptions::new(layout.clone(), step);
        c.broadcast = vec![Ipv4Addr::new(127, 255, 255, 255)];
        c.discovery_port = opts.discovery_port;
        c.tracker_name = name.clone();
        c.engine.progress = opts.progress.clone();
        let r = charlie::run(&c).await;
        let s = match r {
            Ok(rep) if rep.identical == Some(true) => DemoStep {
                step,
                how,
                ok: true,
                bytes: rep.download.bytes,
                chunks: rep.download.chunks,
                elapsed_s: rep.download.elapsed_s,
                throughput_mb_s: rep.download.throughput_mb_s,
                error: None,
            },
            Ok(rep) => DemoStep {
                step,
                how,
                ok: false,
                bytes: rep.download.bytes,
                chunks: rep.download.chunks,
                elapsed_s: rep.download.elapsed_s,
                throughput_mb_s: rep.download.throughput_mb_s,
                error: Some("the merged file differs from the original".into()),
            },
            Err(e) => DemoStep {
                step,
                how,
                ok: false,
                bytes: 0,
                chunks: 0,
                elapsed_s: 0.0,
                throughput_mb_s: 0.0,
                error: Some(e.to_string()),
            },
        };
        on_step(&s);
        steps.push(s);
    }
    Ok(DemoReport {
        root: if opts.root.is_some() {
            root.display().to_string()
        } else {
            "(temporary, removed)".into()
        },
        size: opts.size,
        chunk_size: opts.chunk_size,
        sha1_limit_mb_s,
        steps,
    })
}
