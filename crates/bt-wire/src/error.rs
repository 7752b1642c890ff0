//! Every error of `swarmlab-bt-wire`: one type per format, and the peer session's.
//!
//! | type | from |
//! |---|---|
//! | [`BencodeError`] | [`crate::bencode`] |
//! | [`InfoHashParseError`] | [`crate::InfoHash::parse`] |
//! | [`PercentError`] | [`crate::percent`] |
//! | [`MetainfoError`] | [`crate::metainfo`] |
//! | [`MagnetError`] | [`crate::magnet`] |
//! | [`WireError`] | [`crate::wire`] |
//! | [`ExtError`], [`AssembleError`] | [`crate::ext`] |
//! | [`TrackerError`] | [`crate::tracker`] |
//! | [`SessionError`], [`CommandError`] | [`crate::session`] |
//!
//! Every enum is `#[non_exhaustive]`: new failure modes may be added without a
//! breaking change, so match them with a wildcard arm.

use std::time::Duration;

use crate::InfoHash;

/// Errors from reading bencode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BencodeError {
    /// The input ended inside a value.
    #[error("bencode truncated at byte {0}")]
    Truncated(usize),
    /// A byte that cannot start or continue a value here.
    #[error("invalid bencode at byte {0}")]
    Invalid(usize),
    /// An integer that is malformed or does not fit in 64 bits.
    #[error("invalid bencode integer at byte {0}")]
    BadInteger(usize),
    /// Lists and dictionaries nested deeper than [`crate::bencode::MAX_DEPTH`].
    #[error("bencode nested deeper than {} levels", crate::bencode::MAX_DEPTH)]
    TooDeep,
    /// A dictionary key that is not a byte string.
    #[error("bencode dictionary key at byte {0} is not a string")]
    BadKey(usize),
    /// Bytes left after the single top-level value.
    #[error("{0} trailing bytes after the bencoded value")]
    Trailing(usize),
}

/// Error parsing an info-hash from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InfoHashParseError {
    /// Not 40 hex digits or 32 base32 characters.
    #[error("an info-hash is 40 hex digits or 32 base32 characters, got {0} characters")]
    BadLength(usize),
    /// A character outside the alphabet.
    #[error("invalid character in info-hash")]
    BadChar,
}

/// Error percent-decoding a URL query component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PercentError {
    /// A `%` at this byte offset is not followed by two hex digits.
    #[error("malformed %-escape at byte {0}")]
    BadEscape(usize),
}

/// Errors parsing a metainfo file or an info dictionary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetainfoError {
    /// Not well-formed bencode.
    #[error("not valid bencode: {0}")]
    Bencode(#[from] BencodeError),
    /// The file is not a dictionary or has no `info` dictionary.
    #[error("no info dictionary")]
    NoInfo,
    /// A field has the wrong type (as serde_bencode reports it).
    #[error("invalid metainfo field: {0}")]
    Field(#[from] serde_bencode::Error),
    /// A required field is absent.
    #[error("invalid metainfo field: missing `{0}`")]
    Missing(&'static str),
    /// Both `length` (single file) and `files` (multi-file) are present.
    #[error("inconsistent metainfo: both `length` and `files`")]
    LengthAndFiles,
    /// A `piece length` of 0 or over 1 GiB.
    #[error("inconsistent metainfo: piece length {0}")]
    PieceLength(u64),
    /// `pieces` is not a whole number of 20-byte hashes.
    #[error("inconsistent metainfo: `pieces` is {0} bytes, not a multiple of 20")]
    PiecesNotMultipleOf20(usize),
    /// A multi-file torrent with no files or more than [`crate::metainfo::MAX_FILES`].
    #[error("inconsistent metainfo: {0} files")]
    FileCount(usize),
    /// The file lengths add up to more than 2^64 bytes.
    #[error("inconsistent metainfo: total length overflows")]
    TotalOverflow,
    /// The number of piece hashes does not match the total length.
    #[error(
        "inconsistent metainfo: {total} bytes in pieces of {piece_length} need {expected} hashes, `pieces` has {got}"
    )]
    PieceCount {
        /// Total length of the files.
        total: u64,
        /// Piece length.
        piece_length: u64,
        /// Hashes the length needs.
        expected: u64,
        /// Hashes present.
        got: usize,
    },
    /// A v2-only torrent (no v1 `pieces`).
    #[error("v2-only torrents are not supported (no v1 `pieces`)")]
    V2Only,
    /// Larger than the limits ([`crate::metainfo::MAX_TORRENT_SIZE`],
    /// [`crate::metainfo::MAX_INFO_SIZE`]).
    #[error("metainfo too large: {0} bytes")]
    TooLarge(usize),
}

/// Errors parsing a magnet link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MagnetError {
    /// Does not start with `magnet:?`.
    #[error("not a magnet link (expected `magnet:?...`)")]
    NotMagnet,
    /// No `xt=urn:btih:` parameter.
    #[error("magnet link has no `xt=urn:btih:` info-hash")]
    NoInfoHash,
    /// The btih value is malformed.
    #[error("magnet link info-hash: {0}")]
    BadInfoHash(#[from] InfoHashParseError),
    /// A `%` escape that is not followed by two hex digits.
    #[error("magnet link has a {0}")]
    BadEscape(#[from] PercentError),
    /// Longer than [`crate::magnet::MAX_MAGNET_LEN`] bytes.
    #[error("magnet link too long: {0} bytes")]
    TooLong(usize),
}

/// Errors from the peer-wire codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The handshake does not start with `\x13BitTorrent protocol`.
    #[error("bad handshake: not the BitTorrent protocol")]
    BadHandshake,
    /// A length prefix over the decoder's cap.
    #[error("message length {len} exceeds the limit of {max} bytes")]
    TooLong {
        /// The announced length.
        len: u32,
        /// The cap.
        max: u32,
    },
    /// A message whose length does not fit its id.
    #[error("message id {id} with wrong length {len}")]
    BadLength {
        /// Message id.
        id: u8,
        /// Payload length including the id byte.
        len: u32,
    },
}

/// Errors decoding extension messages (BEP 10, 9, 11).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtError {
    /// Not bencode.
    #[error("extension message is not valid bencode: {0}")]
    Bencode(#[from] BencodeError),
    /// Not a dictionary.
    #[error("extension message is not a dictionary")]
    NotDict,
    /// A required field is missing or has the wrong type.
    #[error("extension message field `{0}` missing or invalid")]
    Field(&'static str),
    /// A value outside its allowed range.
    #[error("extension message field `{0}` out of range")]
    Range(&'static str),
}

/// Errors assembling metadata (BEP 9).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// A piece index beyond the metadata's size.
    #[error("metadata piece {0} out of range")]
    PieceOutOfRange(u32),
    /// A piece with the wrong number of bytes.
    #[error("metadata piece {piece} has {got} bytes, expected {want}")]
    BadPieceLength {
        /// Piece index.
        piece: u32,
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// `total_size` differs from the size announced in the handshake.
    #[error("metadata total_size {got} differs from announced {want}")]
    SizeMismatch {
        /// Received.
        got: u64,
        /// Announced.
        want: u64,
    },
    /// The assembled dictionary does not hash to the info-hash.
    #[error("metadata does not hash to the info-hash")]
    HashMismatch,
}

/// Errors from tracker codecs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// The tracker answered with `failure reason` (HTTP) or an error action (UDP); the
    /// text is the tracker's, cut to 512 characters.
    #[error("tracker failure: {0}")]
    Failure(String),
    /// The response is not valid bencode.
    #[error("malformed tracker response: {0}")]
    Bencode(#[from] BencodeError),
    /// The response is bencode but not a dictionary.
    #[error("malformed tracker response: not a dictionary")]
    NotDict,
    /// `peers` is neither a compact string nor a list.
    #[error("malformed tracker response: `peers` has the wrong type")]
    PeersType,
    /// A UDP packet too short or with an unexpected action / transaction id.
    #[error("bad UDP tracker packet: {0}")]
    BadPacket(&'static str),
}

/// Why a peer session ended. Once a session has returned one, it is closed: it
/// accepts no more input and its commands fail with [`CommandError::Closed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The peer's first bytes are not a BitTorrent handshake.
    #[error("bad handshake: not the BitTorrent protocol")]
    BadHandshake,
    /// An outgoing session's peer answered for another torrent.
    #[error("peer answered for {got}")]
    WrongInfoHash {
        /// The torrent we asked for.
        expected: InfoHash,
        /// The one it named.
        got: InfoHash,
    },
    /// The driver refused an incoming handshake ([`crate::session::Session::refuse`]).
    #[error("handshake for {0} refused")]
    Refused(InfoHash),
    /// An incoming peer sent more than a handshake and one message before the
    /// driver accepted it.
    #[error("{0} bytes received before the handshake was accepted")]
    InputBeforeAccept(usize),
    /// No complete handshake within the configured time.
    #[error("no handshake within {:.1} s", .0.as_secs_f64())]
    HandshakeTimeout(Duration),
    /// Nothing received for the configured idle time.
    #[error("nothing received for {:.1} s", .0.as_secs_f64())]
    IdleTimeout(Duration),
    /// A message the codec refuses (oversized length prefix, wrong length for its id).
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A bitfield whose length or spare bits do not fit the torrent's piece count.
    #[error("bitfield of wrong length: {got} bytes for {pieces} pieces (want {})", pieces.div_ceil(8))]
    BitfieldLength {
        /// Bytes received.
        got: usize,
        /// Pieces in the torrent.
        pieces: usize,
    },
    /// A BEP 6 message (`have_all`, `have_none`, `reject`, `allowed_fast`, `suggest`)
    /// from a peer that did not negotiate the fast extension.
    #[error("fast-extension message id {0} without the fast extension")]
    FastNotNegotiated(u8),
    /// The metadata we asked for (BEP 9) is inconsistent or does not hash to the
    /// info-hash.
    #[error("ut_metadata: {0}")]
    Metadata(#[from] AssembleError),
    /// More invalid requests (out of range, oversized) than the configured limit.
    #[error("{0} invalid requests")]
    InvalidRequests(u32),
    /// The driver closed the session ([`crate::session::Session::close`]).
    #[error("closed by us")]
    Closed,
}

/// Why a command on a session was refused. The session stays usable: nothing was
/// sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The session has ended (see [`SessionError`]).
    #[error("the session is closed")]
    Closed,
    /// The handshakes are not complete yet.
    #[error("the handshakes are not complete")]
    NotEstablished,
    /// The command is for an incoming session waiting for `accept` or `refuse`, or
    /// `accept`/`refuse` was called on a session that is not waiting.
    #[error("wrong phase for this command")]
    WrongPhase,
    /// `accept` or `set_torrent` with a torrent of another info-hash.
    #[error("the torrent's info-hash is not the session's")]
    WrongTorrent,
    /// The command needs the torrent's piece layout, which is unknown.
    #[error("the torrent's piece layout is unknown")]
    NoLayout,
    /// The peer or we lack the feature the command needs.
    #[error("the peer does not support {0}")]
    Unsupported(&'static str),
    /// The output buffer is over its limit: let the driver write first.
    #[error("output buffer full ({0} bytes): write what poll_transmit gives first")]
    OutputFull(usize),
    /// A bitfield (or `have_all`/`have_none`) after pieces were already announced.
    #[error("pieces already announced: a bitfield is only the first message")]
    AlreadyAnnounced,
    /// A bitfield of the wrong length for the torrent.
    #[error("bitfield for {got} pieces, the torrent has {want}")]
    BitfieldLength {
        /// Pieces in the bitfield.
        got: usize,
        /// Pieces in the torrent.
        want: usize,
    },
    /// A block outside the torrent, of length 0, or over the block limit.
    #[error("block {index}:{begin}+{length} is out of range")]
    OutOfRange {
        /// Piece index.
        index: u32,
        /// Offset.
        begin: u32,
        /// Length.
        length: u32,
    },
    /// The peer chokes us and the piece is not allowed-fast.
    #[error("the peer chokes us")]
    Choked,
    /// As many of our requests in flight as the limits allow.
    #[error("{0} requests already in flight")]
    TooManyRequests(usize),
    /// `send_piece`, `reject` or `cancel` for a block that is not pending.
    #[error("block {index}:{begin}+{length} was not requested")]
    NotRequested {
        /// Piece index.
        index: u32,
        /// Offset.
        begin: u32,
        /// Length.
        length: u32,
    },
    /// `send_pex` sooner than the PEX interval allows.
    #[error("PEX sent less than a minute ago: wait {:.1} s", .0.as_secs_f64())]
    PexTooSoon(Duration),
    /// The peer's `metadata_size` is unknown, or a fetch is already running.
    #[error("no metadata to fetch from this peer")]
    NoMetadata,
    /// [`crate::session::Session::send_extension`] for a name that is not in our
    /// [`crate::session::ExtConfig::extra`].
    #[error("extension {0:?} is not one of ours")]
    ExtensionNotOurs(String),
    /// [`crate::session::Session::send_extension`] for a name the peer's extension
    /// handshake did not offer (or has not arrived yet).
    #[error("the peer did not offer extension {0:?}")]
    ExtensionNotOffered(String),
    /// A message longer than the session's `max_message` limit.
    #[error("message of {0} bytes is over the message size limit")]
    MessageTooLarge(usize),
}
