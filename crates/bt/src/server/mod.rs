//! A BitTorrent server: one listener (or streams accepted elsewhere) serving the
//! torrents of its [`PieceSource`]s to any number of peers, as a seed.
//!
//! # The order of calls
//!
//! 1. [`Server::new`] with a [`ServerConfig`] (peer id, `v`, listen port, bounds).
//! 2. [`Server::add_torrent`] for every torrent served (and
//!    [`Server::remove_torrent`] when one goes away; its connections close on their
//!    next tick). [`Server::set_dht_port`] once a DHT node runs.
//! 3. Either [`Server::serve`] on a listener, or [`Server::handle`] for each stream
//!    accepted by someone else (the course peers tell BitTorrent from the course
//!    protocol by the first byte, then hand the stream over).
//! 4. Read [`Server::stats`] at any time.
//!
//! # What one connection does
//!
//! The peer's handshake names a torrent: one served is accepted, any other is
//! refused and the connection closed (counted in [`ServerStats::refused_torrent`],
//! logged). Over [`ServerConfig::max_connections`] the stream is closed at once. Then:
//!
//! - our extension handshake (BEP 10): ut_metadata with `metadata_size`, ut_pex, our
//!   listen port `p`, `v`, `yourip`, `upload_only`; the pieces held now as a bitfield,
//!   or `have_all`/`have_none` under BEP 6; BEP 5 `port` when a DHT port is set;
//! - on every tick ([`ServerConfig::tick`]): a `have` for each piece that appeared
//!   (a piece that went away cannot be un-announced: its requests are rejected,
//!   BEP 6, or dropped without it), the choke state from the [`Choker`], and a PEX
//!   message when the list changed (the session keeps BEP 11's one per minute);
//! - the peer's requests, one block read at a time on a blocking thread (so at most
//!   one block is read per connection, and the session's output buffer bounds what
//!   waits to be written); ut_metadata from the info dictionary (the session rejects
//!   out-of-range pieces); the peer's PEX messages are counted, their peers unused.
//!
//! | file | concern |
//! |---|---|
//! | `config.rs` | [`ServerConfig`], [`random_peer_id`] |
//! | `source.rs` | [`PieceSource`], the storage of one torrent |
//! | `choker.rs` | [`Choker`], the seed's choking policy (sans-IO) |
//! | `swarm.rs` | the peers known per torrent, the PEX list and its changes |
//! | `peer.rs` | one connection: handshake, announcements, requests, ticks |
//! | `stats.rs` | [`ServerStats`] |

mod choker;
mod config;
mod peer;
mod source;
mod stats;
mod swarm;

pub use choker::{Choker, ConnId};
pub use config::{random_peer_id, ServerConfig};
pub use source::PieceSource;
pub use stats::ServerStats;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use swarmlab_bt_wire::InfoHash;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// A BitTorrent server. Cheap to clone: clones share the torrents, the choker and
/// the counters. See the [module documentation](self).
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("torrents", &self.torrents())
            .finish_non_exhaustive()
    }
}

struct Inner {
    cfg: ServerConfig,
    torrents: RwLock<HashMap<InfoHash, Arc<dyn PieceSource>>>,
    permits: Arc<Semaphore>,
    choker: Mutex<Choker>,
    swarm: Mutex<swarm::Swarm>,
    stats: ServerStats,
    /// 0: no DHT port.
    dht_port: AtomicU32,
    next_id: AtomicU64,
}

impl Inner {
    fn source(&self, ih: &InfoHash) -> Option<Arc<dyn PieceSource>> {
        self.torrents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(ih)
            .cloned()
    }

    fn choker(&self) -> std::sync::MutexGuard<'_, Choker> {
        self.choker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn swarm(&self) -> std::sync::MutexGuard<'_, swarm::Swarm> {
        self.swarm.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn dht_port(&self) -> Option<u16> {
        u16::try_from(self.dht_port.load(Ordering::Relaxed))
            .ok()
            .filter(|p| *p != 0)
    }
}

impl Server {
    /// A server serving nothing yet.
    pub fn new(cfg: ServerConfig) -> Server {
        Server {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(cfg.max_connections.max(1))),
                choker: Mutex::new(Choker::new(cfg.unchoke_slots, cfg.rotate)),
                swarm: Mutex::default(),
                torrents: RwLock::default(),
                stats: ServerStats::default(),
                dht_port: AtomicU32::new(0),
                next_id: AtomicU64::new(1),
                cfg,
            }),
        }
    }

    /// Serves `source`'s torrent (replacing a source of the same info-hash, which is
    /// returned).
    pub fn add_torrent(&self, source: Arc<dyn PieceSource>) -> Option<Arc<dyn PieceSource>> {
        let ih = source::info_hash(source.as_ref());
        self.inner
            .torrents
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ih, source)
    }

    /// Stops serving `info_hash`: new handshakes for it are refused, and its open
    /// connections close on their next tick.
    pub fn remove_torrent(&self, info_hash: &InfoHash) -> Option<Arc<dyn PieceSource>> {
        self.inner
            .torrents
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(info_hash)
    }

    /// The info-hashes served.
    pub fn torrents(&self) -> Vec<InfoHash> {
        let mut v: Vec<InfoHash> = self
            .inner
            .torrents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        v.sort();
        v
    }

    /// The UDP port of our DHT node, sent in BEP 5 `port` messages to peers that
    /// set the DHT bit (connections established from now on).
    pub fn set_dht_port(&self, port: Option<u16>) {
        self.inner
            .dht_port
            .store(port.map_or(0, u32::from), Ordering::Relaxed);
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.cfg
    }

    /// The choker now: peers unchoked, and interested peers waiting for a slot.
    pub fn slots(&self) -> (usize, usize) {
        let c = self.inner.choker();
        (c.unchoked(), c.waiting())
    }

    /// The counters.
    pub fn stats(&self) -> &ServerStats {
        &self.inner.stats
    }

    /// Accepts connections on `listener` and serves each on a task of its own, until
    /// the future is dropped.
    pub async fn serve(&self, listener: TcpListener) -> io::Result<()> {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let s = self.clone();
                    tokio::spawn(async move { s.handle(stream).await });
                }
                Err(e) => {
                    // EMFILE and friends: wait a little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Serves one accepted stream (nothing read from it yet) until the connection
    /// ends. Over [`ServerConfig::max_connections`] it is closed at once.
    pub async fn handle(&self, stream: TcpStream) {
        ServerStats::add(&self.inner.stats.connections, 1);
        let Ok(permit) = self.inner.permits.clone().try_acquire_owned() else {
            ServerStats::add(&self.inner.stats.refused_full, 1);
            tracing::warn!(
                peer = ?stream.peer_addr().ok(),
                "BitTorrent: {} connections open, closing",
                self.inner.cfg.max_connections
            );
            return;
        };
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        peer::run(self.inner.clone(), id, stream).await;
        drop(permit);
    }
}
