//! Holders that arrive during the download: the [`Refill`] hook, and the supervisor
//! that runs the workers, asks the hook for chunks left without a usable holder and
//! starts workers for the peers it names.
//!
//! The supervisor wakes whenever a worker records something (a chunk done, a failure,
//! a peer given up) or ends. When chunks are orphaned ([`State::take_unasked`]) it asks the
//! refill for them while the other workers go on downloading, adds every holder the
//! refill names, and starts a worker for each named peer whose worker is not running.
//! The download ends when every chunk is done, or when no worker runs and the refill
//! has already been asked, since anything last changed, for every chunk left.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use swarmlab_course_wire::ChunkHash;
use tokio::task::JoinSet;

use crate::engine::state::State;
use crate::engine::worker::{worker, Shared};
use crate::engine::{EngineOptions, FailureKind};

/// The chunks a download lacks a usable holder for, and why: what the refill is asked.
#[derive(Debug, Clone, Default)]
pub struct Lacking {
    /// The chunks, by hash, that no usable peer holds now.
    pub chunks: Vec<ChunkHash>,
    /// Peers given up (they stopped answering), over the whole download.
    pub dead: Vec<SocketAddr>,
    /// For the lacking chunks: the peers that failed for them, and how.
    pub failed: Vec<(ChunkHash, SocketAddr, FailureKind)>,
}

/// What a refill found.
#[derive(Debug, Clone, Default)]
pub struct Refilled {
    /// Holders by chunk hash.
    pub holders: Vec<(ChunkHash, SocketAddr)>,
    /// Peers presumed to hold every chunk (their holdings unknown).
    pub presumed: Vec<SocketAddr>,
}

/// Finds more holders while a download runs (Charlie runs its discovery chain again).
pub trait Refill: Send {
    /// New holders for what is `lacking`; what the download already has, peers given
    /// up and peers that failed for the chunk are ignored. An empty answer leaves the
    /// chunks to fail (unless a later change asks again).
    fn refill<'a>(&'a mut self, lacking: &'a Lacking) -> BoxFuture<'a, Refilled>;
}

/// Runs workers for every holder of `shared`'s state until the download is done or
/// stuck, asking `refill` for orphaned chunks; returns the number of refills asked.
pub(crate) async fn supervise(
    shared: &Arc<Shared>,
    opts: &EngineOptions,
    mut refill: Option<&mut dyn Refill>,
) -> usize {
    let mut workers = JoinSet::new();
    let start = |peer: SocketAddr, workers: &mut JoinSet<()>, st: &mut State| {
        if st.running.insert(peer) {
            workers.spawn(worker(peer, shared.clone(), opts.clone()));
        }
    };
    {
        let mut st = shared.lock();
        for p in st.peer_list() {
            if !st.dead.contains(&p) {
                start(p, &mut workers, &mut st);
            }
        }
    }
    let index: HashMap<ChunkHash, usize> = shared
        .unique
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, i))
        .collect();
    let mut refills = 0;
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (done, ask) = {
            let mut st = shared.lock();
            let ask = match refill {
                Some(_) if refills < opts.max_refills => st.take_unasked(),
                _ => Vec::new(),
            };
            (st.remaining() == 0, ask)
        };
        if done {
            break;
        }
        if let (false, Some(r)) = (ask.is_empty(), refill.as_deref_mut()) {
            let lacking = lacking_of(&shared.lock(), &shared.unique, &ask);
            refills += 1;
            tracing::info!(
                "{} chunk(s) without a usable holder: refill {refills}",
                ask.len()
            );
            if let Some(p) = &opts.progress {
                p.refilling(ask.len() as u64);
            }
            let found = r.refill(&lacking).await;
            let mut st = shared.lock();
            let mut named = Vec::new();
            for peer in found.presumed {
                if st.add_presumed(peer) && !named.contains(&peer) {
                    named.push(peer);
                }
            }
            for (hash, peer) in found.holders {
                if let Some(&i) = index.get(&hash) {
                    if st.add_holder(i, peer) && !named.contains(&peer) {
                        named.push(peer);
                    }
                }
            }
            for p in named {
                start(p, &mut workers, &mut st);
            }
            drop(st);
            shared.notify.notify_waiters();
            continue;
        }
        if workers.is_empty() {
            break;
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = workers.join_next() => {}
        }
    }
    // Every chunk is done (or none can be): the workers finish on their own.
    shared.notify.notify_waiters();
    while workers.join_next().await.is_some() {}
    refills
}

/// What the refill is told about the chunks `ask`.
fn lacking_of(st: &State, unique: &[ChunkHash], ask: &[usize]) -> Lacking {
    Lacking {
        chunks: ask.iter().map(|&i| unique[i]).collect(),
        dead: st.dead.clone(),
        failed: ask
            .iter()
            .flat_map(|&i| st.failed[i].iter().map(move |(p, k)| (unique[i], *p, *k)))
            .collect(),
    }
}
