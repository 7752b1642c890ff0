//! What comes out of a session: [`Event`]s for the driver, and the
//! [`Misbehaviour`]s it counted and ignored.

use std::fmt;

use crate::error::ExtError;
use crate::ext::{ExtHandshake, PexMessage};
use crate::wire::reserved;
use crate::{InfoHash, PeerId};

/// The peer's BEP 3 handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHandshake {
    /// The torrent it names.
    pub info_hash: InfoHash,
    /// Its peer id.
    pub peer_id: PeerId,
    /// Its reserved bits.
    pub reserved: [u8; 8],
}

impl PeerHandshake {
    /// It set the BEP 10 extension-protocol bit.
    pub fn supports_extensions(&self) -> bool {
        reserved::has(&self.reserved, reserved::EXTENSION)
    }
    /// It set the BEP 5 DHT bit.
    pub fn supports_dht(&self) -> bool {
        reserved::has(&self.reserved, reserved::DHT)
    }
    /// It set the BEP 6 fast-extension bit.
    pub fn supports_fast(&self) -> bool {
        reserved::has(&self.reserved, reserved::FAST)
    }
}

/// One block of a piece: `length` bytes at offset `begin` of piece `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRef {
    /// Piece index.
    pub index: u32,
    /// Offset in the piece.
    pub begin: u32,
    /// Length in bytes.
    pub length: u32,
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "piece {} offset {} length {}",
            self.index, self.begin, self.length
        )
    }
}

/// What a session reports, in the order the peer's bytes said it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Incoming session: the peer's handshake arrived. Call
    /// [`super::Session::accept`] with the torrent it names, or
    /// [`super::Session::refuse`].
    HandshakeReceived(PeerHandshake),
    /// Both handshakes are done; commands may be used from now on.
    Established(PeerHandshake),
    /// The peer's extension handshake (BEP 10); a later one updates the first.
    ExtHandshake(Box<ExtHandshake>),
    /// The peer chokes us. Without the fast extension our requests in flight are
    /// discarded (BEP 3): `dropped` of them; with it they stay until answered or
    /// rejected (BEP 6).
    Choke {
        /// Our requests discarded by the choke.
        dropped: usize,
    },
    /// The peer unchokes us.
    Unchoke,
    /// The peer is interested in our pieces.
    Interested,
    /// The peer is no longer interested.
    NotInterested,
    /// The peer has this piece (in range when the layout is known).
    Have(u32),
    /// The peer's bitfield (checked against the layout when it is known).
    Bitfield(Vec<u8>),
    /// BEP 6: the peer has every piece.
    HaveAll,
    /// BEP 6: the peer has no piece.
    HaveNone,
    /// The peer asks for a block: answer with [`super::Session::send_piece`] or
    /// [`super::Session::reject`]. It passed every check (range, size, not choked,
    /// a piece we have, room in the queue).
    Request(BlockRef),
    /// The peer cancelled one of its pending requests.
    Cancel(BlockRef),
    /// A block we requested.
    Block {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// The data.
        data: Vec<u8>,
    },
    /// BEP 6: the peer rejected one of our requests.
    Rejected(BlockRef),
    /// BEP 6: the peer suggests this piece.
    Suggest(u32),
    /// BEP 6: we may request this piece even while choked.
    AllowedFast(u32),
    /// BEP 5: the port of the peer's DHT node.
    DhtPort(u16),
    /// BEP 11: peers the peer knows (entries over the cap counted in `truncated`).
    Pex(PexMessage),
    /// BEP 9: the info dictionary we asked for, complete and hashing to the info-hash.
    Metadata(Vec<u8>),
    /// BEP 9: the peer refused a metadata piece; the fetch is abandoned.
    MetadataRejected(u32),
    /// BEP 10: a message under one of our [`super::ExtConfig::extra`] extensions.
    /// Its size is bounded by [`super::Limits::max_message`].
    Extension {
        /// The extension's name, as in `extra`.
        name: String,
        /// The message after the extended id.
        payload: Vec<u8>,
    },
    /// Something the peer should not have done, counted and ignored.
    Misbehaviour(Misbehaviour),
}

/// A protocol violation the session ignored (fatal ones end the session with a
/// [`crate::SessionError`] instead). Each is also counted in
/// [`super::Stats::misbehaviours`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// A block we did not request (or no longer wait for): dropped.
    UnrequestedBlock(BlockRef),
    /// A reject for a request we did not send.
    UnexpectedReject(BlockRef),
    /// A request out of the torrent, of length 0 or over the block limit: rejected.
    InvalidRequest(BlockRef),
    /// A request while we choke the peer (and not allowed-fast): rejected.
    RequestWhileChoked(BlockRef),
    /// A request for a piece we do not have: rejected.
    RequestForMissingPiece(BlockRef),
    /// A request over the pending-request limit: rejected.
    RequestQueueFull(BlockRef),
    /// The same request twice: the second ignored.
    DuplicateRequest(BlockRef),
    /// A bitfield, `have_all` or `have_none` after pieces were already announced.
    LateBitfield,
    /// A `have` for a piece beyond the torrent's last.
    HaveOutOfRange(u32),
    /// More PEX messages than BEP 11 allows in a minute: ignored.
    PexTooOften,
    /// An extension handshake that does not decode.
    BadExtHandshake(ExtError),
    /// A ut_pex or ut_metadata message that does not decode.
    BadExtensionMessage {
        /// `"ut_pex"` or `"ut_metadata"`.
        extension: &'static str,
        /// Why.
        error: ExtError,
    },
    /// An extended message with an id we did not announce.
    UnknownExtension(u8),
    /// An extended message although the extension protocol was not negotiated.
    ExtensionNotNegotiated,
    /// A message id we do not know.
    UnknownMessage(u8),
    /// A ut_metadata request for a piece beyond the info dictionary: rejected.
    MetadataOutOfRange(u32),
    /// More ut_metadata requests than a peer needs: rejected.
    MetadataServeLimit(u32),
    /// Metadata data we did not ask for: dropped.
    UnrequestedMetadata(u32),
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Misbehaviour as M;
        match self {
            M::UnrequestedBlock(b) => write!(f, "unexpected block: {b}"),
            M::UnexpectedReject(b) => write!(f, "reject of a request we did not send: {b}"),
            M::InvalidRequest(b) => write!(f, "invalid request: {b}"),
            M::RequestWhileChoked(b) => write!(f, "request while choked: {b}"),
            M::RequestForMissingPiece(b) => write!(f, "request for a piece we lack: {b}"),
            M::RequestQueueFull(b) => write!(f, "request over the queue limit: {b}"),
            M::DuplicateRequest(b) => write!(f, "duplicate request: {b}"),
            M::LateBitfield => f.write_str("second piece announcement ignored"),
            M::HaveOutOfRange(i) => write!(f, "have for piece {i} beyond the torrent"),
            M::PexTooOften => f.write_str("ut_pex message sooner than BEP 11 allows, ignored"),
            M::BadExtHandshake(e) => write!(f, "bad extension handshake: {e}"),
            M::BadExtensionMessage { extension, error } => {
                write!(f, "bad {extension} message: {error}")
            }
            M::UnknownExtension(id) => write!(f, "extended message with unknown id {id}"),
            M::ExtensionNotNegotiated => {
                f.write_str("extended message without the extension protocol")
            }
            M::UnknownMessage(id) => write!(f, "unknown message id {id}"),
            M::MetadataOutOfRange(p) => write!(f, "ut_metadata request for piece {p} out of range"),
            M::MetadataServeLimit(p) => {
                write!(f, "ut_metadata request for piece {p} over the limit")
            }
            M::UnrequestedMetadata(p) => write!(f, "ut_metadata piece {p} we did not request"),
        }
    }
}
