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

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha1::{Digest, Sha1};
use swarmlab_course_wire::{
    padding, ChunkHash, ErrorCode, Header, Message, MsgType, CHUNK_PREFIX_LEN, DEFAULT_MAX_MESSAGE,
    HASH_LEN, HEADER_LEN,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::timeout;

use crate::discovery::Manifest;
use crate::layout::{chunk_file_name, write_atomic};

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Where verified chunks go (`chunks/charlie/`).
    pub dir: PathBuf,
    pub connect_timeout: Duration,
    /// Time allowed for one whole reply.
    pub request_timeout: Duration,
    /// Consecutive connection failures after which a peer is given up.
    pub max_peer_failures: u32,
    /// Show a progress bar on standard error.
    pub progress: bool,
}

impl EngineOptions {
    pub fn new(dir: PathBuf) -> EngineOptions {
        EngineOptions {
            dir,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_peer_failures: 3,
            progress: false,
        }
    }
}

/// What one peer gave.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerReport {
    pub addr: String,
    pub chunks: u64,
    pub bytes: u64,
    /// Failures by kind (`not_found`, `bad_digest`, `timeout`, `connection`, `protocol`).
    pub failures: BTreeMap<String, u64>,
}

/// The outcome of a download.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadReport {
    pub chunks: usize,
    /// Chunks found verified on disk and not fetched.
    pub resumed_chunks: usize,
    pub fetched_chunks: usize,
    /// Bytes of the whole file (fetched and resumed chunks).
    pub bytes: u64,
    pub fetched_bytes: u64,
    pub elapsed_s: f64,
    /// Fetched bytes per second, in MB/s (10^6 bytes).
    pub throughput_mb_s: f64,
    pub peers: Vec<PeerReport>,
}

/// A download that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{} chunk(s) could not be downloaded: {}", .0.len(), .0.join("; "))]
    Incomplete(Vec<String>),
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Missing,
    InFlight,
    Done,
}

/// Work shared by the workers, on unique hashes (a file may repeat a chunk).
#[derive(Default)]
struct State {
    status: Vec<Status>,
    holders: Vec<Vec<SocketAddr>>,
    /// Peers that failed for this chunk, with why.
    failed: Vec<Vec<(SocketAddr, &'static str)>>,
    dead: Vec<SocketAddr>,
    remaining: usize,
    sizes: Vec<u64>,
    peers: HashMap<SocketAddr, PeerReport>,
}

enum Pick {
    Chunk(usize),
    Wait,
    Finished,
}

impl State {
    fn usable(&self, i: usize, p: &SocketAddr) -> bool {
        !self.dead.contains(p) && !self.failed[i].iter().any(|(q, _)| q == p)
    }

    fn pick(&mut self, peer: &SocketAddr) -> Pick {
        if self.remaining == 0 || self.dead.contains(peer) {
            return Pick::Finished;
        }
        let mut best: Option<(usize, usize)> = None;
        let mut could_wait = false;
        for i in 0..self.status.len() {
            if self.status[i] == Status::Done
                || !self.holders[i].contains(peer)
                || !self.usable(i, peer)
            {
                continue;
            }
            if self.status[i] == Status::InFlight {
                could_wait = true;
                continue;
            }
            let others = self.holders[i].iter().filter(|p| self.usable(i, p)).count();
            if best.is_none_or(|(_, n)| others < n) {
                best = Some((i, others));
            }
        }
        match best {
            Some((i, _)) => {
                self.status[i] = Status::InFlight;
                Pick::Chunk(i)
            }
            None if could_wait => Pick::Wait,
            None => Pick::Finished,
        }
    }

    fn fail(&mut self, i: usize, peer: SocketAddr, kind: &'static str) {
        self.status[i] = Status::Missing;
        self.failed[i].push((peer, kind));
        *self
            .peers
            .entry(peer)
            .or_default()
            .failures
            .entry(kind.to_string())
            .or_default() += 1;
    }
}

/// Why one request failed.
#[derive(Debug)]
enum FetchError {
    NotFound,
    BadDigest,
    /// The connection can no longer be trusted (framing, I/O, timeout).
    Connection(&'static str, String),
}

/// Downloads every chunk of `manifest` from `holders` (peers per chunk index) into
/// `opts.dir`, and returns when all are verified on disk.
pub async fn download(
    manifest: &Manifest,
    holders: &[Vec<SocketAddr>],
    opts: &EngineOptions,
) -> Result<DownloadReport, DownloadError> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&opts.dir).map_err(|e| DownloadError::Io(opts.dir.clone(), e))?;
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
    let mut state = State {
        status: vec![Status::Missing; n],
        holders: uholders,
        failed: vec![Vec::new(); n],
        dead: Vec::new(),
        remaining: n,
        sizes: vec![0; n],
        peers: HashMap::new(),
    };
    // Resume: a chunk on disk whose digest matches is done.
    let (dir, hashes) = (opts.dir.clone(), unique.clone());
    let on_disk = tokio::task::spawn_blocking(move || scan_verified(&dir, &hashes))
        .await
        .map_err(|e| DownloadError::Io(opts.dir.clone(), io::Error::other(e)))?;
    let mut resumed = 0;
    for (i, size) in on_disk.into_iter().enumerate() {
        if let Some(size) = size {
            state.status[i] = Status::Done;
            state.sizes[i] = size;
            state.remaining -= 1;
            resumed += 1;
        }
    }
    let mut peers: Vec<SocketAddr> = Vec::new();
    for h in &state.holders {
        for p in h {
            if !peers.contains(p) {
                peers.push(*p);
            }
        }
    }
    for p in &peers {
        state.peers.insert(
            *p,
            PeerReport {
                addr: p.to_string(),
                ..Default::default()
            },
        );
    }
    let bar = progress_bar(opts.progress, n as u64, resumed as u64);
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        notify: Notify::new(),
        unique,
        bar: bar.clone(),
    });
    let workers: Vec<_> = peers
        .iter()
        .map(|p| tokio::spawn(worker(*p, shared.clone(), opts.clone())))
        .collect();
    for w in workers {
        let _ = w.await;
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let state = std::mem::take(&mut *shared.lock());
    if state.remaining > 0 {
        let missing = (0..n)
            .filter(|&i| state.status[i] != Status::Done)
            .map(|i| {
                let tried = state.failed[i]
                    .iter()
                    .map(|(p, why)| format!("{p} {why}"))
                    .collect::<Vec<_>>();
                let hx = hex::encode(shared.unique[i]);
                if state.holders[i].is_empty() {
                    format!("{hx}: no peer known")
                } else if tried.is_empty() {
                    format!("{hx}: its peers were unreachable")
                } else {
                    format!("{hx}: {}", tried.join(", "))
                }
            })
            .collect();
        return Err(DownloadError::Incomplete(missing));
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let mut peer_reports: Vec<PeerReport> = peers
        .iter()
        .filter_map(|p| state.peers.get(p).cloned())
        .collect();
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
        peers: peer_reports,
    })
}

struct Shared {
    state: Mutex<State>,
    notify: Notify,
    unique: Vec<ChunkHash>,
    bar: Option<indicatif::ProgressBar>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn progress_bar(show: bool, total: u64, done: u64) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_position(done);
    Some(bar)
}

/// For each hash, the size of `dir/<hash>.bin` if it exists and its digest matches.
/// A file whose digest does not match is removed, and so are temporary files left by
/// an interrupted run.
fn scan_verified(dir: &Path, hashes: &[ChunkHash]) -> Vec<Option<u64>> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().contains(".bin.tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    hashes
        .iter()
        .map(|h| {
            let p = dir.join(chunk_file_name(h));
            let data = std::fs::read(&p).ok()?;
            if crate::chunks::sha1(&data) == *h {
                Some(data.len() as u64)
            } else {
                tracing::warn!("{}: digest does not match, fetching it again", p.display());
                let _ = std::fs::remove_file(&p);
                None
            }
        })
        .collect()
}

struct Conn {
    stream: BufReader<TcpStream>,
}

async fn connect(peer: SocketAddr, wait: Duration) -> Result<Conn, String> {
    let s = timeout(wait, TcpStream::connect(peer))
        .await
        .map_err(|_| format!("connect timed out after {wait:?}"))?
        .map_err(|e| e.to_string())?;
    let _ = s.set_nodelay(true);
    Ok(Conn {
        stream: BufReader::with_capacity(64 * 1024, s),
    })
}

/// A verified chunk being written to disk while the next one is received.
struct PendingWrite {
    index: usize,
    task: tokio::task::JoinHandle<(io::Result<()>, Vec<u8>)>,
}

/// Waits for a pending write, records its outcome, and returns its buffer for reuse.
async fn finish_write(p: PendingWrite, peer: SocketAddr, shared: &Shared) -> Vec<u8> {
    let (written, data) = p
        .task
        .await
        .unwrap_or_else(|e| (Err(io::Error::other(e)), Vec::new()));
    let i = p.index;
    let mut st = shared.lock();
    if let Err(e) = written {
        tracing::error!("cannot write chunk {}: {e}", hex::encode(shared.unique[i]));
        st.fail(i, peer, "write");
    } else {
        st.status[i] = Status::Done;
        st.sizes[i] = data.len() as u64;
        st.remaining -= 1;
        let r = st.peers.entry(peer).or_default();
        r.chunks += 1;
        r.bytes += data.len() as u64;
        if let Some(b) = &shared.bar {
            b.inc(1);
            let done: u64 = st.peers.values().map(|p| p.bytes).sum();
            b.set_message(format!("{:.1} MB", done as f64 / 1e6));
        }
    }
    drop(st);
    shared.notify.notify_waiters();
    data
}

async fn worker(peer: SocketAddr, shared: Arc<Shared>, opts: EngineOptions) {
    let mut conn: Option<Conn> = None;
    let mut failures = 0u32;
    let mut buf: Vec<u8> = Vec::new();
    let mut spare: Vec<u8> = Vec::new();
    let mut pending: Option<PendingWrite> = None;
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let pick = shared.lock().pick(&peer);
        let i = match pick {
            // Our own write may hold the chunk others wait for: finish it first.
            Pick::Finished | Pick::Wait if pending.is_some() => {
                if let Some(p) = pending.take() {
                    spare = finish_write(p, peer, &shared).await;
                }
                continue;
            }
            Pick::Finished => break,
            Pick::Wait => {
                notified.await;
                continue;
            }
            Pick::Chunk(i) => i,
        };
        let hash = shared.unique[i];
        if conn.is_none() {
            match connect(peer, opts.connect_timeout).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    failures += 1;
                    tracing::warn!(%peer, "cannot connect ({failures}/{}): {e}", opts.max_peer_failures);
                    let give_up = failures >= opts.max_peer_failures;
                    {
                        let mut st = shared.lock();
                        st.status[i] = Status::Missing;
                        *st.peers
                            .entry(peer)
                            .or_default()
                            .failures
                            .entry("connection".into())
                            .or_default() += 1;
                        if give_up {
                            st.dead.push(peer);
                        }
                    }
                    shared.notify.notify_waiters();
                    if give_up {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100 << failures.min(6))).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let result = match timeout(opts.request_timeout, fetch(c, &hash, &mut buf)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Connection(
                "timeout",
                format!("no whole reply within {:?}", opts.request_timeout),
            )),
        };
        // The previous chunk's write overlapped this request; collect it now.
        if let Some(p) = pending.take() {
            spare = finish_write(p, peer, &shared).await;
        }
        match result {
            Ok(()) => {
                failures = 0;
                let path = opts.dir.join(chunk_file_name(&hash));
                let data = std::mem::replace(&mut buf, std::mem::take(&mut spare));
                let task = tokio::task::spawn_blocking(move || (write_atomic(&path, &data), data));
                pending = Some(PendingWrite { index: i, task });
                continue;
            }
            Err(FetchError::NotFound) => {
                tracing::info!(%peer, "CHUNK_NOT_FOUND for {}", hex::encode(hash));
                shared.lock().fail(i, peer, "not_found");
            }
            Err(FetchError::BadDigest) => {
                tracing::warn!(%peer, "chunk {} has a wrong digest: dropped", hex::encode(hash));
                shared.lock().fail(i, peer, "bad_digest");
            }
            Err(FetchError::Connection(kind, msg)) => {
                tracing::warn!(%peer, "{kind}: {msg}");
                conn = None;
                failures += 1;
                let mut st = shared.lock();
                st.fail(i, peer, kind);
                if failures >= opts.max_peer_failures {
                    st.dead.push(peer);
                }
            }
        }
        shared.notify.notify_waiters();
    }
    if let Some(p) = pending.take() {
        finish_write(p, peer, &shared).await;
    }
    shared.notify.notify_waiters();
}

/// One request: GET_CHUNK, then the reply, hashed while it arrives into `buf`.
async fn fetch(conn: &mut Conn, hash: &ChunkHash, buf: &mut Vec<u8>) -> Result<(), FetchError> {
    let io = |e: io::Error| FetchError::Connection("connection", e.to_string());
    let proto = |m: String| FetchError::Connection("protocol", m);
    let s = &mut conn.stream;
    let req = Message::GetChunk(*hash)
        .encode()
        .map_err(|e| proto(e.to_string()))?;
    s.get_mut().write_all(&req).await.map_err(io)?;
    let mut head = [0u8; HEADER_LEN];
    s.read_exact(&mut head).await.map_err(io)?;
    let header = Header::parse(&head);
    if header.version != 1 {
        return Err(proto(format!("reply of version {}", header.version)));
    }
    match MsgType::from_u8(header.msg_type) {
        Some(MsgType::Error) if header.words == 3 => {
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.map_err(io)?;
            match ErrorCode::from_u16(u16::from_be_bytes([b[0], b[1]])) {
                ErrorCode::ChunkNotFound => Err(FetchError::NotFound),
                code => Err(proto(format!("ERROR {code}"))),
            }
        }
        Some(MsgType::Chunk) => {
            let total = header.total_len();
            if total < CHUNK_PREFIX_LEN as u64 || total > DEFAULT_MAX_MESSAGE as u64 {
                return Err(proto(format!("CHUNK of {total} bytes")));
            }
            let mut rest = [0u8; HASH_LEN + 4];
            s.read_exact(&mut rest).await.map_err(io)?;
            if rest[..HASH_LEN] != hash[..] {
                return Err(proto("CHUNK for another hash".into()));
            }
            let n = u32::from_be_bytes([rest[20], rest[21], rest[22], rest[23]]) as usize;
            if (CHUNK_PREFIX_LEN + n + padding(n)) as u64 != total {
                return Err(proto(format!(
                    "CHUNK length {n} does not match msg_length {}",
                    header.words
                )));
            }
            buf.clear();
            buf.reserve_exact(n);
            let mut hasher = Sha1::new();
            while buf.len() < n {
                let start = buf.len();
                let got = (&mut *s)
                    .take((n - start) as u64)
                    .read_buf(buf)
                    .await
                    .map_err(io)?;
                if got == 0 {
                    return Err(FetchError::Connection(
                        "connection",
                        "closed inside a CHUNK".into(),
                    ));
                }
                hasher.update(&buf[start..]);
            }
            let mut pad = [0u8; 3];
            s.read_exact(&mut pad[..padding(n)]).await.map_err(io)?;
            if hasher.finalize()[..] != hash[..] {
                return Err(FetchError::BadDigest);
            }
            Ok(())
        }
        _ => Err(proto(format!(
            "unexpected reply type {} ({} words)",
            header.msg_type, header.words
        ))),
    }
}
