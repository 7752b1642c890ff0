//! The course protocol side of a peer: `chunks/<name>/<sha1-hex>.bin` served with
//! GET_CHUNK/CHUNK.
//!
//! The directory is the truth: every request opens the file anew, so a chunk deleted
//! while the peer runs is CHUNK_NOT_FOUND and one added is served. Over the course
//! protocol the peer does not hash what it serves (the client verifies every chunk).

use std::io::Read;
use std::path::PathBuf;

use swarmlab_course_wire::{
    chunk_prefix, error_message, padding, ChunkHash, ErrorCode, MsgType, CHUNK_PREFIX_LEN,
    MAX_CHUNK_LEN,
};

use crate::layout::chunk_file_name;
use crate::server::Responder;

/// Chunk files larger than this are read under `block_in_place`.
const LARGE_READ: u64 = 4 << 20;

fn on_multi_thread_runtime() -> bool {
    use tokio::runtime::{Handle, RuntimeFlavor};
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Serves the chunks of one directory.
pub struct PeerResponder {
    dir: PathBuf,
    max_chunk: usize,
}

impl PeerResponder {
    /// Serves `dir`; files larger than a CHUNK may carry ([`MAX_CHUNK_LEN`], 64 MiB)
    /// are answered CHUNK_NOT_FOUND.
    pub fn new(dir: PathBuf) -> PeerResponder {
        PeerResponder {
            dir,
            max_chunk: MAX_CHUNK_LEN,
        }
    }

    fn not_found(out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&error_message(ErrorCode::ChunkNotFound));
    }
}

impl Responder for PeerResponder {
    fn served(&self) -> MsgType {
        MsgType::GetChunk
    }

    fn respond(&self, body: &[u8], out: &mut Vec<u8>) {
        let Ok(hash) = ChunkHash::try_from(body) else {
            return Self::not_found(out);
        };
        let path = self.dir.join(chunk_file_name(&hash));
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("{}: {e}", path.display());
                }
                return Self::not_found(out);
            }
        };
        // Read the file straight after the 32-byte prefix: the chunk is copied once.
        out.clear();
        out.resize(CHUNK_PREFIX_LEN, 0);
        let limit = self.max_chunk as u64 + 1;
        let size = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        out.reserve(size.min(limit) as usize + 3);
        let read = |out: &mut Vec<u8>| file.take(limit).read_to_end(out);
        // Chunks up to 4 MiB are read inline (the course's are 512 KiB: tens of
        // microseconds from the page cache). A larger one may take long from a disk:
        // tell a multi-threaded runtime, so that the worker's other connections move on.
        let result = if size > LARGE_READ && on_multi_thread_runtime() {
            tokio::task::block_in_place(|| read(out))
        } else {
            read(out)
        };
        if let Err(e) = result {
            tracing::warn!("{}: {e}", path.display());
            return Self::not_found(out);
        }
        let n = out.len() - CHUNK_PREFIX_LEN;
        if n > self.max_chunk {
            tracing::warn!("{}: larger than a CHUNK may carry", path.display());
            return Self::not_found(out);
        }
        out[..CHUNK_PREFIX_LEN].copy_from_slice(&chunk_prefix(&hash, n as u32));
        out.resize(out.len() + padding(n), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarmlab_course_wire::{Header, HEADER_LEN};

    fn ask(p: &PeerResponder, hash: &ChunkHash) -> Vec<u8> {
        let mut out = Vec::new();
        p.respond(hash, &mut out);
        out
    }

    #[test]
    fn the_largest_chunk_is_served_and_one_byte_more_is_not() {
        let d = tempfile::tempdir().unwrap();
        let p = PeerResponder::new(d.path().to_path_buf());
        let mut data = vec![7u8; MAX_CHUNK_LEN + 1];
        // Named by any hash: peers do not hash what they serve.
        let (big, bigger) = ([1u8; 20], [2u8; 20]);
        std::fs::write(d.path().join(chunk_file_name(&bigger)), &data).unwrap();
        data.pop();
        std::fs::write(d.path().join(chunk_file_name(&big)), &data).unwrap();
        drop(data);
        let out = ask(&p, &big);
        let header = Header::parse(&out[..HEADER_LEN].try_into().unwrap());
        assert_eq!(header.msg_type, MsgType::Chunk as u8);
        assert_eq!(out.len(), CHUNK_PREFIX_LEN + MAX_CHUNK_LEN);
        assert_eq!(header.total_len(), out.len() as u64);
        assert_eq!(
            ask(&p, &bigger),
            error_message(ErrorCode::ChunkNotFound).to_vec()
        );
    }

    #[test]
    fn no_hash_names_a_file_outside_the_directory() {
        // chunks/alice is the directory; root/config/peers.i and root/config/peers.i.bin
        // exist, so a path built from the hash's bytes as text (with or without .bin)
        // would find them: only building it from the hex digits stops that.
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("chunks").join("alice");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(root.path().join("config")).unwrap();
        for name in ["peers.i", "peers.i.bin"] {
            std::fs::write(root.path().join("config").join(name), b"secret").unwrap();
        }
        let hostile: ChunkHash = *b"../../config/peers.i";
        assert!(dir.join(std::str::from_utf8(&hostile).unwrap()).is_file());
        let p = PeerResponder::new(dir);
        assert_eq!(
            ask(&p, &hostile),
            error_message(ErrorCode::ChunkNotFound).to_vec()
        );
    }
}
