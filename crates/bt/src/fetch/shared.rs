//! The state every peer task of one download shares: the picker, the storage, the
//! pieces being assembled in memory, what each peer must be told (cancels, new
//! pieces, a ban), and the per-peer counters.
//!
//! Blocks are assembled in memory per piece (at most
//! [`super::FetchConfig::max_buffered`] bytes of pieces in progress, through the
//! picker's limit on pieces started); a complete piece is hashed and written on a
//! blocking thread, outside the lock, then marked verified.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_engine::{verify, Block, FileStorage, Picker, Received, Storage};
use tokio::sync::Notify;

use super::report::{FetchProgress, PeerReport};

/// What a peer task is told by the others.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    /// Requests of ours to cancel (another peer sent the block first).
    pub(crate) cancels: Vec<Block>,
    /// The peer was banned: close.
    pub(crate) banned: bool,
}

/// Most piece buffers kept for reuse.
pub(crate) const SPARE_BUFFERS: usize = 8;

pub(crate) struct State {
    pub(crate) picker: Picker<SocketAddr>,
    /// Pieces in progress: their bytes as blocks arrive.
    pub(crate) buffers: HashMap<u32, Vec<u8>>,
    /// Buffers of pieces already written, reused for the next pieces (at most
    /// [`SPARE_BUFFERS`]): a new piece needs no allocation and no zeroing, since
    /// every byte of a complete piece was written by one of its blocks.
    pub(crate) spare: Vec<Vec<u8>>,
    pub(crate) mail: HashMap<SocketAddr, Mailbox>,
    /// Pieces verified, in order: each task announces those past its cursor.
    pub(crate) verified_log: Vec<u32>,
    pub(crate) reports: HashMap<SocketAddr, PeerReport>,
    pub(crate) downloaded: u64,
    pub(crate) hash_failures: u32,
    /// A storage error ends the download.
    pub(crate) fatal: Option<String>,
}

pub(crate) struct Shared {
    pub(crate) info: Arc<Info>,
    pub(crate) state: Mutex<State>,
    pub(crate) storage: Arc<Mutex<FileStorage>>,
    pub(crate) progress: Arc<FetchProgress>,
    /// Woken when the download completes or fails.
    pub(crate) finished: Notify,
    /// Told of each piece verified.
    pub(crate) uploader: Option<Arc<dyn super::Uploader>>,
}

/// Locks a mutex, taking the data even if a panicking thread poisoned it (every
/// update here leaves the state consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the task does after a block.
pub(crate) struct BlockOutcome {
    /// The block was ours and new.
    pub(crate) accepted: bool,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// A block from `peer`. Stores it in its piece's buffer; a complete piece is
    /// handed to a blocking thread to hash and write.
    pub(crate) fn on_block(
        self: &Arc<Self>,
        peer: SocketAddr,
        b: Block,
        data: &[u8],
    ) -> BlockOutcome {
        let mut st = self.lock();
        let piece_size = st.picker.layout().piece_size(b.piece) as usize;
        match st.picker.block_received(peer, b) {
            Received::Accepted {
                cancel,
                piece_complete,
            } => {
                for (q, cb) in cancel {
                    st.mail.entry(q).or_default().cancels.push(cb);
                }
                let State { buffers, spare, .. } = &mut *st;
                let buf = buffers.entry(b.piece).or_insert_with(|| {
                    let mut fresh = spare.pop().unwrap_or_default();
                    // Only growth is zeroed; stale bytes are all overwritten by the
                    // piece's blocks before it is complete.
                    fresh.resize(piece_size, 0);
                    fresh
                });
                let at = b.begin as usize;
                buf[at..at + data.len()].copy_from_slice(data);
                st.downloaded += data.len() as u64;
                if let Some(r) = st.reports.get_mut(&peer) {
                    r.bytes += data.len() as u64;
                }
                if piece_complete {
                    let buf = st.buffers.remove(&b.piece).unwrap_or_default();
                    drop(st);
                    let me = self.clone();
                    tokio::task::spawn_blocking(move || me.finish_piece(b.piece, buf));
                }
                BlockOutcome { accepted: true }
            }
            Received::Duplicate | Received::Unexpected => {
                if let Some(r) = st.reports.get_mut(&peer) {
                    r.wasted_blocks += 1;
                }
                BlockOutcome { accepted: false }
            }
        }
    }

    /// On a blocking thread: hash a complete piece; write and mark it verified, or
    /// send it back to the picker (charging its senders).
    fn finish_piece(&self, piece: u32, data: Vec<u8>) {
        let good = verify::sha1(&data) == self.info.pieces[piece as usize];
        if good {
            let written = {
                let mut s = lock(&self.storage);
                s.write(piece, 0, &data)
                    .and_then(|_| s.piece_verified(piece))
            };
            let mut st = self.lock();
            match written {
                Ok(()) => {
                    st.picker.piece_verified(piece);
                    st.verified_log.push(piece);
                    self.progress.add_done(data.len() as u64);
                    let complete = st.picker.is_complete();
                    drop(st);
                    if let Some(u) = &self.uploader {
                        u.piece_verified(piece);
                    }
                    if complete {
                        self.finished.notify_waiters();
                    }
                }
                Err(e) => {
                    st.fatal = Some(e.to_string());
                    drop(st);
                    self.finished.notify_waiters();
                }
            }
        } else {
            let mut st = self.lock();
            st.hash_failures += 1;
            let banned = st.picker.piece_failed(piece);
            tracing::info!(piece, ?banned, "piece failed its hash");
            st.sync_bad_pieces();
            for p in banned {
                st.mail.entry(p).or_default().banned = true;
                if let Some(r) = st.reports.get_mut(&p) {
                    r.banned = true;
                    r.bad_pieces += 1;
                }
            }
            drop(st);
            let _ = lock(&self.storage).piece_failed(piece);
        }
        let mut st = self.lock();
        if st.spare.len() < SPARE_BUFFERS {
            st.spare.push(data);
        }
    }
}

impl State {
    /// Copies each peer's bad-piece count from the picker into its report.
    pub(crate) fn sync_bad_pieces(&mut self) {
        let picker = &self.picker;
        for (p, r) in self.reports.iter_mut() {
            let n = picker.bad_pieces(p);
            if n > r.bad_pieces {
                r.bad_pieces = n;
            }
        }
    }
}
