//! The tracker: FILE_INFO over TCP from peers.ini + file.ini, TRACKER_INFO over UDP.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use swarmlab_course_wire::{
    error_message, ChunkRecord, ErrorCode, FileInfo, Header, Message, MsgType, TrackerInfo,
    HEADER_LEN,
};
use tokio::net::UdpSocket;

use crate::config::{ConfigError, FileIni, PeersIni};
use crate::layout::Layout;
use crate::server::{Responder, ServerStats};

/// The fixed UDP port of tracker discovery.
pub const DISCOVERY_PORT: u16 = 9000;

/// Builds the FILE_INFO the tracker sends: chunks in file order, each chunk's peers in
/// the order of file.ini's `chunks_peers`, names resolved through peers.ini. A name
/// peers.ini does not define is left out (and logged).
pub fn file_info(peers: &PeersIni, file: &FileIni) -> FileInfo {
    let chunks = file
        .chunks
        .iter()
        .zip(&file.chunk_peers)
        .map(|(hash, names)| ChunkRecord {
            hash: *hash,
            peers: names
                .iter()
                .filter_map(|n| {
                    let a = peers.get(n);
                    if a.is_none() {
                        tracing::warn!(
                            "file.ini names peer {n:?}, which peers.ini does not define"
                        );
                    }
                    a
                })
                .collect(),
        })
        .collect();
    FileInfo {
        filename: file.filename.clone(),
        chunks,
    }
}

/// Answers GET_FILE_INFO. The configuration files are read again for every request,
/// so the tracker follows a new `chunks create` without a restart.
pub struct TrackerResponder {
    layout: Layout,
}

impl TrackerResponder {
    pub fn new(layout: Layout) -> TrackerResponder {
        TrackerResponder { layout }
    }

    fn load(&self) -> Result<FileInfo, ConfigError> {
        let peers = PeersIni::load(&self.layout.peers_ini())?;
        let file = FileIni::load(&self.layout.file_ini())?;
        Ok(file_info(&peers, &file))
    }
}

impl Responder for TrackerResponder {
    fn served(&self) -> MsgType {
        MsgType::GetFileInfo
    }

    fn respond(&self, _body: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let encoded = self.load().map_err(|e| e.to_string()).and_then(|fi| {
            Message::FileInfo(fi)
                .encode_into(out)
                .map_err(|e| e.to_string())
        });
        if let Err(e) = encoded {
            // No error code means "no file": INVALID_REQUEST is the closest.
            tracing::error!("cannot answer GET_FILE_INFO: {e}");
            out.clear();
            out.extend_from_slice(&error_message(ErrorCode::InvalidRequest));
        }
    }
}

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

/// The reply to one discovery datagram: TRACKER_INFO for a DISCOVER_TRACKER, an ERROR
/// otherwise (a datagram shorter than a header is INVALID_MESSAGE_FORMAT).
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

/// Answers every datagram on `socket` with one datagram (see [`discovery_reply`]).
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
        if reply[1] == MsgType::Error as u8 {
            tracing::debug!(%from, "invalid discovery datagram");
            stats.count_error_bytes(&reply);
        } else {
            stats.replies_ok.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = socket.send_to(&reply, from).await {
            tracing::debug!(%from, "discovery reply: {e}");
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
