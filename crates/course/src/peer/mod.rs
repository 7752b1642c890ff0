//! Alice and Bob: a course peer serves `chunks/<name>/` over the course protocol and
//! over BitTorrent on one TCP port, and may run a DHT node that announces it.
//!
//! # Two protocols on one port
//!
//! The first byte of a connection tells them apart ([`crate::server::serve_with`]):
//! 19 starts a BitTorrent handshake, anything else (a course message starts with its
//! version, 1) goes to the course protocol, which behaves exactly as before
//! ([`PeerResponder`]: GET_CHUNK/CHUNK, byte for byte). `--max-conns` bounds both
//! together; the BitTorrent server bounds its own connections too.
//!
//! # BitTorrent mode
//!
//! The torrent is `config/file.torrent`, or the one built from `config/file.ini` and
//! the chunk files ([`crate::torrent`]); without either, BitTorrent handshakes are
//! refused and closed with a log line, and the course protocol is unaffected. The
//! chunk directory stays the truth ([`chunk_dir`]): the bitfield and `have` come from
//! what is in `chunks/<name>/` now (rescanned every [`PeerOptions::rescan`], 1 s by
//! default), blocks are read from the chunk files, and a chunk is verified against its
//! SHA-1 before it is first served. ut_pex lists the other sections of peers.ini, the
//! peers DHT lookups found, and BitTorrent peers that connected with a listen port
//! ([`KnownPeers`] and the server's own list).
//!
//! # The order of calls
//!
//! 1. [`start`] with a bound listener and [`PeerOptions`]: the files are looked at
//!    once, then the server and the watcher run as tasks. It returns a
//!    [`RunningPeer`] (stopped when dropped).
//! 2. Optionally [`RunningPeer::announce`] with a started DHT node: the file id (and
//!    with `chunks`, every chunk held) is announced on the announcer's schedule
//!    ([`crate::announce`]), and the DHT port goes out in BEP 5 `port` messages.
//!
//! | file | concern |
//! |---|---|
//! | `responder.rs` | [`PeerResponder`]: the course protocol's GET_CHUNK |
//! | `chunk_dir.rs` | [`chunk_dir::scan`], [`ChunkSource`]: the directory as BitTorrent storage |
//! | `watch.rs` | the watcher: torrent reloads, rescans, [`DirState`] |
//! | `known.rs` | [`KnownPeers`]: the peers listed in ut_pex |

pub mod chunk_dir;
mod known;
mod responder;
mod watch;

pub use chunk_dir::ChunkSource;
pub use known::KnownPeers;
pub use responder::PeerResponder;
pub use watch::DirState;

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use swarmlab_bt::server::{random_peer_id, Server, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch as channel;
use tokio::task::JoinHandle;

use crate::announce::{AnnounceConfig, AnnounceTarget, Announcer, Key};
use crate::layout::Layout;
use crate::server::{self, Alternate, ServerLimits, ServerStats};

/// How a peer runs. [`PeerOptions::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// The course server's bounds (idle timeout, connections).
    pub limits: ServerLimits,
    /// The BitTorrent server's configuration; `None` serves the course protocol only.
    /// Its `listen_port` is set to the listener's port when left `None`.
    pub bittorrent: Option<ServerConfig>,
    /// How often the chunk directory and the configuration files are looked at
    /// (default 1 s).
    pub rescan: Duration,
}

impl PeerOptions {
    /// Both protocols, the default limits, a random peer id, a rescan every second.
    pub fn new() -> PeerOptions {
        PeerOptions {
            limits: ServerLimits::default(),
            bittorrent: Some(ServerConfig::new(random_peer_id())),
            rescan: Duration::from_secs(1),
        }
    }
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions::new()
    }
}

/// A peer running as tasks of this process; stopped when dropped.
pub struct RunningPeer {
    /// Where it listens (both protocols).
    pub addr: SocketAddr,
    /// The course server's counters (BitTorrent connections are counted in
    /// `connections` and `alternate_connections`).
    pub stats: Arc<ServerStats>,
    /// The BitTorrent server, when enabled.
    pub bittorrent: Option<Server>,
    /// The peers it lists in ut_pex.
    pub known: Arc<KnownPeers>,
    state: channel::Receiver<Arc<DirState>>,
    tasks: Vec<JoinHandle<()>>,
    announcer: Option<Announcer>,
}

impl Drop for RunningPeer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl std::fmt::Debug for RunningPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningPeer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The BitTorrent side of the port: connections starting with 19.
struct BitTorrent(Server);

impl Alternate for BitTorrent {
    fn claims(&self, first: u8) -> bool {
        first == 19
    }
    fn serve(&self, stream: TcpStream) -> BoxFuture<'static, ()> {
        let s = self.0.clone();
        Box::pin(async move { s.handle(stream).await })
    }
}

/// Starts peer `name` serving `chunks/<name>/` on an already bound listener. See the
/// [module documentation](self).
pub async fn start(
    layout: &Layout,
    name: &str,
    listener: TcpListener,
    opts: PeerOptions,
) -> io::Result<RunningPeer> {
    let addr = listener.local_addr()?;
    let known = Arc::new(KnownPeers::new(addr));
    let bittorrent = opts.bittorrent.map(|mut cfg| {
        cfg.listen_port.get_or_insert(addr.port());
        Server::new(cfg)
    });
    let (mut watcher, state) =
        watch::Watcher::new(layout.clone(), name, bittorrent.clone(), known.clone());
    let watcher = tokio::task::spawn_blocking(move || {
        watcher.step();
        watcher
    })
    .await
    .map_err(io::Error::other)?;
    let stats = Arc::new(ServerStats::default());
    let alternate = bittorrent
        .clone()
        .map(|s| Arc::new(BitTorrent(s)) as Arc<dyn Alternate>);
    let serve = server::serve_with(
        listener,
        Arc::new(PeerResponder::new(layout.chunk_dir(name))),
        alternate,
        opts.limits,
        stats.clone(),
    );
    let tasks = vec![
        tokio::spawn(async move {
            if let Err(e) = serve.await {
                tracing::error!("peer server stopped: {e}");
            }
        }),
        tokio::spawn(watch::run(watcher, opts.rescan)),
    ];
    Ok(RunningPeer {
        addr,
        stats,
        bittorrent,
        known,
        state,
        tasks,
        announcer: None,
    })
}

impl RunningPeer {
    /// What the peer has now (the torrent served and the chunks present), updated
    /// by the watcher.
    pub fn state(&self) -> channel::Receiver<Arc<DirState>> {
        self.state.clone()
    }

    /// Announces the peer on the DHT through `target` (normally its DHT node, whose
    /// UDP port `dht_port` then goes out in BEP 5 `port` messages): the file id, and
    /// with `chunks` the hash of every chunk held, on `cfg`'s schedule. Peers found
    /// under the file id are listed in ut_pex. Replaces an earlier announcer.
    pub fn announce<T: AnnounceTarget>(
        &mut self,
        target: Arc<T>,
        dht_port: Option<u16>,
        cfg: AnnounceConfig,
        chunks: bool,
    ) -> &Announcer {
        if let Some(s) = &self.bittorrent {
            s.set_dht_port(dht_port);
        }
        let keys = announce_keys(self.state.clone(), chunks);
        let (rx, task) = keys;
        self.tasks.push(task);
        let known = self.known.clone();
        let state = self.state.clone();
        let on_announced = Arc::new(move |key: &Key, a: &crate::announce::Announced| {
            let file_id = state.borrow().torrent.as_ref().map(|t| t.file_id().0);
            if file_id == Some(*key) {
                known.set_dht(&a.peers);
            }
        });
        self.announcer
            .insert(Announcer::spawn(target, rx, cfg, on_announced))
    }

    /// The announcer, once [`RunningPeer::announce`] started it.
    pub fn announcer(&self) -> Option<&Announcer> {
        self.announcer.as_ref()
    }
}

/// The keys to announce as the directory changes: the file id, and with `chunks`
/// every chunk of the file that is present.
fn announce_keys(
    mut state: channel::Receiver<Arc<DirState>>,
    chunks: bool,
) -> (channel::Receiver<BTreeSet<Key>>, JoinHandle<()>) {
    let keys_of = move |s: &DirState| -> BTreeSet<Key> {
        let Some(t) = &s.torrent else {
            return BTreeSet::new();
        };
        let mut keys = BTreeSet::from([t.file_id().0]);
        if chunks {
            keys.extend(t.chunks().iter().filter(|h| s.chunks.contains(*h)));
        }
        keys
    };
    let (tx, rx) = channel::channel(keys_of(&state.borrow_and_update()));
    let task = tokio::spawn(async move {
        while state.changed().await.is_ok() {
            let keys = keys_of(&state.borrow_and_update());
            tx.send_if_modified(|k| {
                let changed = *k != keys;
                *k = keys;
                changed
            });
        }
    });
    (rx, task)
}
