//! What a session is told before it starts: who we are ([`SessionConfig`]), which
//! extensions we speak ([`ExtConfig`]), the limits it enforces ([`Limits`],
//! [`Timeouts`]), and what it knows of the torrent ([`Torrent`], [`PieceLayout`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::metainfo::Info;
use crate::wire::{self, reserved, BLOCK_SIZE};
use crate::{InfoHash, PeerId};

/// Who we are and how the session behaves. [`SessionConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our peer id in the handshake.
    pub peer_id: PeerId,
    /// Our reserved bits (default: BEP 10 extensions, BEP 5 DHT, BEP 6 fast). A
    /// feature is used only when both handshakes set its bit.
    pub reserved: [u8; 8],
    /// Our BEP 10 extension handshake.
    pub extensions: ExtConfig,
    /// Sizes and counts the session enforces on the peer and on us.
    pub limits: Limits,
    /// Handshake, idle and keep-alive times.
    pub timeouts: Timeouts,
}

impl SessionConfig {
    /// The defaults for `peer_id`.
    pub fn new(peer_id: PeerId) -> SessionConfig {
        SessionConfig {
            peer_id,
            reserved: reserved::ours(),
            extensions: ExtConfig::default(),
            limits: Limits::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// What our extension handshake (BEP 10) says. `metadata_size` is not here: the
/// session sends the size of the info dictionary it was given ([`Torrent::metadata`]).
#[derive(Debug, Clone)]
pub struct ExtConfig {
    /// `v`: client name and version.
    pub client: Option<String>,
    /// `p`: our TCP listen port, if we listen.
    pub listen_port: Option<u16>,
    /// `yourip`: the peer's address as we see it.
    pub yourip: Option<IpAddr>,
    /// `upload_only` (BEP 21): we only seed.
    pub upload_only: Option<bool>,
    /// Offer and accept ut_metadata (BEP 9).
    pub ut_metadata: bool,
    /// Offer and accept ut_pex (BEP 11).
    pub ut_pex: bool,
    /// Further BEP 10 extensions the driver speaks, by name (e.g. `sl_stream`): we
    /// announce them with local ids from [`crate::ext::LOCAL_EXTRA_FIRST`] on, in
    /// this order; the peer's messages under them come out as
    /// [`super::Event::Extension`] and [`super::Session::send_extension`] sends
    /// them. At most [`crate::ext::MAX_EXTRA_EXTENSIONS`] are announced; the
    /// names `ut_pex` and `ut_metadata` are skipped (those are the session's own).
    pub extra: Vec<String>,
}

impl Default for ExtConfig {
    fn default() -> Self {
        ExtConfig {
            client: Some(concat!("swarmlab/", env!("CARGO_PKG_VERSION")).to_string()),
            listen_port: None,
            yourip: None,
            upload_only: None,
            ut_metadata: true,
            ut_pex: true,
            extra: Vec::new(),
        }
    }
}

/// Everything the session bounds. The defaults follow the BEPs and libtorrent.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest message accepted (the decoder refuses a longer length prefix before
    /// buffering any of it). Default [`wire::DEFAULT_MAX_MESSAGE`], 1 MiB + 16 KiB.
    pub max_message: u32,
    /// Largest block the peer may request and we may request (default 16 KiB).
    pub max_block: u32,
    /// The peer's requests waiting for [`super::Session::send_piece`]; also the
    /// `reqq` we announce (default 250).
    pub max_pending_requests: usize,
    /// Our own requests in flight (further ones are refused; the peer's `reqq`
    /// lowers it). Default 500.
    pub max_outstanding_requests: usize,
    /// Invalid requests (out of range, length 0 or over `max_block`) tolerated
    /// before the session ends (default 64). Each one is also rejected (BEP 6).
    pub max_invalid_requests: u32,
    /// Bytes the output buffer holds before commands return
    /// [`crate::CommandError::OutputFull`]; over half of it the session stops asking
    /// for input (default 1 MiB + 16 KiB).
    pub max_output: usize,
    /// Events queued before the session stops asking for input (default 4,096).
    pub max_events: usize,
    /// BEP 11: the shortest time between two PEX messages we send (default 60 s),
    /// and the window in which at most `pex_burst` received ones are accepted.
    pub pex_interval: Duration,
    /// Received PEX messages accepted within one `pex_interval` (default 2: one a
    /// minute, plus one that arrives early after a delayed predecessor); more are
    /// counted and ignored.
    pub pex_burst: usize,
    /// Most peers in the `added` (and `dropped`) list of one PEX message we send
    /// (BEP 11: 50).
    pub pex_max_peers: usize,
    /// Pieces allowed-fast (BEP 6) remembered per direction (default 64).
    pub max_allowed_fast: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: wire::DEFAULT_MAX_MESSAGE,
            max_block: BLOCK_SIZE,
            max_pending_requests: 250,
            max_outstanding_requests: 500,
            max_invalid_requests: 64,
            max_output: (1 << 20) + BLOCK_SIZE as usize,
            max_events: 4096,
            pex_interval: Duration::from_secs(60),
            pex_burst: 2,
            pex_max_peers: 50,
            max_allowed_fast: 64,
        }
    }
}

/// The session's clocks.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// From the session's start to the peer's complete handshake (and, for an
    /// incoming session, the driver's `accept`). Default 10 s.
    pub handshake: Duration,
    /// Nothing received for this long ends the session (default 120 s, libtorrent's
    /// peer timeout).
    pub idle: Duration,
    /// Nothing sent for this long sends a keep-alive (default 60 s).
    pub keepalive: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(10),
            idle: Duration::from_secs(120),
            keepalive: Duration::from_secs(60),
        }
    }
}

/// The torrent's pieces: their count and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceLayout {
    total_length: u64,
    piece_length: u64,
}

impl PieceLayout {
    /// `total_length` bytes in pieces of `piece_length`; `None` when `piece_length`
    /// is 0 or the piece count does not fit in a `u32`.
    pub fn new(total_length: u64, piece_length: u64) -> Option<PieceLayout> {
        if piece_length == 0 || total_length.div_ceil(piece_length) > u64::from(u32::MAX) {
            return None;
        }
        Some(PieceLayout {
            total_length,
            piece_length,
        })
    }
    /// The layout of a parsed info dictionary.
    pub fn of(info: &Info) -> Option<PieceLayout> {
        PieceLayout::new(info.total_length(), info.piece_length)
    }
    /// Number of pieces.
    pub fn num_pieces(&self) -> usize {
        self.total_length.div_ceil(self.piece_length) as usize
    }
    /// Bytes per piece (the last piece may be shorter).
    pub fn piece_length(&self) -> u64 {
        self.piece_length
    }
    /// Size of piece `index`: 0 beyond the last piece.
    pub fn piece_size(&self, index: u32) -> u64 {
        let start = u64::from(index) * self.piece_length;
        self.total_length
            .saturating_sub(start)
            .min(self.piece_length)
    }
    /// Whether `begin..begin + length` lies inside piece `index`.
    pub fn contains(&self, index: u32, begin: u32, length: u32) -> bool {
        (index as usize) < self.num_pieces()
            && u64::from(begin) + u64::from(length) <= self.piece_size(index)
    }
}

/// What the driver knows of the torrent a session is for.
#[derive(Debug, Clone)]
pub struct Torrent {
    /// The info-hash (the handshake's).
    pub info_hash: InfoHash,
    /// Piece count and sizes, when the info dictionary is known: bitfields,
    /// haves and requests are then checked against it.
    pub layout: Option<PieceLayout>,
    /// The info dictionary's bytes, when we have them: announced as
    /// `metadata_size` and served with ut_metadata.
    pub metadata: Option<Arc<[u8]>>,
}

impl Torrent {
    /// A torrent known only by its info-hash.
    pub fn new(info_hash: InfoHash) -> Torrent {
        Torrent {
            info_hash,
            layout: None,
            metadata: None,
        }
    }
    /// A torrent whose info dictionary is known: its layout and its bytes.
    pub fn from_info(info: &Info) -> Torrent {
        Torrent {
            info_hash: info.info_hash,
            layout: PieceLayout::of(info),
            metadata: Some(Arc::from(info.raw.as_slice())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_sizes_and_ranges() {
        let l = PieceLayout::new(40_000, 16_384).unwrap();
        assert_eq!(l.num_pieces(), 3);
        assert_eq!(l.piece_size(2), 40_000 - 2 * 16_384);
        assert_eq!(l.piece_size(3), 0);
        assert!(l.contains(0, 0, 16_384));
        assert!(l.contains(2, 0, 7_232));
        assert!(!l.contains(2, 0, 7_233));
        assert!(!l.contains(3, 0, 1));
        assert!(!l.contains(0, u32::MAX, 2), "no overflow");
        assert!(PieceLayout::new(1, 0).is_none());
        assert!(PieceLayout::new(u64::MAX, 1).is_none());
        assert_eq!(PieceLayout::new(0, 16).unwrap().num_pieces(), 0);
    }
}
