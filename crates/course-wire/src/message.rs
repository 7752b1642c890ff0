//! Whole messages and their encoding.

use std::net::SocketAddrV4;

use crate::{
    padded, padding, ChunkHash, EncodeError, ErrorCode, Header, MsgType, CHUNK_PREFIX_LEN,
    HASH_LEN, HEADER_LEN, VERSION,
};

/// TRACKER_INFO: the tracker's TCP address and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerInfo {
    /// Where the tracker answers GET_FILE_INFO (peers.ini's `[tracker]`); connect
    /// here, not to the datagram's source (rule 4.7).
    pub addr: SocketAddrV4,
    /// The tracker's name (deployed trackers say `tracker`).
    pub name: String,
}

/// One chunk of a FILE_INFO: its hash and the peers that hold it, in file.ini order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    /// The SHA-1 of the chunk's content.
    pub hash: ChunkHash,
    /// The peers that hold it, the first preferred.
    pub peers: Vec<SocketAddrV4>,
}

/// FILE_INFO: the file name and its chunks in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file's name as the tracker gives it (check it before building a path).
    pub filename: String,
    /// Every chunk, in file order.
    pub chunks: Vec<ChunkRecord>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// DISCOVER_TRACKER (type 0).
    DiscoverTracker,
    /// TRACKER_INFO (type 1).
    TrackerInfo(TrackerInfo),
    /// GET_FILE_INFO (type 2).
    GetFileInfo,
    /// FILE_INFO (type 3).
    FileInfo(FileInfo),
    /// GET_CHUNK (type 4) for the chunk of this hash.
    GetChunk(ChunkHash),
    /// CHUNK (type 5).
    Chunk {
        /// The hash asked for.
        hash: ChunkHash,
        /// The chunk's content.
        content: Vec<u8>,
    },
    /// ERROR (type 6).
    Error(ErrorCode),
}

fn put_addr(out: &mut Vec<u8>, a: &SocketAddrV4) {
    out.extend_from_slice(&a.ip().octets());
    out.extend_from_slice(&a.port().to_be_bytes());
}

fn len16(n: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(n).map_err(|_| EncodeError::TooLong(what))
}

/// The first 32 bytes of a CHUNK message carrying `content_len` bytes: header, hash
/// and length. A server writes this, the content, then [`padding`]`(content_len)`
/// zeros, so a chunk is never copied into a message buffer twice.
pub fn chunk_prefix(hash: &ChunkHash, content_len: u32) -> [u8; CHUNK_PREFIX_LEN] {
    let total =
        CHUNK_PREFIX_LEN as u64 + u64::from(content_len) + padding(content_len as usize) as u64;
    let header = Header {
        version: VERSION,
        msg_type: MsgType::Chunk as u8,
        reserved: 0,
        words: (total / 4) as u32,
    };
    let mut out = [0u8; CHUNK_PREFIX_LEN];
    out[..HEADER_LEN].copy_from_slice(&header.encode());
    out[HEADER_LEN..HEADER_LEN + HASH_LEN].copy_from_slice(hash);
    out[HEADER_LEN + HASH_LEN..].copy_from_slice(&content_len.to_be_bytes());
    out
}

/// Encodes an ERROR message (12 bytes).
pub fn error_message(code: ErrorCode) -> [u8; 12] {
    let c = code.to_u16().to_be_bytes();
    [1, MsgType::Error as u8, 0, 0, 0, 0, 0, 3, c[0], c[1], 0, 0]
}

impl Message {
    /// The message's type.
    pub fn msg_type(&self) -> MsgType {
        match self {
            Message::DiscoverTracker => MsgType::DiscoverTracker,
            Message::TrackerInfo(_) => MsgType::TrackerInfo,
            Message::GetFileInfo => MsgType::GetFileInfo,
            Message::FileInfo(_) => MsgType::FileInfo,
            Message::GetChunk(_) => MsgType::GetChunk,
            Message::Chunk { .. } => MsgType::Chunk,
            Message::Error(_) => MsgType::Error,
        }
    }

    /// The encoded length in bytes (a multiple of 4).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Message::DiscoverTracker | Message::GetFileInfo => 0,
                Message::TrackerInfo(t) => 8 + padded(t.name.len()),
                Message::FileInfo(f) => {
                    4 + padded(f.filename.len())
                        + f.chunks
                            .iter()
                            .map(|c| 24 + 8 * c.peers.len())
                            .sum::<usize>()
                }
                Message::GetChunk(_) => HASH_LEN,
                Message::Chunk { content, .. } => HASH_LEN + 4 + padded(content.len()),
                Message::Error(_) => 4,
            }
    }

    /// Encodes the message.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Appends the encoded message to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let total = self.encoded_len();
        let start = out.len();
        if let Message::Chunk { hash, content } = self {
            let n = u32::try_from(content.len())
                .map_err(|_| EncodeError::MessageTooLarge(total as u64))?;
            if total / 4 > u32::MAX as usize {
                return Err(EncodeError::MessageTooLarge(total as u64));
            }
            out.extend_from_slice(&chunk_prefix(hash, n));
            out.extend_from_slice(content);
            out.resize(start + total, 0);
            return Ok(());
        }
        out.extend_from_slice(&Header::new(self.msg_type(), total)?.encode());
        match self {
            Message::DiscoverTracker | Message::GetFileInfo | Message::Chunk { .. } => {}
            Message::TrackerInfo(t) => {
                put_addr(out, &t.addr);
                out.extend_from_slice(&len16(t.name.len(), "tracker_name")?.to_be_bytes());
                out.extend_from_slice(t.name.as_bytes());
            }
            Message::FileInfo(f) => {
                out.extend_from_slice(&len16(f.chunks.len(), "chunks_count")?.to_be_bytes());
                out.extend_from_slice(&len16(f.filename.len(), "filename")?.to_be_bytes());
                out.extend_from_slice(f.filename.as_bytes());
                out.resize(out.len() + padding(f.filename.len()), 0);
                for c in &f.chunks {
                    out.extend_from_slice(&c.hash);
                    out.extend_from_slice(&len16(c.peers.len(), "peers_count")?.to_be_bytes());
                    out.extend_from_slice(&[0, 0]);
                    for p in &c.peers {
                        put_addr(out, p);
                        out.extend_from_slice(&[0, 0]);
                    }
                }
            }
            Message::GetChunk(h) => out.extend_from_slice(h),
            Message::Error(code) => {
                out.extend_from_slice(&code.to_u16().to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
        }
        out.resize(start + total, 0);
        Ok(())
    }
}
