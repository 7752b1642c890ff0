//! Peer sources: HTTP(S) trackers, UDP trackers (BEP 15) and the DHT.
//! PEX is handled by the sessions themselves (see [`crate::session`]).

use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use swarmlab_bt_wire::tracker::{self, Announce, AnnounceResponse, Event};
use swarmlab_bt_wire::{InfoHash, PeerId};
use tokio::net::UdpSocket;

/// Largest HTTP tracker response body read.
pub const MAX_HTTP_BODY: usize = 2 << 20;

/// Errors from a tracker query.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The URL is not usable.
    #[error("bad tracker URL: {0}")]
    BadUrl(String),
    /// Transport failure (HTTP error, DNS, socket).
    #[error("{0}")]
    Transport(String),
    /// No answer within the timeouts.
    #[error("timeout after {0} tries")]
    Timeout(u32),
    /// The tracker's answer (including `failure reason`).
    #[error(transparent)]
    Tracker(#[from] tracker::TrackerError),
    /// Response body too large.
    #[error("tracker response over {MAX_HTTP_BODY} bytes")]
    TooLarge,
}

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
    http: &reqwest::Client,
) -> (SourceReport, Vec<SocketAddr>) {
    let start = Instant::now();
    let kind = tracker_kind(url);
    let mut attempts = 1;
    let result = match kind {
        Some("http_tracker") => http_announce(url, announce, opts, http).await,
        Some(_) => udp_announce(url, announce, opts, &mut attempts).await,
        None => Err(SourceError::BadUrl(format!("unsupported scheme: {url}"))),
    };
    let mut report = SourceReport {
        kind: kind.unwrap_or("unknown").to_string(),
        url: url.to_string(),
        ok: false,
        peers: 0,
        seeders: None,
        leechers: None,
        interval: None,
        attempts,
        elapsed_ms: start.elapsed().as_millis() as u64,
        error: None,
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

/// A reqwest client for tracker queries.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, SourceError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("swarmlab/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| SourceError::Transport(e.to_string()))
}

async fn http_announce(
    url: &str,
    announce: &Announce,
    opts: &TrackerOptions,
    http: &reqwest::Client,
) -> Result<AnnounceResponse, SourceError> {
    let full = announce.http_url(url);
    let fut = async {
        let mut resp = http
            .get(&full)
            .send()
            .await
            .map_err(|e| SourceError::Transport(describe_reqwest(&e)))?;
        if !resp.status().is_success() {
            return Err(SourceError::Transport(format!("HTTP {}", resp.status())));
        }
        if resp.content_length().unwrap_or(0) > MAX_HTTP_BODY as u64 {
            return Err(SourceError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| SourceError::Transport(describe_reqwest(&e)))?
        {
            if body.len() + chunk.len() > MAX_HTTP_BODY {
                return Err(SourceError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(tracker::parse_http_response(&body)?)
    };
    tokio::time::timeout(opts.http_timeout, fut)
        .await
        .unwrap_or(Err(SourceError::Timeout(1)))
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// `udp://host:port[/path]` to `host:port`.
pub fn udp_host_port(url: &str) -> Result<String, SourceError> {
    let rest = url
        .get(6..)
        .filter(|_| url[..6].eq_ignore_ascii_case("udp://"))
        .ok_or_else(|| SourceError::BadUrl(url.to_string()))?;
    let hp = rest.split(['/', '?']).next().unwrap_or("");
    if hp.is_empty() || !hp.contains(':') {
        return Err(SourceError::BadUrl(url.to_string()));
    }
    Ok(hp.to_string())
}

async fn udp_exchange(
    sock: &UdpSocket,
    packet: &[u8],
    tid: u32,
    opts: &TrackerOptions,
    attempts: &mut u32,
    first: bool,
) -> Result<Vec<u8>, SourceError> {
    let mut buf = vec![0u8; 65_536];
    for n in 0..=opts.udp_retries {
        if !(first && n == 0) {
            *attempts += 1;
        }
        sock.send(packet)
            .await
            .map_err(|e| SourceError::Transport(e.to_string()))?;
        let wait = opts.udp_base_timeout * 2u32.pow(n.min(8));
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => break, // timed out: retry
                Ok(Err(e)) => {
                    // ICMP port unreachable shows up as ConnectionRefused on a connected socket.
                    return Err(SourceError::Transport(e.to_string()));
                }
                Ok(Ok(len)) => {
                    if len >= 8 && buf[4..8] == tid.to_be_bytes() {
                        return Ok(buf[..len].to_vec());
                    }
                    // Stale or foreign packet: keep waiting.
                }
            }
        }
    }
    Err(SourceError::Timeout(*attempts))
}

async fn udp_announce(
    url: &str,
    announce: &Announce,
    opts: &TrackerOptions,
    attempts: &mut u32,
) -> Result<AnnounceResponse, SourceError> {
    let hp = udp_host_port(url)?;
    let addr = tokio::net::lookup_host(&hp)
        .await
        .map_err(|e| SourceError::Transport(format!("resolve {hp}: {e}")))?
        .next()
        .ok_or_else(|| SourceError::Transport(format!("{hp} has no address")))?;
    let bind: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("addr")
    } else {
        "[::]:0".parse().expect("addr")
    };
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(|e| SourceError::Transport(e.to_string()))?;
    sock.connect(addr)
        .await
        .map_err(|e| SourceError::Transport(e.to_string()))?;
    let tid: u32 = rand::random();
    let resp = udp_exchange(
        &sock,
        &tracker::udp_connect_request(tid),
        tid,
        opts,
        attempts,
        true,
    )
    .await?;
    let cid = tracker::udp_parse_connect(&resp, tid)?;
    let tid2: u32 = rand::random();
    let packet = announce.udp_packet(cid, tid2);
    let resp = udp_exchange(&sock, &packet, tid2, opts, attempts, false).await?;
    Ok(tracker::udp_parse_announce(&resp, tid2, addr.is_ipv6())?)
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
    fn udp_urls() {
        assert_eq!(
            udp_host_port("udp://tracker.example:1337/announce").unwrap(),
            "tracker.example:1337"
        );
        assert_eq!(udp_host_port("UDP://127.0.0.1:80").unwrap(), "127.0.0.1:80");
        assert!(udp_host_port("udp://noport/announce").is_err());
        assert!(udp_host_port("http://x:1").is_err());
        assert_eq!(tracker_kind("HTTPS://x/a"), Some("http_tracker"));
        assert_eq!(tracker_kind("wss://x"), None);
    }
}
