//! The download engine: chunks from every known peer in parallel.
//!
//! One worker per peer keeps one TCP connection open for the whole download and sends
//! one GET_CHUNK at a time (never pipelined, rule 4.4). Each worker takes the missing
//! chunk its peer holds that the fewest other usable peers hold (rarest first), so a
//! shared chunk goes to whichever peer is free. The reply is hashed while it is
//! received; a chunk is written under a temporary name and renamed only once its SHA-1
//! matches. After CHUNK_NOT_FOUND, a wrong digest, a timeout or a dropped connection,
//! the chunk is left to the other peers that hold it. Chunks already on disk whose
//! digest matches are never fetched again, so a killed download resumes.
//!
//! The piece picker, the storage contract and resume are the shared engine's
//! (`swarmlab-engine`, the one `swarmlab fetch` uses); what is Charlie's own is the
//! wire (GET_CHUNK/CHUNK, one request at a time) and the refill.
//!
//! [`download`] is the one entry; it runs, in order:
//! 1. `chunk_storage`: the chunk directory as an engine `Storage`; chunks an earlier
//!    run left there are verified by the engine's resume (kept or removed), temporary
//!    files removed;
//! 2. `state`: the engine's `Picker` shared by the workers (one whole-chunk request
//!    per unique chunk, rarest first, bans), with failures per peer and peers given
//!    up;
//! 3. `worker`: one task per peer, which overlaps the write of a verified chunk (on a
//!    blocking thread, two buffers) with the next request;
//! 4. `fetch`: one request on a kept-open connection, the hot path (content read
//!    straight into the chunk buffer, hashed as it arrives);
//! 5. `refill`: the supervisor of the workers. Holders may arrive while the download
//!    runs: when chunks are left with no usable holder (their peers failed for them
//!    or were given up), [`download_with`] asks its [`Refill`] (Charlie runs its
//!    discovery chain again) while the other workers go on, adds the holders it
//!    names and starts workers for new peers. [`Lacking`] is what the refill is told.
//!
//! What comes out: a [`DownloadReport`] (per peer a [`PeerReport`], failures counted by
//! [`FailureKind`]), or a [`DownloadError`] listing each
//! chunk left and why. Progress goes to a [`Progress`] given in [`EngineOptions`].

mod chunk_storage;
mod fetch;
mod progress;
mod refill;
mod report;
mod state;
mod worker;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swarmlab_course_wire::ChunkHash;
use tokio::sync::Notify;

pub use progress::Progress;
pub use refill::{Lacking, Refill, Refilled};
pub use report::{DownloadReport, FailureKind, PeerReport};
pub use state::MAX_HOLDERS_PER_CHUNK;

use crate::discovery::Manifest;
use crate::error::DownloadError;
use chunk_storage::ChunkStorage;
use state::State;
use worker::Shared;

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Where verified chunks go (`chunks/charlie/`).
    pub dir: PathBuf,
    /// Time allowed for one TCP connect.
    pub connect_timeout: Duration,
    /// Time allowed for one whole reply.
    pub request_timeout: Duration,
    /// Consecutive connection failures after which a peer is given up.
    pub max_peer_failures: u32,
    /// Most times a download asks its [`Refill`] for chunks left without a holder.
    pub max_refills: usize,
    /// Told of the download's progress (the binary draws a bar from it).
    pub progress: Option<Arc<dyn Progress>>,
}

impl EngineOptions {
    /// Defaults: connect within 5 s, a whole reply within 30 s, a peer given up after
    /// 3 consecutive connection failures, at most 16 refills, no progress.
    pub fn new(dir: PathBuf) -> EngineOptions {
        EngineOptions {
            dir,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_peer_failures: 3,
            max_refills: 16,
            progress: None,
        }
    }
}

/// Downloads every chunk of `manifest` from `holders` (peers per chunk index) into
/// `opts.dir`, and returns when all are verified on disk.
pub async fn download(
    manifest: &Manifest,
    holders: &[Vec<SocketAddr>],
    opts: &EngineOptions,
) -> Result<DownloadReport, DownloadError> {
    download_with(manifest, holders, &[], opts, None).await
}

/// [`download`], with peers `presumed` to hold every chunk (peers of the file whose
/// holdings are unknown: a CHUNK_NOT_FOUND teaches otherwise), asking `refill` for
/// more holders whenever chunks are left without a usable one (see the [module
/// documentation](self)).
pub async fn download_with(
    manifest: &Manifest,
    holders: &[Vec<SocketAddr>],
    presumed: &[SocketAddr],
    opts: &EngineOptions,
    refill: Option<&mut dyn Refill>,
) -> Result<DownloadReport, DownloadError> {
    let t0 = Instant::now();
    let dir_err = |source| DownloadError::Io {
        path: opts.dir.clone(),
        source,
    };
    std::fs::create_dir_all(&opts.dir).map_err(dir_err)?;
    // Unique hashes, with the peers of every index that names them.
    let mut unique: Vec<ChunkHash> = Vec::new();
    let mut index: HashMap<ChunkHash, usize> = HashMap::new();
    let mut uholders: Vec<Vec<SocketAddr>> = Vec::new();
    for (i, h) in manifest.chunks.iter().enumerate() {
        let u = *index.entry(*h).or_insert_with(|| {
            unique.push(*h);
            uholders.push(Vec::new());
            unique.len() - 1
        });
        for p in holders.get(i).map(Vec::as_slice).unwrap_or_default() {
            if !uholders[u].contains(p) {
                uholders[u].push(*p);
            }
        }
    }
    let n = unique.len();
    let mut state = State::new(uholders, presumed, rand::random());
    // Resume: a chunk on disk whose digest matches is done.
    let storage = ChunkStorage::new(opts.dir.clone(), unique.clone().into());
    let mut scan = storage.clone();
    let on_disk = tokio::task::spawn_blocking(move || scan.resume())
        .await
        .map_err(|e| dir_err(std::io::Error::other(e)))?
        .map_err(|e| dir_err(std::io::Error::other(e)))?;
    let mut resumed = 0;
    for (i, size) in on_disk.into_iter().enumerate() {
        if let Some(size) = size {
            state.resumed(i, size);
            resumed += 1;
        }
    }
    if let Some(p) = &opts.progress {
        p.started(n as u64, resumed as u64);
    }
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        notify: Notify::new(),
        unique,
        storage,
        progress: opts.progress.clone(),
    });
    let refills = refill::supervise(&shared, opts, refill).await;
    if let Some(p) = &opts.progress {
        p.finished();
    }
    let state = shared.lock();
    if state.remaining() > 0 {
        return Err(DownloadError::Incomplete(state.missing(&shared.unique)));
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let mut peer_reports: Vec<PeerReport> = state.peers.values().cloned().collect();
    peer_reports.sort_by(|a, b| a.addr.cmp(&b.addr));
    let fetched_bytes: u64 = peer_reports.iter().map(|p| p.bytes).sum();
    let size_of: HashMap<ChunkHash, u64> = shared
        .unique
        .iter()
        .copied()
        .zip(state.sizes.iter().copied())
        .collect();
    Ok(DownloadReport {
        chunks: manifest.chunks.len(),
        resumed_chunks: resumed,
        fetched_chunks: peer_reports.iter().map(|p| p.chunks as usize).sum(),
        bytes: manifest
            .chunks
            .iter()
            .map(|h| size_of.get(h).copied().unwrap_or(0))
            .sum(),
        fetched_bytes,
        elapsed_s: elapsed,
        throughput_mb_s: if elapsed > 0.0 {
            fetched_bytes as f64 / elapsed / 1e6
        } else {
            0.0
        },
        first_chunk_s: state
            .first_done
            .map(|t| t.saturating_duration_since(t0).as_secs_f64()),
        refills,
        peers: peer_reports,
    })
}

#[cfg(test)]
mod tests;
