//! Resume: at start, hash what an earlier run left on disk (complete files and
//! `.part` files alike) and keep only the pieces that match.

use crate::error::StorageError;
use crate::verify::piece_matches;
use crate::Storage;

/// The pieces stored whose SHA-1 matches `hashes` (in index order), each already
/// marked with [`Storage::piece_verified`] (so complete files get their final
/// name). Pieces absent are skipped without reading; pieces that do not match are
/// left to be fetched again. `progress` is told after each piece hashed.
pub fn verify_existing<S: Storage + ?Sized>(
    storage: &mut S,
    hashes: &[[u8; 20]],
    progress: &mut dyn FnMut(u32),
) -> Result<Vec<u32>, StorageError> {
    let mut ok = Vec::new();
    for (i, h) in hashes.iter().enumerate() {
        let i = i as u32;
        let Some(len) = storage.stored_len(i) else {
            continue;
        };
        if piece_matches(&*storage, i, len, h)? {
            storage.piece_verified(i)?;
            ok.push(i);
        }
        progress(i);
    }
    Ok(ok)
}
