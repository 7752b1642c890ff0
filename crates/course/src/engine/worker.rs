//! One worker per peer: a kept-open connection, one request at a time, and the write
//! of the previous chunk overlapped with the next request.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use swarmlab_course_wire::ChunkHash;
use tokio::sync::Notify;
use tokio::time::timeout;

use crate::engine::chunk_storage::ChunkStorage;
use crate::engine::fetch::{connect, fetch, Conn};
use crate::engine::state::{Pick, State};
use crate::engine::{EngineOptions, FailureKind, Progress};
use crate::error::RequestError;
use swarmlab_engine::{Storage, StorageError};

/// What the workers share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) notify: Notify,
    pub(crate) unique: Vec<ChunkHash>,
    pub(crate) storage: ChunkStorage,
    pub(crate) progress: Option<Arc<dyn Progress>>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A verified chunk being written to disk while the next one is received.
struct PendingWrite {
    index: usize,
    task: tokio::task::JoinHandle<(Result<(), StorageError>, Vec<u8>)>,
}

/// Waits for a pending write, records its outcome, and returns its buffer for reuse.
async fn finish_write(p: PendingWrite, peer: SocketAddr, shared: &Shared) -> Vec<u8> {
    let (written, data) = p
        .task
        .await
        .unwrap_or_else(|e| (Err(join_error(shared.storage.dir(), e)), Vec::new()));
    let i = p.index;
    match written {
        Err(e) => {
            let e = RequestError::Write(io::Error::other(e));
            tracing::error!("chunk {}: {e}", hex::encode(shared.unique[i]));
            shared.lock().fail(i, peer, e.kind());
        }
        Ok(()) => {
            shared.lock().done(i, peer, data.len() as u64);
            if let Some(p) = &shared.progress {
                p.chunk_done(data.len() as u64);
            }
        }
    }
    shared.notify.notify_waiters();
    data
}

/// A write task that panicked or was cancelled, as a storage error.
fn join_error(dir: &std::path::Path, e: tokio::task::JoinError) -> StorageError {
    StorageError::Io {
        path: dir.to_path_buf(),
        source: io::Error::other(e),
    }
}

/// Fetches, for `peer`, the chunks [`State::pick`] gives it until none is left.
pub(crate) async fn worker(peer: SocketAddr, shared: Arc<Shared>, opts: EngineOptions) {
    let mut conn: Option<Conn> = None;
    let mut failures = 0u32;
    let mut buf: Vec<u8> = Vec::new();
    let mut spare: Vec<u8> = Vec::new();
    let mut pending: Option<PendingWrite> = None;
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let pick = {
            let mut st = shared.lock();
            let pick = st.pick(&peer);
            // Leaving: say so in the same lock, so that a holder added from now on
            // gets a new worker.
            if pick == Pick::Finished && pending.is_none() {
                st.running.remove(&peer);
            }
            pick
        };
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
                    tracing::warn!(%peer, "({failures}/{}) {e}", opts.max_peer_failures);
                    let give_up = failures >= opts.max_peer_failures;
                    {
                        let mut st = shared.lock();
                        st.not_connected(i, peer);
                        if give_up {
                            st.give_up(peer);
                            st.running.remove(&peer);
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
            Err(_) => Err(RequestError::Timeout(opts.request_timeout)),
        };
        // The previous chunk's write overlapped this request; collect it now.
        if let Some(p) = pending.take() {
            spare = finish_write(p, peer, &shared).await;
        }
        match result {
            Ok(()) => {
                failures = 0;
                let data = std::mem::replace(&mut buf, std::mem::take(&mut spare));
                // Verified as it arrived: written under a temporary name, renamed.
                let mut storage = shared.storage.clone();
                let piece = i as u32;
                let task = tokio::task::spawn_blocking(move || {
                    let r = storage
                        .write(piece, 0, &data)
                        .and_then(|()| storage.piece_verified(piece));
                    (r, data)
                });
                pending = Some(PendingWrite { index: i, task });
                continue;
            }
            Err(e) if e.keeps_connection() => {
                match e.kind() {
                    FailureKind::NotFound => {
                        tracing::info!(%peer, "CHUNK_NOT_FOUND for {}", hex::encode(hash))
                    }
                    _ => tracing::warn!(%peer, "chunk {}: {e}: dropped", hex::encode(hash)),
                }
                shared.lock().fail(i, peer, e.kind());
            }
            Err(e) => {
                tracing::warn!(%peer, "{}: {e}", e.kind());
                conn = None;
                failures += 1;
                let mut st = shared.lock();
                st.fail(i, peer, e.kind());
                if failures >= opts.max_peer_failures {
                    st.give_up(peer);
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
