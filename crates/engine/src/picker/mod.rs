//! The piece picker: which block to ask which peer for next.
//!
//! It knows, per peer, the pieces it holds (from a bitfield and `have`s, or "every
//! piece" for BEP 6 `have_all` and Charlie's presumed peers, minus the ones it turned
//! out to lack) and the blocks requested from it; per piece, how many usable peers
//! hold it (its availability) and, while it is fetched, the state of each block.
//!
//! [`Picker::pick`] gives a peer up to `max` blocks: first the missing blocks of
//! pieces it started itself, then the blocks of new pieces, rarest first (fewest
//! holders; ties broken by a random order drawn once from the caller's seed), then
//! the missing blocks of pieces other peers started (so that a piece mostly comes
//! from one peer, and a bad one charges the peer that sent it). At most
//! [`Picker::set_max_partial`] pieces are in progress at once. When no block is missing any more (every one left is in
//! flight or received: the *endgame*), it hands out blocks already in flight at
//! other peers, at most [`PickerConfig::max_duplicates`] requesters per block;
//! [`Picker::block_received`] then names the other requesters, to cancel.
//!
//! A piece whose every block arrived is *complete*: the caller hashes it and says
//! [`Picker::piece_verified`] or [`Picker::piece_failed`]; on failure the blocks go
//! back to missing and every peer that sent one is charged a bad piece; at
//! [`PickerConfig::max_bad_pieces`] a peer is banned: removed, its requests
//! forgotten, never added again.
//!
//! Peers are any `Copy + Eq + Hash` key (a `SocketAddr` for fetch and Charlie).

mod peer;
mod piece;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::{Block, Layout};
use peer::PeerState;
use piece::{Partial, PieceState, Slot};

/// How the picker behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickerConfig {
    /// Bad pieces (hash failures a peer contributed to) after which it is banned
    /// (default 2).
    pub max_bad_pieces: u32,
    /// Seed of the random tie-break between pieces of equal availability.
    pub seed: u64,
    /// Hand out blocks already in flight once none is missing (default on).
    pub endgame: bool,
    /// Most peers one block is requested from in endgame (default 2).
    pub max_duplicates: usize,
}

impl Default for PickerConfig {
    fn default() -> Self {
        PickerConfig {
            max_bad_pieces: 2,
            seed: 0,
            endgame: true,
            max_duplicates: 2,
        }
    }
}

/// What [`Picker::block_received`] says of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received<P> {
    /// Expected: store it. `cancel` lists the other peers it was requested from
    /// (endgame), whose requests the picker has forgotten: send them a cancel.
    /// `piece_complete`: every block of the piece is now in: hash it.
    Accepted {
        /// Requests of the same block to cancel.
        cancel: Vec<(P, Block)>,
        /// The piece is complete.
        piece_complete: bool,
    },
    /// Already received from another peer (endgame): drop it.
    Duplicate,
    /// Not requested from this peer, not a block of this layout, or of a piece
    /// not being fetched: drop it.
    Unexpected,
}

/// The piece picker. See the [module documentation](self).
#[derive(Debug)]
pub struct Picker<P> {
    layout: Layout,
    cfg: PickerConfig,
    state: Vec<PieceState>,
    /// Usable peers holding each piece.
    avail: Vec<u32>,
    /// Tie-break order (a permutation drawn from the seed).
    rank: Vec<u32>,
    partial: BTreeMap<u32, Partial<P>>,
    peers: HashMap<P, PeerState>,
    banned: HashSet<P>,
    /// Blocks of unfinished pieces neither requested nor received.
    unrequested: u64,
    done: u32,
    /// Most pieces in progress at once (new pieces are not started beyond it).
    max_partial: usize,
}

impl<P: Copy + Eq + Hash + std::fmt::Debug> Picker<P> {
    /// Every piece of `layout` missing, no peer.
    pub fn new(layout: Layout, cfg: PickerConfig) -> Picker<P> {
        let n = layout.num_pieces();
        let mut rank: Vec<u32> = (0..n).collect();
        rank.shuffle(&mut rand::rngs::SmallRng::seed_from_u64(cfg.seed));
        let unrequested = (0..n).map(|i| u64::from(layout.blocks_in(i))).sum();
        Picker {
            layout,
            cfg,
            state: vec![PieceState::Missing; n as usize],
            avail: vec![0; n as usize],
            rank,
            partial: BTreeMap::new(),
            peers: HashMap::new(),
            banned: HashSet::new(),
            unrequested,
            done: 0,
            max_partial: usize::MAX,
        }
    }

    /// Starts no new piece while `n` pieces are in progress (started, not yet
    /// verified), which bounds the memory of a caller that assembles pieces in
    /// memory. Default: no limit.
    pub fn set_max_partial(&mut self, n: usize) {
        self.max_partial = n.max(1);
    }

    /// The layout picked from.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    // ---- our pieces ----

    /// Marks piece `i` as held already (verified on disk at start). Only for a
    /// piece not being fetched; false otherwise.
    pub fn set_have(&mut self, i: u32) -> bool {
        if self.state.get(i as usize) != Some(&PieceState::Missing) {
            return false;
        }
        self.state[i as usize] = PieceState::Done;
        self.unrequested -= u64::from(self.layout.blocks_in(i));
        self.done += 1;
        true
    }

    /// True when piece `i` is verified.
    pub fn have(&self, i: u32) -> bool {
        self.state.get(i as usize) == Some(&PieceState::Done)
    }

    /// Pieces verified.
    pub fn pieces_done(&self) -> u32 {
        self.done
    }

    /// True when every piece is verified.
    pub fn is_complete(&self) -> bool {
        self.done == self.layout.num_pieces()
    }

    /// True in endgame: no block of an unfinished piece is left unrequested.
    pub fn in_endgame(&self) -> bool {
        self.unrequested == 0 && !self.is_complete()
    }

    /// Pieces not verified that no usable peer holds (Charlie asks its discovery
    /// for more holders of these).
    pub fn orphans(&self) -> Vec<u32> {
        (0..self.layout.num_pieces())
            .filter(|&i| self.state[i as usize] != PieceState::Done && self.avail[i as usize] == 0)
            .collect()
    }

    // ---- peers and what they hold ----

    /// Adds a peer holding nothing yet; false when it is banned (nothing added) or
    /// already known.
    pub fn add_peer(&mut self, p: P) -> bool {
        if self.banned.contains(&p) || self.peers.contains_key(&p) {
            return false;
        }
        self.peers.insert(p, PeerState::default());
        true
    }

    /// Removes a peer: its requests in flight go back to missing (unless others
    /// requested them too), its pieces stop counting in availability.
    pub fn remove_peer(&mut self, p: P) {
        let Some(st) = self.peers.get(&p) else {
            return;
        };
        let flights: Vec<Block> = st.in_flight.iter().copied().collect();
        for b in flights {
            self.block_failed(p, b);
        }
        if let Some(st) = self.peers.remove(&p) {
            for i in st.held(self.layout.num_pieces()) {
                self.avail[i as usize] -= 1;
            }
        }
    }

    /// True for a known (added, not banned) peer.
    pub fn is_peer(&self, p: &P) -> bool {
        self.peers.contains_key(p)
    }

    /// True for a banned peer.
    pub fn is_banned(&self, p: &P) -> bool {
        self.banned.contains(p)
    }

    /// Bad pieces charged to `p`.
    pub fn bad_pieces(&self, p: &P) -> u32 {
        self.peers.get(p).map_or(0, |s| s.bad_pieces)
    }

    /// The peer holds piece `i` (a `have`). Out of range or unknown peer: ignored.
    pub fn peer_has(&mut self, p: P, i: u32) {
        let n = self.layout.num_pieces();
        if let Some(st) = self.peers.get_mut(&p) {
            if st.set_has(i, n) {
                self.avail[i as usize] += 1;
            }
        }
    }

    /// The peer's bitfield (bit 0 the high bit of the first byte, BEP 3). Bits
    /// beyond the last piece are ignored (the session checks them).
    pub fn peer_has_bitfield(&mut self, p: P, bits: &[u8]) {
        let n = self.layout.num_pieces();
        for i in 0..n {
            let byte = bits.get((i / 8) as usize).copied().unwrap_or(0);
            if byte & (0x80 >> (i % 8)) != 0 {
                self.peer_has(p, i);
            }
        }
    }

    /// The peer holds every piece (BEP 6 have_all; a presumed peer).
    pub fn peer_has_all(&mut self, p: P) {
        let n = self.layout.num_pieces();
        if let Some(st) = self.peers.get_mut(&p) {
            for i in st.set_all(n) {
                self.avail[i as usize] += 1;
            }
        }
    }

    /// The peer turned out not to hold piece `i` (Charlie's CHUNK_NOT_FOUND, a BEP 6
    /// reject of a piece it announced): it stops counting for it and its requests
    /// for the piece go back to missing.
    pub fn peer_lacks(&mut self, p: P, i: u32) {
        let Some(st) = self.peers.get_mut(&p) else {
            return;
        };
        if st.set_lacks(i) {
            self.avail[i as usize] -= 1;
        }
        let flights: Vec<Block> = st
            .in_flight
            .iter()
            .filter(|b| b.piece == i)
            .copied()
            .collect();
        for b in flights {
            self.block_failed(p, b);
        }
    }

    /// True when the peer holds a piece we have not verified (we are interested).
    pub fn is_interesting(&self, p: &P) -> bool {
        let Some(st) = self.peers.get(p) else {
            return false;
        };
        (0..self.layout.num_pieces())
            .any(|i| self.state[i as usize] != PieceState::Done && st.holds(i))
    }

    /// True when the peer holds piece `i`.
    pub fn peer_holds(&self, p: &P, i: u32) -> bool {
        self.peers.get(p).is_some_and(|s| s.holds(i))
    }

    /// The blocks requested from `p` and not yet answered.
    pub fn requests_of(&self, p: &P) -> Vec<Block> {
        self.peers
            .get(p)
            .map(|s| s.in_flight.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Blocks requested from `p` and not yet answered.
    pub fn in_flight(&self, p: &P) -> usize {
        self.peers.get(p).map_or(0, |s| s.in_flight.len())
    }

    // ---- requests ----

    /// Up to `max` blocks to request from `p` among the pieces it holds and
    /// `allowed` accepts (all of them when it unchokes us; the allowed-fast set when
    /// it chokes us), now counted in flight at `p`. See the [module
    /// documentation](self) for the order.
    pub fn pick(&mut self, p: P, max: usize, allowed: &dyn Fn(u32) -> bool) -> Vec<Block> {
        let mut out = Vec::new();
        if !self.peers.contains_key(&p) || max == 0 {
            return out;
        }
        // 1. Pieces this peer started.
        self.continue_started(p, max, allowed, true, &mut out);
        if out.len() >= max {
            return out;
        }
        // 2. New pieces, rarest first.
        while out.len() < max && self.partial.len() < self.max_partial {
            let Some(i) = self.rarest_new(&p, allowed) else {
                break;
            };
            self.state[i as usize] = PieceState::Partial;
            self.partial
                .insert(i, Partial::new(self.layout.blocks_in(i), p));
            self.take_missing(p, i, max, &mut out);
        }
        // 2b. Pieces other peers started.
        if out.len() < max {
            self.continue_started(p, max, allowed, false, &mut out);
        }
        // 3. Endgame: blocks in flight elsewhere.
        if out.len() < max && self.cfg.endgame && self.unrequested == 0 {
            self.take_duplicates(p, max, allowed, &mut out);
        }
        out
    }

    fn continue_started(
        &mut self,
        p: P,
        max: usize,
        allowed: &dyn Fn(u32) -> bool,
        own: bool,
        out: &mut Vec<Block>,
    ) {
        let Some(st) = self.peers.get(&p) else {
            return;
        };
        let started: Vec<u32> = self
            .partial
            .iter()
            .filter(|(&i, part)| {
                (part.owner == p) == own
                    && self.state[i as usize] == PieceState::Partial
                    && st.holds(i)
                    && allowed(i)
            })
            .map(|(&i, _)| i)
            .collect();
        for i in started {
            self.take_missing(p, i, max, out);
            if out.len() >= max {
                return;
            }
        }
    }

    fn rarest_new(&self, p: &P, allowed: &dyn Fn(u32) -> bool) -> Option<u32> {
        let st = self.peers.get(p)?;
        (0..self.layout.num_pieces())
            .filter(|&i| self.state[i as usize] == PieceState::Missing && st.holds(i) && allowed(i))
            .min_by_key(|&i| (self.avail[i as usize], self.rank[i as usize]))
    }

    fn take_missing(&mut self, p: P, i: u32, max: usize, out: &mut Vec<Block>) {
        let (Some(part), Some(st)) = (self.partial.get_mut(&i), self.peers.get_mut(&p)) else {
            return;
        };
        for (j, slot) in part.slots.iter_mut().enumerate() {
            if out.len() >= max {
                break;
            }
            if *slot == Slot::Missing {
                let b = self.layout.block(i, j as u32);
                *slot = Slot::Requested(vec![p]);
                st.in_flight.insert(b);
                self.unrequested -= 1;
                out.push(b);
            }
        }
    }

    fn take_duplicates(
        &mut self,
        p: P,
        max: usize,
        allowed: &dyn Fn(u32) -> bool,
        out: &mut Vec<Block>,
    ) {
        let Some(st) = self.peers.get_mut(&p) else {
            return;
        };
        for (&i, part) in self.partial.iter_mut() {
            if self.state[i as usize] != PieceState::Partial || !st.holds(i) || !allowed(i) {
                continue;
            }
            for (j, slot) in part.slots.iter_mut().enumerate() {
                if out.len() >= max {
                    return;
                }
                if let Slot::Requested(list) = slot {
                    if !list.contains(&p) && list.len() < self.cfg.max_duplicates {
                        list.push(p);
                        let b = self.layout.block(i, j as u32);
                        st.in_flight.insert(b);
                        out.push(b);
                    }
                }
            }
        }
    }

    /// A block arrived from `p`. See [`Received`].
    pub fn block_received(&mut self, p: P, b: Block) -> Received<P> {
        let Some(st) = self.peers.get_mut(&p) else {
            return Received::Unexpected;
        };
        if !st.in_flight.remove(&b) {
            return Received::Unexpected;
        }
        let Some(j) = self.layout.block_index(&b) else {
            return Received::Unexpected;
        };
        let Some(part) = self.partial.get_mut(&b.piece) else {
            return Received::Duplicate;
        };
        let slot = &mut part.slots[j as usize];
        let others = match std::mem::replace(slot, Slot::Received) {
            Slot::Requested(list) => list,
            Slot::Received => return Received::Duplicate,
            Slot::Missing => {
                *slot = Slot::Missing;
                return Received::Unexpected;
            }
        };
        part.received += 1;
        part.contributed(p);
        let complete = part.received as usize == part.slots.len();
        let mut cancel = Vec::new();
        for q in others.into_iter().filter(|q| *q != p) {
            if let Some(qs) = self.peers.get_mut(&q) {
                if qs.in_flight.remove(&b) {
                    cancel.push((q, b));
                }
            }
        }
        if complete {
            self.state[b.piece as usize] = PieceState::Complete;
        }
        Received::Accepted {
            cancel,
            piece_complete: complete,
        }
    }

    /// A request of `p` ended without its block (rejected, dropped by a choke,
    /// timed out, connection lost): the block goes back to missing unless another
    /// peer was asked for it too; a piece left with nothing received or asked is a
    /// new piece again. False when it was not in flight at `p`.
    pub fn block_failed(&mut self, p: P, b: Block) -> bool {
        let Some(st) = self.peers.get_mut(&p) else {
            return false;
        };
        if !st.in_flight.remove(&b) {
            return false;
        }
        let (Some(j), Some(part)) = (self.layout.block_index(&b), self.partial.get_mut(&b.piece))
        else {
            return true;
        };
        let slot = &mut part.slots[j as usize];
        if let Slot::Requested(list) = slot {
            list.retain(|q| *q != p);
            if list.is_empty() {
                *slot = Slot::Missing;
                self.unrequested += 1;
            }
        }
        // Nothing of it received or asked any more: a new piece again, picked
        // rarest first by anyone (not left to its owner's neighbours at the end).
        if part.received == 0 && part.slots.iter().all(|s| *s == Slot::Missing) {
            self.partial.remove(&b.piece);
            self.state[b.piece as usize] = PieceState::Missing;
        }
        true
    }

    /// The caller verified complete piece `i`. False when it was not complete.
    pub fn piece_verified(&mut self, i: u32) -> bool {
        if self.state.get(i as usize) != Some(&PieceState::Complete) {
            return false;
        }
        self.state[i as usize] = PieceState::Done;
        self.partial.remove(&i);
        self.done += 1;
        true
    }

    /// Complete piece `i` failed its hash: its blocks go back to missing and each
    /// peer that sent one is charged a bad piece. Returns the peers banned by it
    /// (now removed: close their connections).
    pub fn piece_failed(&mut self, i: u32) -> Vec<P> {
        if self.state.get(i as usize) != Some(&PieceState::Complete) {
            return Vec::new();
        }
        let part = self.partial.remove(&i);
        self.state[i as usize] = PieceState::Missing;
        self.unrequested += u64::from(self.layout.blocks_in(i));
        let mut banned = Vec::new();
        for p in part.map(|p| p.contributors).unwrap_or_default() {
            if let Some(st) = self.peers.get_mut(&p) {
                st.bad_pieces += 1;
                if st.bad_pieces >= self.cfg.max_bad_pieces {
                    banned.push(p);
                }
            }
        }
        for p in &banned {
            self.ban(*p);
        }
        banned
    }

    /// Bans `p`: removed now and refused by [`Picker::add_peer`] from now on.
    pub fn ban(&mut self, p: P) {
        self.remove_peer(p);
        self.banned.insert(p);
    }
}
