//! Every error of the course crate, typed and documented, one type per family.
//!
//! | type | returned by |
//! |---|---|
//! | [`ConfigError`] | reading `config/peers.ini` and `config/file.ini` |
//! | [`UnsafeName`] | a name that would leave its directory (a peer's, or a file's from FILE_INFO) |
//! | [`SizeError`] | parsing a size such as `512KiB` |
//! | [`ChunkError`] | the chunk tools (create, merge, check) |
//! | [`TorrentError`] | the file id: building, reading and writing `config/file.torrent` |
//! | [`FileInfoError`] | the tracker, building its FILE_INFO |
//! | [`DhtError`] | one DHT announce or lookup (counted, tried again later) |
//! | [`DiscoveryError`] | one of Charlie's peer sources |
//! | [`RequestError`] | one GET_CHUNK of the download engine (counted, never fatal) |
//! | [`DownloadError`] | the download as a whole, with a [`MissingChunk`] per chunk left |
//! | [`UnknownSource`] | a `--discovery` name that is no source |
//! | [`CharlieError`] | a whole run of Charlie |
//! | [`DemoError`] | the demo's set-up |

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::ParseIntError;
use std::path::PathBuf;
use std::time::Duration;

use swarmlab_course_wire::{ChunkHash, DecodeError, EncodeError, ErrorCode, MsgType};

use crate::discovery::StepReport;
use crate::engine::FailureKind;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not INI.
    #[error("{path}: {source}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where and why the INI parser stopped.
        source: ini::ParseError,
    },
    /// A section the file must have is absent.
    #[error("{path}: no section [{section}]")]
    MissingSection {
        /// The file.
        path: PathBuf,
        /// The section's name.
        section: String,
    },
    /// A key the section must have is absent.
    #[error("{path}: no key {key} in [{section}]")]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The section's name.
        section: String,
        /// The key.
        key: String,
    },
    /// `ip_address` is not an IPv4 address.
    #[error("{path}: [{section}] ip_address is not an IPv4 address: {source}")]
    BadAddress {
        /// The file.
        path: PathBuf,
        /// The section's name.
        section: String,
        /// Why it does not parse.
        source: std::net::AddrParseError,
    },
    /// `port_number` is not a port.
    #[error("{path}: [{section}] port_number is not a port: {source}")]
    BadPort {
        /// The file.
        path: PathBuf,
        /// The section's name.
        section: String,
        /// Why it does not parse.
        source: ParseIntError,
    },
    /// `chunks_count` is not a number.
    #[error("{path}: chunks_count is not a number: {source}")]
    BadCount {
        /// The file.
        path: PathBuf,
        /// Why it does not parse.
        source: ParseIntError,
    },
    /// `chunks_count` is more than FILE_INFO's 16-bit count can say.
    #[error("{path}: chunks_count {count} is more than the protocol's 65535")]
    TooManyChunks {
        /// The file.
        path: PathBuf,
        /// The count it announces.
        count: usize,
    },
    /// A chunk's hash is not 40 hex digits.
    #[error("{path}: chunk {index}: {value:?} is not 40 hex digits")]
    BadHash {
        /// The file.
        path: PathBuf,
        /// The chunk's index.
        index: usize,
        /// The text found.
        value: String,
        /// Why it does not decode.
        source: hex::FromHexError,
    },
}

/// A name that would leave its directory.
#[derive(Debug, thiserror::Error)]
#[error("unsafe name {0:?}: a name must be a single path component")]
pub struct UnsafeName(pub String);

/// A size that does not parse (see [`crate::size::parse_size`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SizeError {
    /// No number at the start.
    #[error("{0:?} is not a size")]
    NotANumber(String),
    /// A unit that is none of B, KiB, MiB, GiB, KB, MB, GB (K, M, G).
    #[error("unknown unit {unit:?} in {input:?} (use B, KiB, MiB, GiB, KB, MB, GB)")]
    UnknownUnit {
        /// The unit found.
        unit: String,
        /// The whole text.
        input: String,
    },
    /// More than 2^64 - 1 bytes.
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// Errors of the chunk tools; their `Display` is the course scripts' message where the
/// course defines one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// `files/FILE` does not exist (the course's message).
    #[error("Error: file does not exist ({0})")]
    NoSuchFile(PathBuf),
    /// A chunk size of 0, or more than a CHUNK may carry.
    #[error("chunk size {size} bytes is outside 1 byte ..= {max} bytes (64 MiB, the most a CHUNK carries)")]
    ChunkSize {
        /// The size asked for.
        size: usize,
        /// The largest size allowed.
        max: usize,
    },
    /// The file would need more chunks than FILE_INFO can describe.
    #[error("{0} has more than 65535 chunks, the most FILE_INFO can describe: use larger chunks")]
    TooManyChunks(String),
    /// Some chunks are not in the directory (`merge_chunks.py`'s "Missing chunks").
    #[error("Missing chunks ({missing} of {total})")]
    MissingChunks {
        /// Chunks absent.
        missing: usize,
        /// Chunks of the file.
        total: usize,
    },
    /// config/file.ini cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The file name would leave its directory.
    #[error(transparent)]
    Name(#[from] UnsafeName),
    /// The file's torrent (config/file.torrent) cannot be built or written.
    #[error(transparent)]
    Torrent(#[from] TorrentError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Why a course file's torrent (its file id, `config/file.torrent`) cannot be built,
/// read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TorrentError {
    /// config/file.ini cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Neither config/file.torrent nor config/file.ini exists.
    #[error("no file described: neither config/file.torrent nor {0} exists (run `swarmlab chunks create FILE`)")]
    NoDescription(PathBuf),
    /// file.ini lists no chunk (an empty file has no torrent: BitTorrent clients
    /// refuse a torrent of no bytes).
    #[error("the file has no chunk: an empty file has no torrent")]
    NoChunks,
    /// A chunk of file.ini has no file in any directory under `chunks/`, so its size
    /// is unknown.
    #[error("chunk {index} ({name}) is in no directory under {}: its size cannot be known", dir.display())]
    NoChunkFile {
        /// Its index in file.ini.
        index: usize,
        /// Its file name.
        name: String,
        /// The `chunks/` directory searched.
        dir: PathBuf,
    },
    /// One chunk with two sizes in two directories.
    #[error("chunk {index} is {first_size} bytes in {} but {second_size} bytes in {}", first.display(), second.display())]
    SizeConflict {
        /// Its index in file.ini.
        index: usize,
        /// The first file found.
        first: PathBuf,
        /// Its size.
        first_size: u64,
        /// The other file.
        second: PathBuf,
        /// Its size.
        second_size: u64,
    },
    /// A chunk whose size breaks the rule of pieces: every chunk but the last has the
    /// chunk size (the first chunk's), the last has 1 byte to the chunk size.
    #[error(
        "chunk {index} ({hash}) is {size} bytes, but {}",
        if *last { format!("the last chunk must have 1 to {chunk_size} bytes (the first chunk's size)") }
        else { format!("every chunk but the last must have the first chunk's {chunk_size} bytes") }
    )]
    ChunkSize {
        /// Its index in file.ini.
        index: usize,
        /// Its hash, hex.
        hash: String,
        /// Its size.
        size: u64,
        /// The chunk size (the first chunk's size).
        chunk_size: u64,
        /// It is the last chunk.
        last: bool,
    },
    /// A piece length of 0 or over the 64 MiB a CHUNK carries.
    #[error("piece length {0} is outside 1 byte ..= 64 MiB (the most a CHUNK carries)")]
    PieceLength(u64),
    /// A length over what bencode's integers hold.
    #[error("{0} bytes is too large for a torrent")]
    TooLarge(u64),
    /// file.torrent describes several files; a course file is one.
    #[error("config/file.torrent describes several files; a course file is one")]
    MultiFile,
    /// The file's name would leave its directory.
    #[error(transparent)]
    Name(#[from] UnsafeName),
    /// The torrent is not valid metainfo.
    #[error("invalid torrent: {0}")]
    Metainfo(#[from] swarmlab_bt_wire::MetainfoError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Why one DHT announce or lookup failed (the announcer and the tracker count it
/// and try again later).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DhtError {
    /// The DHT node failed the lookup or has stopped.
    #[error("DHT: {0}")]
    Dht(#[from] swarmlab_dht_driver::DriverError),
}

/// Why the tracker cannot build its FILE_INFO (it answers ERROR INVALID_REQUEST).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileInfoError {
    /// A configuration file cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The description does not fit a FILE_INFO.
    #[error("cannot encode FILE_INFO: {0}")]
    Encode(#[from] EncodeError),
}

/// Why one of Charlie's peer sources found nothing usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A configuration file cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// peers.ini names no tracker.
    #[error("{0} has no [tracker] section")]
    NoTrackerSection(PathBuf),
    /// Connecting to the tracker, or talking to it, failed.
    #[error("tracker {addr}: {source}")]
    TrackerIo {
        /// The tracker's TCP address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The tracker gave no whole reply in time.
    #[error("tracker {addr}: no reply within {wait:?}")]
    TrackerTimeout {
        /// The tracker's TCP address.
        addr: SocketAddr,
        /// The time allowed.
        wait: Duration,
    },
    /// The tracker answered with an ERROR.
    #[error("tracker {addr} answered ERROR {code}")]
    TrackerError {
        /// The tracker's TCP address.
        addr: SocketAddr,
        /// Its code.
        code: ErrorCode,
    },
    /// The tracker's reply is not a message (or announces more than Charlie reads).
    #[error("tracker {addr} sent an invalid reply: {source}")]
    BadReply {
        /// The tracker's TCP address.
        addr: SocketAddr,
        /// Why it is invalid.
        source: DecodeError,
    },
    /// The tracker answered with a message that is neither FILE_INFO nor ERROR.
    #[error("tracker {addr} answered {msg_type:?} to GET_FILE_INFO")]
    UnexpectedReply {
        /// The tracker's TCP address.
        addr: SocketAddr,
        /// The type it sent.
        msg_type: MsgType,
    },
    /// The UDP socket of discovery cannot be set up.
    #[error("discovery socket: {0}")]
    Socket(#[source] io::Error),
    /// DISCOVER_TRACKER could be sent to none of the destinations.
    #[error(
        "could not send DISCOVER_TRACKER to any of {}: {source}",
        joined(dests, ", ", Ipv4Addr::to_string)
    )]
    SendFailed {
        /// The destinations tried.
        dests: Vec<Ipv4Addr>,
        /// The last failure.
        source: io::Error,
    },
    /// No tracker answered the broadcast.
    #[error(
        "no tracker answered on UDP port {port} within {wait:?} (sent to {})",
        joined(dests, ", ", Ipv4Addr::to_string)
    )]
    NoTracker {
        /// The UDP port of discovery.
        port: u16,
        /// How long replies were awaited.
        wait: Duration,
        /// Where DISCOVER_TRACKER went.
        dests: Vec<Ipv4Addr>,
    },
    /// A magnet link that does not parse.
    #[error("magnet link: {0}")]
    Magnet(#[from] swarmlab_bt_wire::MagnetError),
    /// A file id that is not 40 hex digits (or 32 base32 characters).
    #[error("file id: {0}")]
    FileId(#[from] swarmlab_bt_wire::InfoHashParseError),
    /// `config/file.torrent` cannot be used.
    #[error(transparent)]
    Torrent(#[from] TorrentError),
    /// The info dictionary a peer gave (checked against the file id) is no course file.
    #[error("metadata from {peer}: {source}")]
    BadMetadata {
        /// The peer.
        peer: SocketAddr,
        /// Why it is unusable.
        source: TorrentError,
    },
    /// A source that needs the file id, and none is known.
    #[error("{0} needs the file id (--magnet, --file-id or config/file.torrent)")]
    NoFileId(&'static str),
    /// A source that asks known peers, and none is known.
    #[error("no peer known to ask")]
    NoPeers,
    /// No peer asked gave the file's info dictionary.
    #[error("none of {asked} peer(s) gave the info dictionary")]
    NoMetadata {
        /// Peers asked.
        asked: usize,
    },
    /// The DHT node cannot start.
    #[error("DHT node: {0}")]
    Dht(#[source] swarmlab_dht_driver::DriverError),
    /// The DHT node has nobody to bootstrap from.
    #[error("no DHT bootstrap: no --dht-bootstrap, no state file, no peer's DHT port")]
    NoDhtBootstrap,
    /// The DHT node's routing table stayed empty.
    #[error("no DHT node answered within {0:?}")]
    NoDhtNodes(Duration),
    /// Neither the file id nor the description is known: nothing to look up.
    #[error("nothing to look up: neither the file id nor the description is known")]
    NothingToLookUp,
}

/// `items` shown by `show`, separated by `sep`.
fn joined<T>(items: &[T], sep: &str, show: impl Fn(&T) -> String) -> String {
    items.iter().map(show).collect::<Vec<_>>().join(sep)
}

/// Why one GET_CHUNK did not give a verified chunk. The engine counts it against the
/// peer ([`RequestError::kind`]) and leaves the chunk to the others that hold it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The peer answered CHUNK_NOT_FOUND.
    #[error("CHUNK_NOT_FOUND")]
    NotFound,
    /// The content's SHA-1 differs from the hash asked for.
    #[error("the content's SHA-1 differs from the hash asked for")]
    BadDigest,
    /// The TCP connection could not be made in time.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The TCP connection could not be made.
    #[error("cannot connect: {0}")]
    Connect(#[source] io::Error),
    /// Reading or writing the connection failed.
    #[error("connection: {0}")]
    Io(#[source] io::Error),
    /// No whole reply within the request timeout.
    #[error("no whole reply within {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection in the middle of a CHUNK.
    #[error("closed inside a CHUNK")]
    Closed,
    /// The reply's version is not 1.
    #[error("reply of version {0}")]
    Version(u8),
    /// The peer answered an ERROR other than CHUNK_NOT_FOUND.
    #[error("answered ERROR {0}")]
    ErrorReply(ErrorCode),
    /// The CHUNK announces more than the largest chunk: refused before any allocation.
    #[error("CHUNK of {len} bytes, more than the {max} bytes of the largest chunk's message")]
    TooLarge {
        /// Bytes announced by its header.
        len: u64,
        /// The most accepted.
        max: usize,
    },
    /// The CHUNK is shorter than its own prefix.
    #[error("CHUNK of {0} bytes, shorter than its 32-byte prefix")]
    TooShort(u64),
    /// The CHUNK carries another hash than the one asked for.
    #[error("CHUNK for another hash")]
    OtherHash,
    /// The CHUNK's content length disagrees with its msg_length.
    #[error("CHUNK length {len} does not match msg_length {words}")]
    LengthMismatch {
        /// chunk_content_length.
        len: u32,
        /// msg_length.
        words: u32,
    },
    /// A reply that is neither CHUNK nor ERROR.
    #[error("unexpected reply type {msg_type} ({words} words)")]
    Unexpected {
        /// The type byte.
        msg_type: u8,
        /// msg_length.
        words: u32,
    },
    /// The verified chunk could not be written.
    #[error("cannot write the chunk: {0}")]
    Write(#[source] io::Error),
}

impl RequestError {
    /// The kind the report counts this under.
    pub fn kind(&self) -> FailureKind {
        match self {
            RequestError::NotFound => FailureKind::NotFound,
            RequestError::BadDigest => FailureKind::BadDigest,
            RequestError::Timeout(_) => FailureKind::Timeout,
            RequestError::ConnectTimeout(_)
            | RequestError::Connect(_)
            | RequestError::Io(_)
            | RequestError::Closed => FailureKind::Connection,
            RequestError::Write(_) => FailureKind::Write,
            RequestError::Version(_)
            | RequestError::ErrorReply(_)
            | RequestError::TooLarge { .. }
            | RequestError::TooShort(_)
            | RequestError::OtherHash
            | RequestError::LengthMismatch { .. }
            | RequestError::Unexpected { .. } => FailureKind::Protocol,
        }
    }

    /// True when the connection can still carry the next request (the peer answered
    /// a whole, well-formed reply).
    pub fn keeps_connection(&self) -> bool {
        matches!(self, RequestError::NotFound | RequestError::BadDigest)
    }
}

/// A chunk the download could not get, with what each peer did.
#[derive(Debug, Clone)]
pub struct MissingChunk {
    /// The chunk's hash.
    pub hash: ChunkHash,
    /// How many peers were known for it.
    pub holders: usize,
    /// The peers that failed for it, and how, in order.
    pub failures: Vec<(SocketAddr, FailureKind)>,
}

impl fmt::Display for MissingChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hx = hex::encode(self.hash);
        if self.holders == 0 {
            write!(f, "{hx}: no peer known")
        } else if self.failures.is_empty() {
            write!(f, "{hx}: its peers were unreachable")
        } else {
            let tried = joined(&self.failures, ", ", |(p, why)| format!("{p} {why}"));
            write!(f, "{hx}: {tried}")
        }
    }
}

/// A download that could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// Some chunks have no peer left that could give them.
    #[error("{} chunk(s) could not be downloaded: {}", .0.len(), joined(.0, "; ", MissingChunk::to_string))]
    Incomplete(Vec<MissingChunk>),
    /// The chunk directory cannot be used.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// A `--discovery` name that is no source.
#[derive(Debug, thiserror::Error)]
#[error("unknown discovery source {0:?} (sources: config, tracker, broadcast, dht, metadata, pex)")]
pub struct UnknownSource(pub String);

/// Why Charlie failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CharlieError {
    /// A step other than 1, 2, 3 and 4.
    #[error("invalid step number {0} (steps are 1, 2, 3 and 4)")]
    Step(u8),
    /// Step 4 (trackerless) without a file id.
    #[error("trackerless mode needs the file id: --magnet, --file-id or config/file.torrent")]
    NoFileId,
    /// A source of the chain cannot be set up (a torrent file that does not parse…).
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// No source gave the file's description; each source's report says why.
    #[error("discovery found no file description: {}", joined(.0, "; ", |s| format!("{}: {}", s.source, s.detail)))]
    NoManifest(Vec<StepReport>),
    /// The download could not finish; what discovery did, refills included, is kept.
    #[error("{source}")]
    Download {
        /// Why.
        source: DownloadError,
        /// Every run of a source, in phase `start` and in each refill.
        discovery: Vec<StepReport>,
    },
    /// Merging or checking failed, or the file's name is unsafe.
    #[error(transparent)]
    Chunks(#[from] ChunkError),
}

/// Why the demo could not run (a step that fails is reported in its
/// [`crate::demo::DemoStep`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Files, directories or TCP sockets of the demo.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Chunking the demo's file.
    #[error(transparent)]
    Chunks(#[from] ChunkError),
    /// The discovery port is taken without SO_REUSEADDR, or not allowed.
    #[error("cannot bind UDP port {port} for discovery: {source}")]
    Discovery {
        /// The UDP port.
        port: u16,
        /// Why.
        source: io::Error,
    },
    /// A task of the demo panicked or was cancelled.
    #[error("a demo task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The demo's config/file.torrent cannot be read back.
    #[error(transparent)]
    Torrent(#[from] TorrentError),
    /// The demo's file id does not make a magnet or a file reference.
    #[error(transparent)]
    FileRef(#[from] DiscoveryError),
    /// A DHT node of the demo cannot start.
    #[error("DHT: {0}")]
    Dht(#[from] swarmlab_dht_driver::DriverError),
    /// Alice or Bob did not announce the file id into the testnet in time.
    #[error("Alice and Bob did not both announce the file id within {0:?}")]
    NotAnnounced(Duration),
}
