//! What the picker knows of one peer: the pieces it holds (a bit per piece, or
//! "every piece" with exceptions), its requests in flight, its bad pieces.

use std::collections::HashSet;

use crate::Block;

#[derive(Debug, Default)]
pub(super) struct PeerState {
    /// One flag per piece; empty while `all` is set.
    has: Vec<bool>,
    /// Holds every piece except those in `lacks` (BEP 6 have_all, Charlie's
    /// presumed peers).
    all: bool,
    lacks: HashSet<u32>,
    pub(super) in_flight: HashSet<Block>,
    pub(super) bad_pieces: u32,
}

impl PeerState {
    pub(super) fn holds(&self, i: u32) -> bool {
        if self.all {
            !self.lacks.contains(&i)
        } else {
            self.has.get(i as usize).copied().unwrap_or(false)
        }
    }

    /// Marks piece `i` held; false when it already was.
    pub(super) fn set_has(&mut self, i: u32, n: u32) -> bool {
        if self.holds(i) || i >= n {
            return false;
        }
        if self.all {
            self.lacks.remove(&i);
        } else {
            if self.has.is_empty() {
                self.has = vec![false; n as usize];
            }
            self.has[i as usize] = true;
        }
        true
    }

    /// Marks every piece held; returns the pieces that were not.
    pub(super) fn set_all(&mut self, n: u32) -> Vec<u32> {
        let new: Vec<u32> = (0..n).filter(|&i| !self.holds(i)).collect();
        self.all = true;
        self.has = Vec::new();
        self.lacks.clear();
        new
    }

    /// Marks piece `i` not held; false when it was not.
    pub(super) fn set_lacks(&mut self, i: u32) -> bool {
        if !self.holds(i) {
            return false;
        }
        if self.all {
            self.lacks.insert(i);
        } else {
            self.has[i as usize] = false;
        }
        true
    }

    /// Every piece held, for removal.
    pub(super) fn held(&self, n: u32) -> Vec<u32> {
        (0..n).filter(|&i| self.holds(i)).collect()
    }
}
