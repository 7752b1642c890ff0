//! Where verified pieces go: the [`Storage`] trait, and [`FileStorage`], a
//! torrent's files under an output directory.
//!
//! The engine never builds a path itself: a storage does, and the one here checks
//! every path a torrent names ([`safe_relative_path`]) before it touches the disk.
//!
//! # Writing another storage (Charlie's chunk directory)
//!
//! A chunk directory is a [`Layout::whole_pieces`](crate::Layout::whole_pieces)
//! download: one block per chunk. `write(chunk, 0, bytes)` puts the chunk under a
//! temporary name, `piece_verified(chunk)` fsyncs and renames it to its final name,
//! `piece_failed(chunk)` removes the temporary file, `stored_len(chunk)` says how
//! many bytes a chunk has on disk (final or temporary) so that resume can hash it.

mod files;
mod path;

pub use files::{FileSpec, FileStorage};
pub use path::safe_relative_path;

use crate::error::StorageError;

/// The storage of one download. Called by one driver at a time (`&mut` for
/// writes); reads take `&self` so a seed can share it behind a lock.
pub trait Storage {
    /// Writes `data` at offset `begin` of piece `piece` (a received block, not yet
    /// verified). Out of the piece: [`StorageError::OutOfRange`].
    fn write(&mut self, piece: u32, begin: u32, data: &[u8]) -> Result<(), StorageError>;

    /// Reads `buf.len()` bytes at offset `begin` of piece `piece`. `Ok(false)` when
    /// those bytes are not stored (a file absent or short): nothing was read.
    fn read(&self, piece: u32, begin: u32, buf: &mut [u8]) -> Result<bool, StorageError>;

    /// How many bytes of piece `piece` are stored, if all of it is (what resume
    /// hashes); `None` when some of it is absent.
    fn stored_len(&self, piece: u32) -> Option<u32>;

    /// The piece's SHA-1 matched: the storage may finish what only depended on it
    /// (fsync and rename a file whose pieces are all verified).
    fn piece_verified(&mut self, piece: u32) -> Result<(), StorageError>;

    /// The piece's SHA-1 did not match: its bytes will be written again. The
    /// default does nothing (the next writes overwrite them).
    fn piece_failed(&mut self, piece: u32) -> Result<(), StorageError> {
        let _ = piece;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
