//! One peer's audit: connect, let the session do the handshakes, then record what
//! the peer says (bitfield, haves, PEX, DHT port) within a time budget, optionally
//! fetching the info dictionary (BEP 9) and probing pieces.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`audit_peer`]: the attempts (one retry of a connection closed during the handshake), the budget, and the event loop over a [`Connection`] |
//! | `observer.rs` | what to record from each session event, when to fetch, probe and leave (no IO) |
//! | `probe.rs` | `--probe-pieces`: requests, in-order hashing, the rate |
//! | `meta.rs` | [`SharedMeta`]: the info dictionary shared by a round's peers |
//! | `failure.rs` | how a connection's end becomes the record's failure |

mod failure;
mod meta;
mod observer;
mod probe;

#[cfg(test)]
mod tests;

pub use meta::{FetchSlot, SharedMeta, MAX_METADATA_FETCHES};
pub use observer::{ANNOUNCE_WAIT, UNCHOKE_WAIT};
pub use probe::PROBE_PIPELINE;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt::Connection;
use swarmlab_bt_wire::session::{Event, SessionConfig, Torrent};
use swarmlab_bt_wire::{InfoHash, PeerId};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::report::{Failure, FailureReason, PeerRecord, PieceEvidence};
use crate::AuditConfig;
use failure::Stage;
use observer::{Observer, Step};

/// Our client name in the extension handshake.
pub const CLIENT_VERSION: &str = concat!("swarmlab/", env!("CARGO_PKG_VERSION"));
/// Pause before the one retry of a connection closed during the handshake.
pub const RETRY_DELAY: Duration = Duration::from_millis(200);

/// What a peer's audit needs from the round.
#[derive(Clone)]
pub struct SessionCtx {
    /// Torrent.
    pub info_hash: InfoHash,
    /// Shared metadata.
    pub meta: Arc<SharedMeta>,
    /// Settings.
    pub cfg: Arc<AuditConfig>,
    /// Where PEX-learned peers go (peer that told us, peers).
    pub pex_tx: Option<mpsc::Sender<(SocketAddr, Vec<SocketAddr>)>>,
}

/// A fresh random peer id `-SL0001-` + 12 random alphanumerics (one per connection, so a
/// client never sees two of our connections with the same id).
pub fn our_peer_id() -> PeerId {
    use rand::Rng;
    let mut id = *b"-SL0001-000000000000";
    let mut rng = rand::thread_rng();
    for b in &mut id[8..] {
        *b = rng.sample(rand::distributions::Alphanumeric);
    }
    id
}

/// The session settings of an audit connection: our client name, a handshake
/// timeout of twice the connect timeout (at least 2 s), and no idle timeout
/// before the peer budget.
pub fn session_config(cfg: &AuditConfig) -> SessionConfig {
    let mut c = SessionConfig::new(our_peer_id());
    c.extensions.client = Some(CLIENT_VERSION.to_string());
    c.timeouts.handshake = cfg
        .connect_timeout
        .max(Duration::from_secs(1))
        .saturating_mul(2);
    c.timeouts.idle = cfg.peer_budget.saturating_add(Duration::from_secs(1));
    c
}

/// Audit one peer. Never fails: every outcome is in the record.
pub async fn audit_peer(
    addr: SocketAddr,
    sources: Vec<String>,
    ctx: SessionCtx,
) -> (PeerRecord, PieceEvidence) {
    let mut rec = PeerRecord::new(addr);
    rec.sources = sources;
    let mut ev = PieceEvidence::default();
    let start = Instant::now();
    let budget = ctx.cfg.peer_budget;
    let attempts = async {
        let first = run(addr, &ctx, &mut rec, &mut ev).await;
        match first {
            // Some clients (libtorrent under load) close a fresh connection before their
            // handshake; one retry tells a transient refusal from a peer that always does it.
            Err(f)
                if f.reason == FailureReason::Disconnected
                    && f.stage == "handshake"
                    && !rec.reached =>
            {
                tokio::time::sleep(RETRY_DELAY).await;
                rec.warn(format!(
                    "first connection closed before the handshake ({}); retried",
                    f.detail
                ));
                run(addr, &ctx, &mut rec, &mut ev).await
            }
            other => other,
        }
    };
    match tokio::time::timeout(budget, attempts).await {
        Ok(Ok(ended)) => rec.ended = ended.into(),
        Ok(Err(f)) => {
            rec.ended = if f.reason == FailureReason::Disconnected && rec.reached {
                "peer_closed".into()
            } else {
                "error".into()
            };
            rec.failure = Some(f);
        }
        Err(_) => {
            rec.ended = "budget".into();
            if !rec.reached {
                rec.failure = Some(Failure::new(
                    FailureReason::Timeout,
                    if rec.connect_ms.is_some() {
                        "handshake"
                    } else {
                        "connect"
                    },
                    format!("per-peer budget of {:.1} s used up", budget.as_secs_f64()),
                ));
            }
        }
    }
    rec.duration_ms = start.elapsed().as_millis() as u64;
    if let Some(p) = rec.probe.as_mut() {
        if p.rate_bps.is_none() && p.seconds > 0.0 && p.bytes > 0 {
            p.rate_bps = Some(p.bytes as f64 / p.seconds);
        }
    }
    (rec, ev)
}

/// One connection: the record and evidence live outside, so a budget cut keeps what
/// was learned.
async fn run(
    addr: SocketAddr,
    ctx: &SessionCtx,
    rec: &mut PeerRecord,
    ev: &mut PieceEvidence,
) -> Result<&'static str, Failure> {
    let cfg = &ctx.cfg;
    let torrent = match ctx.meta.get() {
        Some(info) => Torrent::from_info(&info),
        None => Torrent::new(ctx.info_hash),
    };
    let t0 = Instant::now();
    let mut conn = Connection::connect(addr, cfg.connect_timeout, session_config(cfg), torrent)
        .await
        .map_err(failure::connect_failure)?;
    rec.connect_ms = Some(t0.elapsed().as_millis() as u64);
    let mut observer: Option<Observer> = None;
    loop {
        let now = Instant::now().into_std();
        let wake = match observer.as_mut() {
            // The handshakes: the session's own timeout ends them.
            None => None,
            Some(o) => match o.step(now, conn.session_mut(), ctx, rec, ev) {
                Step::Done => return Ok("done"),
                Step::Wait(at) => Some(Instant::from_std(at)),
            },
        };
        let event = match conn.next_event_until(wake).await {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => {
                let at = Stage {
                    established: observer.is_some(),
                    basic_done: observer.as_ref().is_some_and(Observer::basic_done),
                };
                return failure::end(e, at, rec, ev);
            }
        };
        let now = Instant::now().into_std();
        match (observer.as_mut(), event) {
            (None, Event::Established(peer)) => {
                observer = Some(Observer::new(now, addr, &peer, conn.session_mut(), rec));
            }
            (Some(o), e) => {
                o.on_event(now, e, conn.session_mut(), ctx, rec, ev)?;
                o.after_events(now, rec);
            }
            (None, _) => {}
        }
    }
}
