//! Resuming: what an earlier run left in the chunk directory.

use std::path::Path;

use swarmlab_course_wire::ChunkHash;

use crate::layout::chunk_file_name;

/// For each hash, the size of `dir/<hash>.bin` if it exists and its digest matches.
/// A file whose digest does not match is removed, and so are temporary files left by
/// an interrupted run.
pub(crate) fn scan_verified(dir: &Path, hashes: &[ChunkHash]) -> Vec<Option<u64>> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().contains(".bin.tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    hashes
        .iter()
        .map(|h| {
            let p = dir.join(chunk_file_name(h));
            let data = std::fs::read(&p).ok()?;
            if crate::chunks::sha1(&data) == *h {
                Some(data.len() as u64)
            } else {
                tracing::warn!("{}: digest does not match, fetching it again", p.display());
                let _ = std::fs::remove_file(&p);
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_chunks_are_kept_and_the_rest_removed() {
        let d = tempfile::tempdir().unwrap();
        let good = crate::chunks::sha1(b"good");
        let bad = crate::chunks::sha1(b"bad");
        std::fs::write(d.path().join(chunk_file_name(&good)), b"good").unwrap();
        std::fs::write(d.path().join(chunk_file_name(&bad)), b"torn").unwrap();
        std::fs::write(d.path().join("x.bin.tmp42"), b"half").unwrap();
        let found = scan_verified(d.path(), &[good, bad, [0; 20]]);
        assert_eq!(found, [Some(4), None, None]);
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1);
        assert_eq!(
            left[0].file_name().into_string().unwrap(),
            chunk_file_name(&good)
        );
    }
}
