//! UDP trackers (BEP 15): connect, then announce, each retried with `base·2^n`
//! timeouts; transaction ids checked, stale or foreign packets ignored.

use std::net::SocketAddr;
use swarmlab_bt_wire::tracker::{self, Announce, AnnounceResponse};
use tokio::net::UdpSocket;

use super::TrackerOptions;
use crate::error::AnnounceError;

/// `udp://host:port[/path]` to `host:port`.
pub fn udp_host_port(url: &str) -> Result<String, AnnounceError> {
    let rest = url
        .get(6..)
        .filter(|_| url[..6].eq_ignore_ascii_case("udp://"))
        .ok_or_else(|| AnnounceError::BadUrl(url.to_string()))?;
    let hp = rest.split(['/', '?']).next().unwrap_or("");
    if hp.is_empty() || !hp.contains(':') {
        return Err(AnnounceError::BadUrl(url.to_string()));
    }
    Ok(hp.to_string())
}

async fn exchange(
    sock: &UdpSocket,
    packet: &[u8],
    tid: u32,
    opts: &TrackerOptions,
    attempts: &mut u32,
    first: bool,
) -> Result<Vec<u8>, AnnounceError> {
    let mut buf = vec![0u8; 65_536];
    for n in 0..=opts.udp_retries {
        if !(first && n == 0) {
            *attempts += 1;
        }
        sock.send(packet).await?;
        let wait = opts.udp_base_timeout * 2u32.pow(n.min(8));
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => break, // timed out: retry
                // ICMP port unreachable shows up as ConnectionRefused on a connected socket.
                Ok(Err(e)) => return Err(AnnounceError::Io(e)),
                Ok(Ok(len)) => {
                    if len >= 8 && buf[4..8] == tid.to_be_bytes() {
                        return Ok(buf[..len].to_vec());
                    }
                    // Stale or foreign packet: keep waiting.
                }
            }
        }
    }
    Err(AnnounceError::Timeout(*attempts))
}

pub(crate) async fn announce(
    url: &str,
    announce: &Announce,
    opts: &TrackerOptions,
    attempts: &mut u32,
) -> Result<AnnounceResponse, AnnounceError> {
    let hp = udp_host_port(url)?;
    let addr = tokio::net::lookup_host(&hp)
        .await
        .map_err(|source| AnnounceError::Resolve {
            host: hp.clone(),
            source,
        })?
        .next()
        .ok_or_else(|| AnnounceError::NoAddress(hp.clone()))?;
    let bind: SocketAddr = match opts.local_ip {
        Some(ip) if ip.is_ipv4() == addr.is_ipv4() => (ip, 0).into(),
        _ if addr.is_ipv4() => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        _ => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(bind).await?;
    sock.connect(addr).await?;
    let tid: u32 = rand::random();
    let resp = exchange(
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
    let resp = exchange(&sock, &packet, tid2, opts, attempts, false).await?;
    Ok(tracker::udp_parse_announce(&resp, tid2, addr.is_ipv6())?)
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
    }
}
