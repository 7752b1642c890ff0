//! A k-bucket: its nodes, its replacement cache, and when it last changed.

use super::clock::{Clock, Stamp};
use super::Entry;

#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) nodes: Vec<Entry>,
    pub(super) cache: Vec<Entry>,
    pub(super) last_changed: Stamp,
    pub(super) last_refresh: Option<Stamp>,
}

impl Bucket {
    pub(super) fn new(now: Stamp) -> Self {
        Bucket {
            nodes: Vec::new(),
            cache: Vec::new(),
            last_changed: now,
            last_refresh: None,
        }
    }

    pub(super) fn refresh_base(&self) -> Stamp {
        match self.last_refresh {
            Some(r) => r.max(self.last_changed),
            None => self.last_changed,
        }
    }

    /// Every stamp read against an epoch moved `shift` ms forward.
    pub(super) fn shift(&mut self, shift: u64) {
        self.last_changed = Clock::shift(self.last_changed, shift);
        self.last_refresh = self.last_refresh.map(|s| Clock::shift(s, shift));
        for e in self.nodes.iter_mut().chain(self.cache.iter_mut()) {
            e.shift(shift);
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    pub(super) bucket: usize,
    pub(super) in_cache: bool,
    pub(super) pos: usize,
}
