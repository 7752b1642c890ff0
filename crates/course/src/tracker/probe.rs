//! What the tracker asks a peer the DHT named before listing it in FILE_INFO: does it
//! speak the course protocol, and which chunks does it hold.
//!
//! - [`speaks_course`]: one GET_FILE_INFO (8 bytes); a course peer answers it with an
//!   ERROR (it serves only GET_CHUNK), anything else (a BitTorrent client closes or
//!   waits for a handshake) is not a course peer. Deployed Charlies would fail on a
//!   peer that does not speak the course protocol, so only those that answer are
//!   listed.
//! - [`bitfield`]: a BitTorrent handshake for the file id; the pieces the peer
//!   announces (bitfield, have_all/have_none, and the `have`s that follow within a
//!   moment) are its chunks.
//!
//! Both are bounded by a timeout and read a few bytes at most (a bitfield of 65,535
//! chunks is 8 KiB).

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_bt::server::random_peer_id;
use swarmlab_bt::Connection;
use swarmlab_bt_wire::session::{Event, PieceLayout, SessionConfig, Torrent};
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_bt_wire::InfoHash;
use swarmlab_course_wire::{ErrorCode, Header, Message, MsgType, HEADER_LEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

/// How long `have`s are collected after the first announcement of pieces.
const HAVE_GRACE: Duration = Duration::from_millis(200);

/// True when `addr` answers a GET_FILE_INFO with a course ERROR within `wait`.
pub async fn speaks_course(addr: SocketAddr, wait: Duration) -> bool {
    let probe = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        let request = Message::GetFileInfo.encode().ok()?;
        s.write_all(&request).await.ok()?;
        let mut reply = [0u8; HEADER_LEN + 4];
        s.read_exact(&mut reply).await.ok()?;
        let head = Header::parse(reply[..HEADER_LEN].try_into().ok()?);
        let code = u16::from_be_bytes([reply[8], reply[9]]);
        Some(
            head.version == 1
                && head.msg_type == MsgType::Error as u8
                && ErrorCode::from_u16(code) == ErrorCode::InvalidRequest,
        )
    };
    matches!(timeout(wait, probe).await, Ok(Some(true)))
}

/// The chunks `addr` holds of the torrent `file_id` (of `layout`), as it announces
/// them over BitTorrent within `wait`; `None` when it does not complete a handshake.
pub async fn bitfield(
    addr: SocketAddr,
    file_id: InfoHash,
    layout: PieceLayout,
    wait: Duration,
) -> Option<Bitfield> {
    let deadline = Instant::now() + wait;
    let torrent = Torrent {
        info_hash: file_id,
        layout: Some(layout),
        metadata: None,
    };
    let mut cfg = SessionConfig::new(random_peer_id());
    cfg.extensions.ut_pex = false;
    cfg.extensions.ut_metadata = false;
    let mut c = Connection::connect(addr, wait, cfg, torrent).await.ok()?;
    let n = layout.num_pieces();
    let mut bits: Option<Bitfield> = None;
    let mut until = deadline;
    loop {
        let ev = match c.next_event_until(Some(until)).await {
            Ok(Some(ev)) => ev,
            // The deadline, or the connection ended: what was announced so far.
            Ok(None) | Err(_) => break,
        };
        let first = bits.is_none();
        match ev {
            Event::Bitfield(b) => bits = Bitfield::from_bytes(&b, n),
            Event::HaveAll => bits = Some(Bitfield::full(n)),
            Event::HaveNone => bits = Some(Bitfield::new(n)),
            Event::Have(i) => {
                bits.get_or_insert_with(|| Bitfield::new(n)).set(i as usize);
            }
            _ => continue,
        }
        if first {
            until = (Instant::now() + HAVE_GRACE).min(deadline);
        }
    }
    // Established but nothing announced: BEP 3 lets a peer with no piece say nothing.
    bits.or_else(|| c.session().is_established().then(|| Bitfield::new(n)))
}
