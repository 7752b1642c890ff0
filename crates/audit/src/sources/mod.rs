//! Peer sources: HTTP(S) and UDP (BEP 15) trackers, through the clients of
//! [`swarmlab_bt::tracker`] (shared with fetch and seed), and what each one gave
//! ([`SourceReport`]). The DHT is [`crate::dht`]; PEX comes from the peers
//! themselves ([`crate::peer`]).

use serde::Serialize;
use std::net::SocketAddr;
use std::time::Instant;
use swarmlab_bt_wire::tracker::{Announce, Event};
use swarmlab_bt_wire::{InfoHash, PeerId};

pub use swarmlab_bt::tracker::{http_client, tracker_kind, TrackerOptions, MAX_HTTP_BODY};

/// What one tracker (or the DHT) gave.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// "http_tracker", "udp_tracker" or "dht".
    pub kind: String,
    /// Tracker URL, or "dht".
    pub url: String,
    /// Whether it answered.
    pub ok: bool,
    /// Peers it named.
    pub peers: usize,
    /// Seeds according to the tracker.
    pub seeders: Option<u32>,
    /// Leechers according to the tracker.
    pub leechers: Option<u32>,
    /// Re-announce interval.
    pub interval: Option<u32>,
    /// Requests sent (UDP retries included).
    pub attempts: u32,
    /// Time taken, milliseconds.
    pub elapsed_ms: u64,
    /// The error, when not ok.
    pub error: Option<String>,
}

impl SourceReport {
    /// A source that could not be asked at all (no HTTP client, no DHT node, …).
    pub fn unavailable(kind: &str, url: &str, error: impl Into<String>) -> SourceReport {
        SourceReport {
            kind: kind.into(),
            url: url.into(),
            ok: false,
            peers: 0,
            seeders: None,
            leechers: None,
            interval: None,
            attempts: 0,
            elapsed_ms: 0,
            error: Some(error.into()),
        }
    }
}

/// Announce to one tracker; never fails, the report says what happened.
pub async fn query_tracker(
    url: &str,
    announce: &Announce,
    opts: &TrackerOptions,
    client: &reqwest::Client,
) -> (SourceReport, Vec<SocketAddr>) {
    let start = Instant::now();
    let kind = tracker_kind(url);
    let mut attempts = 1;
    let result = swarmlab_bt::tracker::announce(url, announce, opts, client, &mut attempts).await;
    let mut report = SourceReport {
        kind: kind.unwrap_or("unknown").to_string(),
        url: url.to_string(),
        attempts,
        elapsed_ms: start.elapsed().as_millis() as u64,
        error: None,
        ..SourceReport::unavailable("", "", "")
    };
    match result {
        Ok(r) => {
            report.ok = true;
            report.peers = r.peers.len();
            report.seeders = r.complete;
            report.leechers = r.incomplete;
            report.interval = r.interval;
            (report, r.peers)
        }
        Err(e) => {
            report.error = Some(e.to_string());
            (report, Vec::new())
        }
    }
}

/// The announce we send: event=started, `left` = the torrent's size if known.
pub fn make_announce(info_hash: InfoHash, peer_id: PeerId, left: u64) -> Announce {
    swarmlab_bt::tracker::make_announce(info_hash, peer_id, 6881, left, Event::Started)
}
