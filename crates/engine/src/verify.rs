//! SHA-1 of a piece, read back from storage in bounded chunks.

use sha1::{Digest, Sha1};

use crate::error::StorageError;
use crate::Storage;

/// Bytes read at a time while hashing.
const READ_CHUNK: usize = 1 << 20;

/// The SHA-1 of the first `len` bytes of piece `piece` as stored, or `None` when
/// they are not all stored. Memory: one buffer of at most 1 MiB.
pub fn hash_piece<S: Storage + ?Sized>(
    storage: &S,
    piece: u32,
    len: u32,
) -> Result<Option<[u8; 20]>, StorageError> {
    let mut h = Sha1::new();
    let mut buf = vec![0u8; READ_CHUNK.min(len as usize)];
    let mut at = 0u32;
    while at < len {
        let n = (len - at).min(READ_CHUNK as u32) as usize;
        if !storage.read(piece, at, &mut buf[..n])? {
            return Ok(None);
        }
        h.update(&buf[..n]);
        at += n as u32;
    }
    Ok(Some(h.finalize().into()))
}

/// True when piece `piece` as stored hashes to `expected`.
pub fn piece_matches<S: Storage + ?Sized>(
    storage: &S,
    piece: u32,
    len: u32,
    expected: &[u8; 20],
) -> Result<bool, StorageError> {
    Ok(hash_piece(storage, piece, len)?.as_ref() == Some(expected))
}

/// The SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}
