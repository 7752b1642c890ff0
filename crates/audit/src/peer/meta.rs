//! The info dictionary shared by every peer of a round: known from the start, or
//! fetched with ut_metadata by one of them (at most [`MAX_METADATA_FETCHES`] at a
//! time) and then used by all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use swarmlab_bt_wire::metainfo::Info;

/// Most ut_metadata fetches running at once in a round (each buffers up to
/// `metadata_size`, itself capped at [`swarmlab_bt_wire::ext::MAX_METADATA_SIZE`]).
pub const MAX_METADATA_FETCHES: usize = 2;

/// The info dictionary shared by every session of a round.
#[derive(Debug, Default)]
pub struct SharedMeta {
    info: RwLock<Option<Arc<Info>>>,
    fetching: Arc<AtomicUsize>,
}

/// A slot among the [`MAX_METADATA_FETCHES`]; released on drop.
#[derive(Debug)]
pub struct FetchSlot(Arc<AtomicUsize>);

impl Drop for FetchSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SharedMeta {
    /// Start with `info` (or nothing).
    pub fn new(info: Option<Arc<Info>>) -> SharedMeta {
        SharedMeta {
            info: RwLock::new(info),
            fetching: Arc::new(AtomicUsize::new(0)),
        }
    }
    /// Take a metadata-fetch slot, if one is free.
    pub fn try_fetch_slot(&self) -> Option<FetchSlot> {
        let prev = self.fetching.fetch_add(1, Ordering::SeqCst);
        let slot = FetchSlot(self.fetching.clone());
        if prev >= MAX_METADATA_FETCHES {
            drop(slot);
            return None;
        }
        Some(slot)
    }
    /// The info dictionary, if known.
    pub fn get(&self) -> Option<Arc<Info>> {
        self.info.read().map(|g| g.clone()).unwrap_or(None)
    }
    /// Set it if still unknown; returns true if this call set it.
    pub fn set(&self, info: Arc<Info>) -> bool {
        match self.info.write() {
            Ok(mut g) if g.is_none() => {
                *g = Some(info);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_two_fetches_at_once() {
        let m = SharedMeta::new(None);
        let a = m.try_fetch_slot().unwrap();
        let _b = m.try_fetch_slot().unwrap();
        assert!(m.try_fetch_slot().is_none());
        drop(a);
        assert!(m.try_fetch_slot().is_some());
    }
}
