//! The announcer: keeps a set of keys announced on the DHT (`announce_peer`, BEP 5)
//! with a TCP port, on a schedule.
//!
//! A course peer announces the file id (and, with `--announce-chunks`, the hash of
//! every chunk it holds); the demo runs the same code in-process. The keys come from a
//! `watch` channel, so the set may change at any time:
//!
//! - a key that appears is announced at once;
//! - every key is announced again [`AnnounceConfig::interval`] after its last
//!   announce that reached a node (default **15 minutes**, libtorrent's
//!   `dht_announce_interval`: DHT nodes forget a peer 30 minutes after its last
//!   announce, ours and libtorrent's alike, so one lost round still leaves it
//!   listed);
//! - an announce that reached no node (the table still empty, the network down) is
//!   tried again after [`AnnounceConfig::retry`] (default 30 s);
//! - a key that disappears is no longer announced (the nodes forget it within 30
//!   minutes: BitTorrent has no "unannounce").
//!
//! At most [`AnnounceConfig::parallel`] announces run at once. The schedule itself is
//! sans-IO ([`Schedule`]); [`Announcer::spawn`] drives it on tokio against an
//! [`AnnounceTarget`] (the DHT driver, or a fake in tests).
//!
//! | file | concern |
//! |---|---|
//! | `target.rs` | [`AnnounceTarget`], [`Key`], [`Announced`]; the DHT driver as a target |
//! | `schedule.rs` | [`Schedule`]: when each key is due (sans-IO) |
//! | this file | [`AnnounceConfig`], [`Announcer`] and its task, [`AnnounceStats`] |

mod schedule;
mod target;

pub use schedule::Schedule;
pub use target::{AnnounceTarget, Announced, Key};

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The announcer's schedule. [`AnnounceConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct AnnounceConfig {
    /// The TCP port announced.
    pub port: u16,
    /// Time between two announces of a key (default 15 minutes).
    pub interval: Duration,
    /// Time before an announce that reached no node is tried again (default 30 s,
    /// never more than `interval`).
    pub retry: Duration,
    /// Announces at once (default 4).
    pub parallel: usize,
}

impl AnnounceConfig {
    /// The defaults, announcing `port`.
    pub fn new(port: u16) -> AnnounceConfig {
        AnnounceConfig {
            port,
            interval: Duration::from_secs(15 * 60),
            retry: Duration::from_secs(30),
            parallel: 4,
        }
    }
}

/// Counters of an announcer.
#[derive(Debug, Default)]
pub struct AnnounceStats {
    /// Announces that reached at least one node.
    pub announced: AtomicU64,
    /// Announces that reached none, or failed.
    pub failed: AtomicU64,
    /// Keys announced now.
    pub keys: AtomicU64,
}

/// Called with each announce's result: the key and what it found.
pub type OnAnnounced = Arc<dyn Fn(&Key, &Announced) + Send + Sync>;

/// A running announcer; stops when dropped. See the [module documentation](self).
pub struct Announcer {
    stats: Arc<AnnounceStats>,
    task: JoinHandle<()>,
}

impl Drop for Announcer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Announcer {
    /// Announces the keys of `keys` to `target` on `cfg`'s schedule, calling
    /// `on_announced` after each announce.
    pub fn spawn<T: AnnounceTarget>(
        target: Arc<T>,
        keys: watch::Receiver<BTreeSet<Key>>,
        cfg: AnnounceConfig,
        on_announced: OnAnnounced,
    ) -> Announcer {
        let stats = Arc::new(AnnounceStats::default());
        let task = tokio::spawn(run(target, keys, cfg, on_announced, stats.clone()));
        Announcer { stats, task }
    }

    /// The counters.
    pub fn stats(&self) -> &AnnounceStats {
        &self.stats
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

async fn run<T: AnnounceTarget>(
    target: Arc<T>,
    mut keys: watch::Receiver<BTreeSet<Key>>,
    cfg: AnnounceConfig,
    on_announced: OnAnnounced,
    stats: Arc<AnnounceStats>,
) {
    let mut schedule = Schedule::new(cfg.interval, cfg.retry);
    let mut running = FuturesUnordered::new();
    let mut keys_open = true;
    schedule.set_keys(&keys.borrow_and_update(), now());
    loop {
        stats
            .keys
            .store(schedule.keys().count() as u64, Ordering::Relaxed);
        let room = cfg.parallel.max(1).saturating_sub(schedule.in_flight());
        for key in schedule.take_due(now(), room) {
            let f = target.announce(key, cfg.port);
            running.push(async move { (key, f.await) });
        }
        let next = schedule.next_due().map(tokio::time::Instant::from_std);
        tokio::select! {
            Some((key, result)) = running.next(), if !running.is_empty() => {
                let reached = match &result {
                    Ok(a) => {
                        on_announced(&key, a);
                        a.nodes > 0
                    }
                    Err(e) => {
                        tracing::debug!("announce of {}: {e}", hex::encode(key));
                        false
                    }
                };
                let counter = if reached { &stats.announced } else { &stats.failed };
                counter.fetch_add(1, Ordering::Relaxed);
                schedule.done(key, now(), reached);
            }
            changed = keys.changed(), if keys_open => match changed {
                Ok(()) => schedule.set_keys(&keys.borrow_and_update(), now()),
                Err(_) => keys_open = false,
            },
            _ = sleep_until(next), if next.is_some() && schedule.in_flight() < cfg.parallel.max(1) => {}
            else => {
                if !keys_open {
                    // No more key changes and nothing left to do.
                    futures::future::pending::<()>().await;
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
