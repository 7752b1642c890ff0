//! The state of each piece and, while it is being fetched, of each of its blocks.

/// Where a piece is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PieceState {
    /// No block requested or received.
    Missing,
    /// Some blocks requested or received (its [`Partial`] exists).
    Partial,
    /// Every block received; waiting for the caller's verdict on its hash.
    Complete,
    /// Verified.
    Done,
}

/// One block of a piece being fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Slot<P> {
    Missing,
    /// Requested from these peers (more than one only in endgame).
    Requested(Vec<P>),
    Received,
}

/// A piece being fetched.
#[derive(Debug)]
pub(super) struct Partial<P> {
    pub(super) slots: Vec<Slot<P>>,
    pub(super) received: u32,
    /// The peers that sent blocks of it: charged if its hash fails.
    pub(super) contributors: Vec<P>,
    /// The peer that started it: others continue it only when nothing else is
    /// left, so that a piece's blocks mostly come from one peer (a bad piece then
    /// charges the peer that sent it, not its neighbours).
    pub(super) owner: P,
}

impl<P: PartialEq + Copy> Partial<P> {
    pub(super) fn new(blocks: u32, owner: P) -> Self {
        Partial {
            slots: vec![Slot::Missing; blocks as usize],
            received: 0,
            contributors: Vec::new(),
            owner,
        }
    }

    pub(super) fn contributed(&mut self, p: P) {
        if !self.contributors.contains(&p) {
            self.contributors.push(p);
        }
    }
}
