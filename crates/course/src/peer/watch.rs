//! The watcher: every [`super::PeerOptions::rescan`] it looks at the peer's files
//! and tells the rest of the peer what changed.
//!
//! - `config/file.torrent`, `config/file.ini`, `config/peers.ini` (by size and
//!   modification time): the torrent is loaded again
//!   ([`CourseTorrent::for_layout`]) when they change, and retried every
//!   [`RETRY`] (or when the directory changes) while it cannot be built; a new file
//!   id replaces the old one in the BitTorrent server (whose connections for the old
//!   one then close). peers.ini feeds [`KnownPeers`].
//! - `chunks/<name>/`: the chunks present, given to the [`ChunkSource`] (bitfield
//!   and `have`) and published in a [`DirState`] (the announcer's keys).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use swarmlab_bt::Server;
use swarmlab_course_wire::ChunkHash;
use tokio::sync::watch;

use super::chunk_dir::{scan, ChunkSource};
use super::known::KnownPeers;
use crate::config::PeersIni;
use crate::layout::Layout;
use crate::torrent::CourseTorrent;

/// How often a torrent that cannot be built is tried again.
pub const RETRY: Duration = Duration::from_secs(10);

/// What the peer has now: the torrent it serves over BitTorrent (none without
/// file.torrent or file.ini and the chunk files), and the chunks in its directory.
#[derive(Debug, Clone, Default)]
pub struct DirState {
    /// The torrent served, if any.
    pub torrent: Option<Arc<CourseTorrent>>,
    /// The chunks whose file is in `chunks/<name>/`.
    pub chunks: Arc<HashSet<ChunkHash>>,
}

type Stamp = Option<(u64, Option<SystemTime>)>;

fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.len(), m.modified().ok()))
}

pub(super) struct Watcher {
    layout: Layout,
    name: String,
    dir: PathBuf,
    server: Option<Server>,
    known: Arc<KnownPeers>,
    tx: watch::Sender<Arc<DirState>>,
    source: Option<Arc<ChunkSource>>,
    config: [Stamp; 3],
    failed_at: Option<Instant>,
    last_error: Option<String>,
    first: bool,
}

impl Watcher {
    pub(super) fn new(
        layout: Layout,
        name: &str,
        server: Option<Server>,
        known: Arc<KnownPeers>,
    ) -> (Watcher, watch::Receiver<Arc<DirState>>) {
        let (tx, rx) = watch::channel(Arc::new(DirState::default()));
        let w = Watcher {
            dir: layout.chunk_dir(name),
            layout,
            name: name.to_owned(),
            server,
            known,
            tx,
            source: None,
            config: [None; 3],
            failed_at: None,
            last_error: None,
            first: true,
        };
        (w, rx)
    }

    /// One look at the files (blocking).
    pub(super) fn step(&mut self) {
        let chunks = match scan(&self.dir) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("{}: {e}", self.dir.display());
                return;
            }
        };
        let old = self.tx.borrow().clone();
        let dir_changed = *old.chunks != chunks;
        let config = [
            stamp(&self.layout.file_torrent()),
            stamp(&self.layout.file_ini()),
            stamp(&self.layout.peers_ini()),
        ];
        let config_changed = config != self.config;
        if config[2] != self.config[2] || self.first {
            match PeersIni::load(&self.layout.peers_ini()) {
                Ok(p) => self.known.set_configured(&p, &self.name),
                Err(e) => tracing::debug!("no peers to list in PEX: {e}"),
            }
        }
        self.config = config;
        let retry = self.failed_at.is_some_and(|t| t.elapsed() >= RETRY)
            || (self.failed_at.is_some() && dir_changed);
        if config_changed || retry || self.first {
            self.reload(&chunks);
        }
        self.first = false;
        if let Some(s) = &self.source {
            s.set_present(&chunks);
        }
        let torrent = self.source.as_ref().map(|s| s.torrent().clone());
        let same_torrent = match (&torrent, &old.torrent) {
            (Some(a), Some(b)) => a.file_id() == b.file_id(),
            (None, None) => true,
            _ => false,
        };
        if dir_changed || !same_torrent {
            self.tx.send_replace(Arc::new(DirState {
                torrent,
                chunks: Arc::new(chunks),
            }));
        }
    }

    fn reload(&mut self, chunks: &HashSet<ChunkHash>) {
        match CourseTorrent::for_layout(&self.layout) {
            Ok(t) => {
                self.failed_at = None;
                self.last_error = None;
                let same = self
                    .source
                    .as_ref()
                    .is_some_and(|s| s.torrent().file_id() == t.file_id());
                if same {
                    return;
                }
                tracing::info!(
                    "BitTorrent: serving {} as file id {}",
                    t.filename(),
                    t.file_id()
                );
                let source = Arc::new(ChunkSource::new(
                    Arc::new(t),
                    self.dir.clone(),
                    chunks,
                    self.known.clone(),
                ));
                self.replace(Some(source));
            }
            Err(e) => {
                self.failed_at = Some(Instant::now());
                let msg = e.to_string();
                if self.last_error.as_ref() != Some(&msg) {
                    tracing::warn!(
                        "BitTorrent: no torrent to serve ({msg}): handshakes are refused until there is one"
                    );
                    self.last_error = Some(msg);
                }
                self.replace(None);
            }
        }
    }

    fn replace(&mut self, source: Option<Arc<ChunkSource>>) {
        if let Some(server) = &self.server {
            if let Some(old) = &self.source {
                server.remove_torrent(&old.torrent().file_id());
            }
            if let Some(new) = &source {
                server.add_torrent(new.clone());
            }
        }
        self.source = source;
    }
}

/// Runs `w` every `period` on a blocking thread, until the task is dropped.
pub(super) async fn run(mut w: Watcher, period: Duration) {
    loop {
        tokio::time::sleep(period).await;
        w = match tokio::task::spawn_blocking(move || {
            w.step();
            w
        })
        .await
        {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("the chunk watcher failed: {e}");
                return;
            }
        };
    }
}
