//! Tracker clients, shared by the auditor, `fetch` and `seed`: HTTP(S) trackers
//! ([`http`]: BEP 3 with BEP 23 compact peers, through reqwest with rustls, the body
//! capped at [`MAX_HTTP_BODY`]) and UDP trackers ([`udp`]: BEP 15, retried with
//! `base·2^n` timeouts). The codecs are `swarmlab_bt_wire::tracker`'s; this module
//! only moves their bytes.
//!
//! Call [`announce`] with the URL, the [`Announce`] and a client from
//! [`http_client`] (made once, shared by every HTTP announce).

pub mod http;
pub mod udp;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use swarmlab_bt_wire::tracker::{Announce, AnnounceResponse, Event};
use swarmlab_bt_wire::{InfoHash, PeerId};

use crate::error::AnnounceError;

pub use http::{http_client, http_client_from, MAX_HTTP_BODY};
pub use udp::udp_host_port;

/// How long tracker queries may take.
#[derive(Debug, Clone)]
pub struct TrackerOptions {
    /// HTTP request timeout.
    pub http_timeout: Duration,
    /// UDP base timeout (BEP 15: 15 s), doubled on each retry.
    pub udp_base_timeout: Duration,
    /// UDP retries after the first try.
    pub udp_retries: u32,
    /// The address queries leave from (HTTP connections and UDP sockets are bound
    /// to it), or the system's choice (`None`). A tracker records the address a
    /// query came from: a seed sets its listen address's IP here so that the
    /// tracker names an address where it can be reached.
    pub local_ip: Option<IpAddr>,
}

impl Default for TrackerOptions {
    /// 10 s for HTTP; UDP 3 s doubled over 2 retries (BEP 15's 15 s is for the
    /// Internet; these suit a command a user waits for).
    fn default() -> Self {
        TrackerOptions {
            http_timeout: Duration::from_secs(10),
            udp_base_timeout: Duration::from_secs(3),
            udp_retries: 2,
            local_ip: None,
        }
    }
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

/// Announce to the tracker at `url`; `attempts` counts the requests sent (UDP
/// retries included).
pub async fn announce(
    url: &str,
    a: &Announce,
    opts: &TrackerOptions,
    client: &reqwest::Client,
    attempts: &mut u32,
) -> Result<AnnounceResponse, AnnounceError> {
    *attempts = 1;
    match tracker_kind(url) {
        Some("http_tracker") => http::announce(url, a, opts, client).await,
        Some(_) => udp::announce(url, a, opts, attempts).await,
        None => Err(AnnounceError::UnsupportedScheme(url.to_string())),
    }
}

/// An announce of ours: `event`, `left` bytes to go, our TCP `port`, up to 200 peers
/// wanted, a random key.
pub fn make_announce(
    info_hash: InfoHash,
    peer_id: PeerId,
    port: u16,
    left: u64,
    event: Event,
) -> Announce {
    Announce {
        info_hash,
        peer_id,
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event,
        num_want: 200,
        key: rand::random(),
    }
}

/// Announce to every tracker of `urls` at once; the peers they name, deduplicated,
/// and the errors (URL, message) of those that failed.
pub async fn announce_all(
    urls: &[String],
    a: &Announce,
    opts: &TrackerOptions,
    client: &reqwest::Client,
) -> (Vec<SocketAddr>, Vec<(String, String)>) {
    let futs = urls.iter().map(|u| async move {
        let mut attempts = 0;
        (u.clone(), announce(u, a, opts, client, &mut attempts).await)
    });
    let mut peers: Vec<SocketAddr> = Vec::new();
    let mut errors = Vec::new();
    for (u, r) in futures::future::join_all(futs).await {
        match r {
            Ok(r) => {
                for p in r.peers {
                    if !peers.contains(&p) {
                        peers.push(p);
                    }
                }
            }
            Err(e) => errors.push((u, e.to_string())),
        }
    }
    (peers, errors)
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
