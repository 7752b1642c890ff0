//! Magnet links: the info dictionary by BEP 9 (ut_metadata) from the first peer
//! that has it, trying up to [`PARALLEL`] peers at once as the sources name them.
//! The session checks that the dictionary hashes to the info-hash; it is then
//! parsed with every bound of `Info::from_bytes`.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{Event, SessionConfig, Torrent};
use swarmlab_bt_wire::InfoHash;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::error::FetchError;
use crate::Connection;

/// Peers asked for the info dictionary at once.
pub const PARALLEL: usize = 8;

/// Fetches the info dictionary of `info_hash` from the peers arriving on `rx`
/// (every address seen is also pushed to `seen`, for the download). PEX addresses
/// from the peers asked are fed back to `tx`.
pub(crate) async fn fetch_metadata(
    info_hash: InfoHash,
    session: &SessionConfig,
    connect_timeout: Duration,
    limit: Duration,
    rx: &mut UnboundedReceiver<SocketAddr>,
    tx: &UnboundedSender<SocketAddr>,
    seen: &mut Vec<SocketAddr>,
) -> Result<Arc<Info>, FetchError> {
    let deadline = Instant::now() + limit;
    let mut queue: VecDeque<SocketAddr> = VecDeque::new();
    let mut known: HashSet<SocketAddr> = HashSet::new();
    let mut tasks: JoinSet<Result<Info, String>> = JoinSet::new();
    let mut last_error = String::from("no peer found");
    loop {
        while tasks.len() < PARALLEL {
            let Some(a) = queue.pop_front() else { break };
            let (cfg, tx) = (session.clone(), tx.clone());
            tasks.spawn(async move {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    ask(a, info_hash, cfg, connect_timeout, tx),
                )
                .await
                .unwrap_or_else(|_| Err(format!("{a}: no metadata within 30 s")))
            });
        }
        tokio::select! {
            Some(a) = rx.recv() => {
                if known.insert(a) {
                    seen.push(a);
                    queue.push_back(a);
                }
            }
            Some(r) = tasks.join_next(), if !tasks.is_empty() => match r {
                Ok(Ok(info)) => return Ok(Arc::new(info)),
                Ok(Err(e)) => last_error = e,
                Err(e) => last_error = e.to_string(),
            },
            _ = tokio::time::sleep_until(deadline) => {
                return Err(FetchError::NoMetadata {
                    seconds: limit.as_secs(),
                    peers: known.len(),
                    last_error,
                });
            }
        }
    }
}

async fn ask(
    addr: SocketAddr,
    info_hash: InfoHash,
    cfg: SessionConfig,
    connect_timeout: Duration,
    pex: UnboundedSender<SocketAddr>,
) -> Result<Info, String> {
    let mut conn = Connection::connect(addr, connect_timeout, cfg, Torrent::new(info_hash))
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    loop {
        match conn
            .next_event()
            .await
            .map_err(|e| format!("{addr}: {e}"))?
        {
            Event::ExtHandshake(h) if h.metadata_size.is_some() => {
                conn.session_mut()
                    .request_metadata()
                    .map_err(|e| format!("{addr}: {e}"))?;
            }
            Event::Metadata(raw) => {
                conn.session_mut().close();
                return Info::from_bytes(&raw)
                    .map_err(|e| format!("{addr}: bad info dictionary: {e}"));
            }
            Event::MetadataRejected(p) => {
                return Err(format!("{addr}: refused metadata piece {p}"));
            }
            Event::Pex(m) => {
                for a in m.added {
                    let _ = pex.send(a);
                }
            }
            _ => {}
        }
    }
}
