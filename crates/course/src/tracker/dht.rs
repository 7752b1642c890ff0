//! The tracker augmented by the DHT: the peers the DHT knows for the file id (and,
//! optionally, for each chunk's id), probed, for [`super::file_info_with`] to merge
//! into FILE_INFO.
//!
//! GET_FILE_INFO is answered at once from what [`DhtPeers`] holds; a task
//! ([`refresh`]) fills it every [`DhtOptions::refresh`] (60 s by default):
//!
//! 1. the file id from `config/file.torrent` or `config/file.ini` and the chunk files
//!    ([`CourseTorrent::for_layout`]);
//! 2. `get_peers` on the file id (and with [`DhtOptions::chunks`] on every chunk's
//!    SHA-1, [`DhtOptions::parallel`] at once), IPv4 peers only (FILE_INFO carries
//!    IPv4), at most [`MAX_PEERS_PER_KEY`] per key;
//! 3. every peer not probed within [`DhtOptions::probe_ttl`] is probed
//!    ([`super::probe`]), 8 at once: it must answer the course protocol to be listed
//!    at all (a BitTorrent client on the DHT would fail every deployed Charlie), and
//!    its BitTorrent bitfield says which chunks it holds.
//!
//! **How a peer found under the file id is listed per chunk**: under the chunks its
//! bitfield says it holds (asked over BitTorrent, bounded by a timeout, cached for
//! `probe_ttl`); when it answers the course protocol but not BitTorrent, under every
//! chunk, and Charlie's fallback handles its CHUNK_NOT_FOUND. A peer found under a
//! chunk's id is listed for that chunk. DHT peers come after file.ini's, at most
//! [`MAX_DHT_PEERS_PER_CHUNK`] per chunk.

use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use swarmlab_bt_wire::session::PieceLayout;
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_course_wire::ChunkHash;
use swarmlab_dht_driver::Dht;
use swarmlab_krpc::Id;
use swarmlab_net::{canonical, is_valid_peer};

use super::probe;
use crate::error::DhtError;
use crate::layout::Layout;
use crate::torrent::CourseTorrent;

/// Most peers kept from one lookup.
pub const MAX_PEERS_PER_KEY: usize = 64;
/// Most DHT peers added to one chunk's list in FILE_INFO.
pub const MAX_DHT_PEERS_PER_CHUNK: usize = 32;
/// Probes at once.
const PROBES_AT_ONCE: usize = 8;

/// Where the tracker's lookups go.
pub trait PeerLookup: Send + Sync + 'static {
    /// The peers the DHT knows for `key`.
    fn get_peers(&self, key: [u8; 20]) -> BoxFuture<'static, Result<Vec<SocketAddr>, DhtError>>;
}

impl PeerLookup for Dht {
    fn get_peers(&self, key: [u8; 20]) -> BoxFuture<'static, Result<Vec<SocketAddr>, DhtError>> {
        let dht = self.clone();
        Box::pin(async move { Ok(Dht::get_peers(&dht, Id(key)).await?.peers) })
    }
}

/// How the view is refreshed. [`DhtOptions::default`] gives the defaults.
#[derive(Debug, Clone)]
pub struct DhtOptions {
    /// Time between two refreshes (default 60 s).
    pub refresh: Duration,
    /// Also look up every chunk's id (default off: one lookup per chunk per refresh).
    pub chunks: bool,
    /// Chunk lookups at once (default 4).
    pub parallel: usize,
    /// How long a probe's answer is kept (default 5 minutes).
    pub probe_ttl: Duration,
    /// Time allowed for each probe (default 3 s).
    pub probe_timeout: Duration,
}

impl Default for DhtOptions {
    fn default() -> Self {
        DhtOptions {
            refresh: Duration::from_secs(60),
            chunks: false,
            parallel: 4,
            probe_ttl: Duration::from_secs(300),
            probe_timeout: Duration::from_secs(3),
        }
    }
}

/// What a probe of one peer said.
#[derive(Debug, Clone)]
pub struct Probed {
    /// When.
    pub at: Instant,
    /// It answered the course protocol.
    pub course: bool,
    /// The chunks it announced over BitTorrent (`None`: no BitTorrent handshake).
    pub chunks: Option<Bitfield>,
}

#[derive(Debug, Default)]
struct View {
    /// The chunks of the file the lookups were for, in order.
    chunks: Vec<ChunkHash>,
    file_peers: Vec<SocketAddrV4>,
    chunk_peers: HashMap<ChunkHash, Vec<SocketAddrV4>>,
    probes: HashMap<SocketAddrV4, Probed>,
}

/// The DHT's peers of the file, probed. See the [module documentation](self).
#[derive(Debug, Default)]
pub struct DhtPeers {
    view: Mutex<View>,
}

impl DhtPeers {
    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The DHT peers to list for chunk `index` of `chunks` (the file FILE_INFO
    /// describes): course peers only, at most [`MAX_DHT_PEERS_PER_CHUNK`]. Nothing
    /// when the lookups were for another file.
    pub fn for_chunk(&self, chunks: &[ChunkHash], index: usize) -> Vec<SocketAddrV4> {
        let v = self.view();
        if v.chunks != chunks {
            return Vec::new();
        }
        let Some(hash) = chunks.get(index) else {
            return Vec::new();
        };
        let course = |p: &SocketAddrV4| v.probes.get(p).is_some_and(|r| r.course);
        let holds = |p: &SocketAddrV4| {
            v.probes
                .get(p)
                .is_some_and(|r| r.chunks.as_ref().is_none_or(|b| b.has(index)))
        };
        let mut out: Vec<SocketAddrV4> = Vec::new();
        let by_chunk = v.chunk_peers.get(hash).into_iter().flatten();
        let by_file = v.file_peers.iter().filter(|p| holds(p));
        for p in by_chunk.chain(by_file) {
            if out.len() >= MAX_DHT_PEERS_PER_CHUNK {
                break;
            }
            if course(p) && !out.contains(p) {
                out.push(*p);
            }
        }
        out
    }

    /// Every peer probed and what it said (for logs and tests).
    pub fn probes(&self) -> Vec<(SocketAddrV4, Probed)> {
        self.view()
            .probes
            .iter()
            .map(|(a, p)| (*a, p.clone()))
            .collect()
    }
}

/// The IPv4 peers of a lookup, valid and without duplicates, at most
/// [`MAX_PEERS_PER_KEY`].
fn ipv4(peers: Vec<SocketAddr>) -> Vec<SocketAddrV4> {
    let mut out = Vec::new();
    for p in peers {
        if let SocketAddr::V4(a) = canonical(p) {
            if is_valid_peer(&p) && !out.contains(&a) && out.len() < MAX_PEERS_PER_KEY {
                out.push(a);
            }
        }
    }
    out
}

/// Refreshes `peers` from `dht` every `opts.refresh`, until the task is dropped.
pub async fn refresh<L: PeerLookup>(
    layout: Layout,
    dht: Arc<L>,
    peers: Arc<DhtPeers>,
    opts: DhtOptions,
) {
    loop {
        let l = layout.clone();
        match tokio::task::spawn_blocking(move || CourseTorrent::for_layout(&l)).await {
            Ok(Ok(t)) => refresh_once(&t, dht.as_ref(), &peers, &opts).await,
            Ok(Err(e)) => tracing::debug!("no file id to look up: {e}"),
            Err(e) => tracing::warn!("{e}"),
        }
        tokio::time::sleep(opts.refresh).await;
    }
}

/// One refresh for torrent `t`.
pub async fn refresh_once<L: PeerLookup>(
    t: &CourseTorrent,
    dht: &L,
    peers: &DhtPeers,
    opts: &DhtOptions,
) {
    let file_peers = match dht.get_peers(t.file_id().0).await {
        Ok(p) => ipv4(p),
        Err(e) => {
            tracing::warn!("DHT lookup of the file id {}: {e}", t.file_id());
            return;
        }
    };
    let mut chunk_peers = HashMap::new();
    if opts.chunks {
        let mut unique: Vec<ChunkHash> = t.chunks().to_vec();
        unique.sort();
        unique.dedup();
        let found: Vec<(ChunkHash, Vec<SocketAddrV4>)> = stream::iter(unique)
            .map(|h| async move { (h, dht.get_peers(h).await.map(ipv4).unwrap_or_default()) })
            .buffer_unordered(opts.parallel.max(1))
            .collect()
            .await;
        chunk_peers.extend(found.into_iter().filter(|(_, p)| !p.is_empty()));
    }
    let now = Instant::now();
    let mut to_probe: Vec<SocketAddrV4> = file_peers
        .iter()
        .chain(chunk_peers.values().flatten())
        .copied()
        .collect();
    to_probe.sort();
    to_probe.dedup();
    {
        let v = peers.view();
        // Probes of another file's lookups say nothing of this one's chunks.
        if v.chunks == t.chunks() {
            to_probe.retain(|p| {
                v.probes
                    .get(p)
                    .is_none_or(|r| now.saturating_duration_since(r.at) >= opts.probe_ttl)
            });
        }
    }
    let layout = PieceLayout::of(t.info());
    let file_id = t.file_id();
    let probed: Vec<(SocketAddrV4, Probed)> = stream::iter(to_probe)
        .map(|p| async move {
            let addr = SocketAddr::V4(p);
            let course = probe::speaks_course(addr, opts.probe_timeout).await;
            let chunks = match (course, layout) {
                (true, Some(l)) => probe::bitfield(addr, file_id, l, opts.probe_timeout).await,
                _ => None,
            };
            tracing::debug!(%addr, course, chunks = ?chunks.as_ref().map(Bitfield::count), "probed");
            (
                p,
                Probed {
                    at: Instant::now(),
                    course,
                    chunks,
                },
            )
        })
        .buffer_unordered(PROBES_AT_ONCE)
        .collect()
        .await;
    let mut v = peers.view();
    if v.chunks != t.chunks() {
        v.probes.clear();
        v.chunks = t.chunks().to_vec();
    }
    v.file_peers = file_peers;
    v.chunk_peers = chunk_peers;
    v.probes.extend(probed);
    // Forget probes of peers no lookup names any more (bounds the map).
    let View {
        file_peers,
        chunk_peers,
        probes,
        ..
    } = &mut *v;
    probes.retain(|a, _| file_peers.contains(a) || chunk_peers.values().any(|l| l.contains(a)));
}
