//! Peer sources: HTTP(S) trackers ([`http`]), UDP trackers (BEP 15, [`udp`]), and
//! what each one gave ([`SourceReport`]). The DHT is [`crate::dht`]; PEX comes from
//! the peers themselves ([`crate::peer`]).

pub mod http;
pub mod udp;

use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use swarmlab_bt_wire::tracker::{Announce, Event};
use swarmlab_bt_wire::{InfoHash, PeerId};

use crate::error::SourceError;

pub use http::{http_client, MAX_HTTP_BODY};

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

/// Options for tracker queries.
#[derive(Debug, Clone)]
pub struct TrackerOptions {
    /// HTTP request timeout.
    pub http_timeout: Duration,
    /// UDP base timeout (BEP 15: 15 s), doubled on each retry.
    pub udp_base_timeout: Duration,
    /// UDP retries after the first try.
    pub udp_retries: u32,
}

/// The kind of a tracker URL: "http_tracker", "udp_tracker", or `None` if unsupported.
pub fn tracker_kind(url: &str) -> Option<&'static str> {
    let l = url.to_ascii_lowercase();
    if l.starts_with("http://") || l.starts_with("https://") {
        Some("http_tracker")
    } else if l.starts_with("udp://") {
        Some("udp_tracker")
    } else {
        None
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
    let result = match kind {
        Some("http_tracker") => http::announce(url, announce, opts, client).await,
        Some(_) => udp::announce(url, announce, opts, &mut attempts).await,
        None => Err(SourceError::UnsupportedScheme(url.to_string())),
    };
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
    Announce {
        info_hash,
        peer_id,
        port: 6881,
        uploaded: 0,
        downloaded: 0,
        left,
        event: Event::Started,
        num_want: 200,
        key: rand::random(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_kinds() {
        assert_eq!(tracker_kind("HTTPS://x/a"), Some("http_tracker"));
        assert_eq!(tracker_kind("udp://x:1"), Some("udp_tracker"));
        assert_eq!(tracker_kind("wss://x"), None);
    }
}
