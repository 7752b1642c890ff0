//! The tracker's UDP side: TRACKER_INFO to DISCOVER_TRACKER, sent as two datagrams.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use swarmlab_course_wire::{
    error_message, udp_datagrams, ErrorCode, Header, Message, MsgType, TrackerInfo, HEADER_LEN,
};
use tokio::net::UdpSocket;

use crate::config::PeersIni;
use crate::server::ServerStats;

/// Binds the discovery socket: `addr` (normally 0.0.0.0:9000) with SO_REUSEADDR so
/// several trackers can share a host, and SO_BROADCAST.
pub fn bind_discovery(addr: SocketAddrV4) -> io::Result<UdpSocket> {
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    s.set_reuse_address(true)?;
    s.set_broadcast(true)?;
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::V4(addr).into())?;
    UdpSocket::from_std(s.into())
}

/// The reply to one discovery datagram, encoded whole: TRACKER_INFO for a
/// DISCOVER_TRACKER, an ERROR otherwise (a datagram shorter than a header is
/// INVALID_MESSAGE_FORMAT). [`serve_discovery`] sends it in two datagrams.
pub fn discovery_reply(datagram: &[u8], info: &TrackerInfo) -> Vec<u8> {
    let Some(head) = datagram
        .get(..HEADER_LEN)
        .and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok())
    else {
        return error_message(ErrorCode::InvalidMessageFormat).to_vec();
    };
    match Header::parse(head).classify_request(MsgType::DiscoverTracker) {
        Ok(()) => Message::TrackerInfo(info.clone())
            .encode()
            .unwrap_or_else(|_| error_message(ErrorCode::InvalidRequest).to_vec()),
        Err(code) => error_message(code).to_vec(),
    }
}

/// Answers every datagram on `socket` with [`discovery_reply`], sent as two datagrams:
/// the 8-byte header, then the body (rule 4.5). A deployed client reads the header
/// with an 8-byte `recvfrom` and waits for the body in a second datagram, so it hangs
/// on a reply in one datagram; the other deployed client, and ours, take both forms.
pub async fn serve_discovery(
    socket: UdpSocket,
    info: TrackerInfo,
    stats: Arc<ServerStats>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!("discovery recv: {e}");
                continue;
            }
        };
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let reply = discovery_reply(&buf[..n], &info);
        if reply.get(1) == Some(&(MsgType::Error as u8)) {
            tracing::debug!(%from, "invalid discovery datagram");
            stats.count_error_bytes(&reply);
        } else {
            stats.replies_ok.fetch_add(1, Ordering::Relaxed);
        }
        for datagram in udp_datagrams(&reply) {
            if let Err(e) = socket.send_to(datagram, from).await {
                tracing::debug!(%from, "discovery reply: {e}");
                break;
            }
        }
    }
}

/// The tracker's TRACKER_INFO: its TCP address from peers.ini (section `tracker`).
pub fn tracker_info(peers: &PeersIni, name: &str) -> Option<TrackerInfo> {
    peers.get("tracker").map(|addr| TrackerInfo {
        addr,
        name: name.to_owned(),
    })
}

/// The unspecified discovery address on `port`.
pub fn discovery_addr(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
}
