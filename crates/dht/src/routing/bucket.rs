//! A k-bucket: its nodes, its replacement cache, and when it last changed.

use std::time::Instant;

use super::Entry;

#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) nodes: Vec<Entry>,
    pub(super) cache: Vec<Entry>,
    pub(super) last_changed: Instant,
    pub(super) last_refresh: Option<Instant>,
}

impl Bucket {
    pub(super) fn new(now: Instant) -> Self {
        Bucket {
            nodes: Vec::new(),
            cache: Vec::new(),
            last_changed: now,
            last_refresh: None,
        }
    }

    pub(super) fn refresh_base(&self) -> Instant {
        match self.last_refresh {
            Some(r) => r.max(self.last_changed),
            None => self.last_changed,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    pub(super) bucket: usize,
    pub(super) in_cache: bool,
    pub(super) pos: usize,
}
