//! Where peers come from: trackers (HTTP and UDP, [`crate::tracker`]) and the DHT
//! ([`crate::dht::DhtLookup`]), asked at once and again every
//! [`Announcer::interval`]; PEX addresses arrive from the peer tasks on the same
//! channel. The same loop announces a seed (`seed`, `fetch --seed`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt_wire::tracker::Event as TrackerEvent;
use swarmlab_bt_wire::{InfoHash, PeerId};
use tokio::sync::mpsc::UnboundedSender;

use crate::dht::DhtLookup;
use crate::tracker::{announce_all, http_client_from, make_announce, TrackerOptions};

/// Announces to trackers and the DHT, and sends every peer they name to `tx`.
#[derive(Clone)]
pub struct Announcer {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Our peer id.
    pub peer_id: PeerId,
    /// The TCP port we announce (where we serve, if we do).
    pub port: u16,
    /// Tracker URLs.
    pub trackers: Vec<String>,
    /// The DHT, if any.
    pub dht: Option<Arc<dyn DhtLookup>>,
    /// Announce to the DHT (`announce_peer`) as well as look up: for seeds.
    pub dht_announce: bool,
    /// Time between rounds.
    pub interval: Duration,
    /// Tracker timeouts.
    pub tracker: TrackerOptions,
}

impl Announcer {
    /// Runs rounds until `tx` is closed: every round announces to every tracker
    /// (`started` first, then periodic) and asks the DHT; `left()` is the bytes
    /// still wanted (0 for a seed).
    pub async fn run(self, tx: UnboundedSender<SocketAddr>, left: impl Fn() -> u64) {
        let client = match http_client_from(self.tracker.http_timeout, self.tracker.local_ip) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("no HTTP client for trackers: {e}");
                None
            }
        };
        let mut event = TrackerEvent::Started;
        loop {
            if let (Some(c), false) = (&client, self.trackers.is_empty()) {
                let a = make_announce(self.info_hash, self.peer_id, self.port, left(), event);
                let (peers, errors) = announce_all(&self.trackers, &a, &self.tracker, c).await;
                for (url, e) in errors {
                    tracing::warn!("tracker {url}: {e}");
                }
                for p in peers {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
            }
            if let Some(dht) = &self.dht {
                match dht.get_peers(self.info_hash).await {
                    Ok(peers) => {
                        for p in peers {
                            if tx.send(p).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => tracing::warn!("DHT lookup: {e}"),
                }
                if self.dht_announce {
                    if let Err(e) = dht.announce(self.info_hash, self.port).await {
                        tracing::warn!("DHT announce: {e}");
                    }
                }
            }
            event = TrackerEvent::None;
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = tx.closed() => return,
            }
        }
    }
}
