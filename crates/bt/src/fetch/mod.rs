//! `fetch`: a whole torrent from a swarm, on the shared download engine
//! (`swarmlab-engine`): the engine picks, verifies and stores; this module moves
//! its requests over the BitTorrent peer wire.
//!
//! # The order of a download ([`fetch`])
//!
//! 1. **Sources** ([`discovery`]): the target's peers (`--peer`, a magnet's
//!    `x.pe`), its trackers and the DHT feed one channel of addresses, asked again
//!    every [`FetchConfig::reannounce`]; PEX addresses from the peers join it.
//! 2. **Metadata** ([`metadata`], magnet links and bare info-hashes only): the info
//!    dictionary by BEP 9 from the first peer that has it.
//! 3. **Layout and storage**: the sizes checked ([`swarmlab_engine::Layout::new`]:
//!    piece length a power of two and bounded, total bounded), every path checked
//!    ([`swarmlab_engine::FileStorage::open`]) before anything is written.
//! 4. **Resume**: what is on disk is hashed; verified pieces are not fetched.
//! 5. **Download**: up to [`FetchConfig::max_peers`] peer tasks ([`peer`]) at a
//!    time, each on its own connection, sharing the picker and the storage
//!    ([`shared`]); a peer that fails is dialled again up to
//!    [`FetchConfig::max_attempts`] times, a banned one never.
//!    With an [`Uploader`] ([`FetchConfig::uploader`]) the storage and each verified
//!    piece are handed to it, so that a server can serve them meanwhile.
//! 6. **Report** ([`report`]): bytes, time, per peer its client, bytes and rate.
//!    [`Fetched`] also hands back the storage so the caller can go on seeding it
//!    ([`crate::seed`]).
//!
//! | file | concern |
//! |---|---|
//! | `discovery.rs` | [`Announcer`]: trackers and the DHT, in rounds |
//! | `metadata.rs` | the info dictionary by ut_metadata |
//! | `shared.rs` | the state the peer tasks share; hashing and writing pieces |
//! | `peer.rs` | one peer: events, pipelining, choke, fast, cancels, haves |
//! | `report.rs` | [`FetchReport`], [`PeerReport`], [`FetchProgress`] |

mod discovery;
mod metadata;
mod peer;
mod report;
mod shared;

pub use discovery::Announcer;
pub use peer::{MAX_QUEUE, MIN_QUEUE, PIPELINE_SECONDS};
pub use report::{FetchProgress, FetchReport, PeerReport, Stage};

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::SessionConfig;
use swarmlab_bt_wire::{InfoHash, PeerId};
use swarmlab_engine::{resume, FileSpec, FileStorage, Layout, LayoutLimits, Picker, PickerConfig};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::dht::DhtLookup;
use crate::error::FetchError;
use crate::tracker::TrackerOptions;
use shared::{Shared, State};

/// What to download.
#[derive(Debug, Clone)]
pub struct FetchTarget {
    /// The info-hash.
    pub info_hash: InfoHash,
    /// The info dictionary, when known (a .torrent file); else fetched by BEP 9.
    pub info: Option<Arc<Info>>,
    /// Tracker URLs.
    pub trackers: Vec<String>,
    /// Peers to dial from the start.
    pub peers: Vec<SocketAddr>,
}

/// How a download behaves. [`FetchConfig::new`] gives the defaults.
#[derive(Clone)]
pub struct FetchConfig {
    /// The output directory (a multi-file torrent goes in `out/<name>/`).
    pub out: PathBuf,
    /// Our peer id.
    pub peer_id: PeerId,
    /// The session's configuration (client name, limits, timeouts).
    pub session: SessionConfig,
    /// The TCP port announced to trackers and the DHT (where `--seed` serves).
    pub listen_port: u16,
    /// Addresses never dialled (our own listener).
    pub exclude: Vec<SocketAddr>,
    /// The DHT, if any.
    pub dht: Option<Arc<dyn DhtLookup>>,
    /// Peers connected at once (default 50).
    pub max_peers: usize,
    /// Connections tried per address (default 3).
    pub max_attempts: u32,
    /// Time allowed for one TCP connect (default 5 s).
    pub connect_timeout: Duration,
    /// A peer with requests in flight and no block for this long is dropped
    /// (default 20 s).
    pub request_timeout: Duration,
    /// Time allowed to find the info dictionary (default 60 s).
    pub metadata_timeout: Duration,
    /// No piece verified for this long ends the download with an error
    /// (default 120 s).
    pub stall_timeout: Duration,
    /// Time between rounds of tracker announces and DHT lookups (default 30 s).
    pub reannounce: Duration,
    /// Tracker timeouts.
    pub tracker: TrackerOptions,
    /// Bounds on the torrent's sizes.
    pub limits: LayoutLimits,
    /// Most bytes of pieces in progress held in memory (default 256 MiB).
    pub max_buffered: u64,
    /// The picker's tie-break seed and ban threshold.
    pub picker: PickerConfig,
    /// Live counters for a display.
    pub progress: Arc<FetchProgress>,
    /// Told of the storage and of each verified piece, to serve them during the
    /// download (`fetch --seed`: [`crate::seed::LiveSeed`]). Default none.
    pub uploader: Option<Arc<dyn Uploader>>,
}

/// What serves a download's pieces while it runs: told of the storage once it is
/// open and resumed, then of each piece once it is verified and written (never
/// before, so it never serves a byte that did not pass SHA-1).
pub trait Uploader: Send + Sync {
    /// The storage is open; `verified` are the pieces found on disk at resume.
    fn storage_ready(&self, info: &Arc<Info>, storage: &Arc<Mutex<FileStorage>>, verified: &[u32]);
    /// `piece` is verified and written.
    fn piece_verified(&self, piece: u32);
}

impl FetchConfig {
    /// The defaults, writing under `out`.
    pub fn new(out: PathBuf, peer_id: PeerId) -> FetchConfig {
        FetchConfig {
            out,
            peer_id,
            session: SessionConfig::new(peer_id),
            listen_port: 6881,
            exclude: Vec::new(),
            dht: None,
            max_peers: 50,
            max_attempts: 3,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            metadata_timeout: Duration::from_secs(60),
            stall_timeout: Duration::from_secs(120),
            reannounce: Duration::from_secs(30),
            tracker: TrackerOptions::default(),
            limits: LayoutLimits::default(),
            max_buffered: 256 << 20,
            picker: PickerConfig {
                seed: rand::random(),
                ..PickerConfig::default()
            },
            progress: Arc::new(FetchProgress::default()),
            uploader: None,
        }
    }
}

/// A finished download: the report, and the torrent and its storage, to seed.
pub struct Fetched {
    /// What happened.
    pub report: FetchReport,
    /// The info dictionary.
    pub info: Arc<Info>,
    /// The files, complete.
    pub storage: Arc<Mutex<FileStorage>>,
}

/// Locks a storage shared by a download and a seed.
pub fn lock_storage(s: &Mutex<FileStorage>) -> std::sync::MutexGuard<'_, FileStorage> {
    shared::lock(s)
}

/// The engine's file list of a torrent.
pub fn file_specs(info: &Info) -> Vec<FileSpec> {
    info.files
        .iter()
        .map(|f| FileSpec {
            path: f.path.clone(),
            length: f.length,
        })
        .collect()
}

/// Checks the sizes of `info` and opens its storage under `out` (every path
/// checked, nothing written before).
pub fn open_storage(
    info: &Info,
    out: &std::path::Path,
    limits: &LayoutLimits,
) -> Result<(Layout, FileStorage), FetchError> {
    let layout = Layout::new(
        info.total_length(),
        info.piece_length,
        info.pieces.len(),
        limits,
    )?;
    let storage = FileStorage::open(out, &info.name, &file_specs(info), info.multi_file, layout)?;
    Ok((layout, storage))
}

/// Downloads `target` (see the [module documentation](self)).
pub async fn fetch(target: FetchTarget, cfg: FetchConfig) -> Result<Fetched, FetchError> {
    let t0 = Instant::now();
    let progress = cfg.progress.clone();
    let (tx, mut rx) = mpsc::unbounded_channel::<SocketAddr>();
    for p in &target.peers {
        let _ = tx.send(*p);
    }
    let total_hint = target.info.as_ref().map_or(1, |i| i.total_length());
    let left = Arc::new(std::sync::atomic::AtomicU64::new(total_hint));
    let announcer = Announcer {
        info_hash: target.info_hash,
        peer_id: cfg.peer_id,
        port: cfg.listen_port,
        trackers: target.trackers.clone(),
        dht: cfg.dht.clone(),
        dht_announce: false,
        interval: cfg.reannounce,
        tracker: cfg.tracker.clone(),
    };
    let sources = {
        let (tx, left) = (tx.clone(), left.clone());
        tokio::spawn(announcer.run(tx, move || left.load(std::sync::atomic::Ordering::Relaxed)))
    };
    let result = download(target, &cfg, t0, &tx, &mut rx, &left).await;
    sources.abort();
    progress.set_stage(Stage::Done);
    result
}

async fn download(
    target: FetchTarget,
    cfg: &FetchConfig,
    t0: Instant,
    tx: &mpsc::UnboundedSender<SocketAddr>,
    rx: &mut mpsc::UnboundedReceiver<SocketAddr>,
    left: &std::sync::atomic::AtomicU64,
) -> Result<Fetched, FetchError> {
    let progress = cfg.progress.clone();
    let mut seen: Vec<SocketAddr> = Vec::new();
    let info = match target.info.clone() {
        Some(i) => i,
        None => {
            progress.set_stage(Stage::Metadata);
            metadata::fetch_metadata(
                target.info_hash,
                &cfg.session,
                cfg.connect_timeout,
                cfg.metadata_timeout,
                rx,
                tx,
                &mut seen,
            )
            .await?
        }
    };
    if info.info_hash != target.info_hash {
        return Err(FetchError::WrongInfoHash);
    }
    let (layout, mut storage) = open_storage(&info, &cfg.out, &cfg.limits)?;
    progress.set_total(info.total_length());
    progress.set_stage(Stage::Checking);
    // Resume: hash what an earlier run left.
    let hashes = info.pieces.clone();
    let (storage, resumed) = tokio::task::spawn_blocking(move || {
        let r = resume::verify_existing(&mut storage, &hashes, &mut |_| {});
        (storage, r)
    })
    .await
    .map_err(|e| FetchError::Io(std::io::Error::other(e)))?;
    let resumed = resumed?;
    let mut picker = Picker::new(layout, cfg.picker);
    let pl = info.piece_length.max(1);
    picker.set_max_partial((cfg.max_buffered / pl).max(4) as usize);
    let mut resumed_bytes = 0;
    for &i in &resumed {
        picker.set_have(i);
        resumed_bytes += u64::from(layout.piece_size(i));
    }
    progress.add_done(resumed_bytes);
    left.store(
        info.total_length() - resumed_bytes,
        std::sync::atomic::Ordering::Relaxed,
    );
    progress.set_stage(Stage::Downloading);
    let shared = Arc::new(Shared {
        info: info.clone(),
        state: Mutex::new(State {
            picker,
            buffers: HashMap::new(),
            spare: Vec::new(),
            mail: HashMap::new(),
            verified_log: Vec::new(),
            reports: HashMap::new(),
            downloaded: 0,
            hash_failures: 0,
            fatal: None,
        }),
        storage: Arc::new(Mutex::new(storage)),
        progress: progress.clone(),
        finished: Notify::new(),
        uploader: cfg.uploader.clone(),
    });
    if let Some(u) = &cfg.uploader {
        u.storage_ready(&info, &shared.storage, &resumed);
    }
    let ctx = peer::PeerCtx {
        shared: shared.clone(),
        session: cfg.session.clone(),
        connect_timeout: cfg.connect_timeout,
        request_timeout: cfg.request_timeout,
        pex: tx.clone(),
    };
    run_peers(&shared, ctx, cfg, seen, rx).await?;
    let elapsed = t0.elapsed().as_secs_f64();
    let st = shared.lock();
    let mut peers: Vec<PeerReport> = st.reports.values().cloned().collect();
    peers.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.addr.cmp(&b.addr)));
    let files = shared::lock(&shared.storage)
        .paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let report = FetchReport {
        info_hash: info.info_hash.to_hex(),
        name: info.name.clone(),
        total_bytes: info.total_length(),
        pieces: layout.num_pieces(),
        resumed_pieces: resumed.len() as u32,
        resumed_bytes,
        downloaded_bytes: st.downloaded,
        hash_failures: st.hash_failures,
        seconds: elapsed,
        rate: if elapsed > 0.0 {
            st.downloaded as f64 / elapsed
        } else {
            0.0
        },
        files,
        peers,
    };
    drop(st);
    Ok(Fetched {
        report,
        info,
        storage: shared.storage.clone(),
    })
}

/// The dialler: peer tasks for the addresses arriving, until every piece is
/// verified, storage fails, or nothing is verified for the stall timeout.
async fn run_peers(
    shared: &Arc<Shared>,
    ctx: peer::PeerCtx,
    cfg: &FetchConfig,
    seen: Vec<SocketAddr>,
    rx: &mut mpsc::UnboundedReceiver<SocketAddr>,
) -> Result<(), FetchError> {
    let mut attempts: HashMap<SocketAddr, u32> = HashMap::new();
    let mut queue: VecDeque<SocketAddr> = VecDeque::new();
    let mut retry: Vec<(Instant, SocketAddr)> = Vec::new();
    let mut tasks: JoinSet<(SocketAddr, Result<(), String>)> = JoinSet::new();
    let add = |a: SocketAddr,
               attempts: &mut HashMap<SocketAddr, u32>,
               queue: &mut VecDeque<SocketAddr>| {
        if !cfg.exclude.contains(&a) && !attempts.contains_key(&a) {
            attempts.insert(a, 0);
            queue.push_back(a);
        }
    };
    for a in seen {
        add(a, &mut attempts, &mut queue);
    }
    let mut last_done = (shared.lock().picker.pieces_done(), Instant::now());
    loop {
        {
            let st = shared.lock();
            if let Some(e) = &st.fatal {
                return Err(FetchError::Storage(e.clone()));
            }
            if st.picker.is_complete() {
                break;
            }
            let done = st.picker.pieces_done();
            if done != last_done.0 {
                last_done = (done, Instant::now());
            } else if last_done.1.elapsed() > cfg.stall_timeout {
                return Err(FetchError::Stalled {
                    seconds: cfg.stall_timeout.as_secs(),
                    done,
                    pieces: st.picker.layout().num_pieces(),
                    peers: st.reports.len(),
                });
            }
        }
        while tasks.len() < cfg.max_peers {
            let Some(a) = queue.pop_front() else { break };
            let ctx = ctx.clone();
            tasks.spawn(async move { (a, peer::run(a, ctx).await) });
        }
        tokio::select! {
            Some(a) = rx.recv() => add(a, &mut attempts, &mut queue),
            Some(r) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((a, Err(e))) = r {
                    tracing::debug!(peer = %a, "peer ended: {e}");
                    let banned = shared.lock().picker.is_banned(&a);
                    let n = attempts.entry(a).or_insert(0);
                    *n += 1;
                    if !banned && *n < cfg.max_attempts {
                        retry.push((Instant::now() + Duration::from_secs(2), a));
                    }
                }
            }
            _ = shared.finished.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let now = Instant::now();
        retry.retain(|(at, a)| {
            if *at <= now {
                queue.push_back(*a);
                false
            } else {
                true
            }
        });
    }
    // Every piece is in: the tasks close their connections at their next look.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    Ok(())
}
