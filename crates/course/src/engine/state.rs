//! The work the workers share: the engine's [`Picker`] over the file's unique chunks,
//! and what Charlie reports beside it.
//!
//! Chunks are counted by unique hash (a file may repeat a chunk); piece `i` of the
//! picker's [`Layout::whole_pieces`] layout is unique chunk `i`, fetched with one
//! GET_CHUNK. The picker is the one `swarmlab fetch` uses: a peer's worker takes,
//! among the missing chunks its peer holds, the one the fewest usable peers hold
//! (rarest first; ties in an order drawn once from a random seed, so that Charlies
//! started together do not all begin with the same chunk). Endgame is off: the
//! course protocol has no cancel, so a duplicate GET_CHUNK would cost a whole chunk;
//! the request timeout bounds a peer that stalls on the last one.
//!
//! A peer holds the chunks it is listed for, or, when it is *presumed* (a peer of the
//! file whose holdings are unknown), every chunk (the picker's `peer_has_all`). A
//! peer that fails for a chunk (CHUNK_NOT_FOUND, timeout, protocol error, a write
//! error) stops counting for it (`peer_lacks`); a wrong digest also charges it a bad
//! piece, and at the picker's limit (2) it is banned; a peer whose connections keep
//! failing is given up (banned too). Holders may be added while the download runs
//! ([`State::add_holder`], [`State::add_presumed`], from a refill), at most
//! [`MAX_HOLDERS_PER_CHUNK`] per chunk; a chunk left with no usable holder is an
//! *orphan* (the picker's `orphans`), which the supervisor of the download asks its
//! refill for, once per change of what was tried for it ([`State::take_unasked`]).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_course_wire::ChunkHash;
use swarmlab_engine::{Block, Layout, Picker, PickerConfig, Received};

use crate::engine::{FailureKind, PeerReport};
use crate::error::MissingChunk;

/// Most peers listed for one chunk (presumed peers apart); more are ignored. With
/// 65,535 chunks this bounds the lists at a few tens of MiB, whatever peers say.
pub const MAX_HOLDERS_PER_CHUNK: usize = 32;

/// What a worker does next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    /// Fetch this chunk (now in flight).
    Chunk(usize),
    /// Nothing now, but a chunk in flight elsewhere may come back: wait.
    Wait,
    /// Nothing left for this peer.
    Finished,
}

/// Work shared by the workers, on unique hashes.
pub(crate) struct State {
    picker: Picker<SocketAddr>,
    /// Peers listed for each chunk (at most [`MAX_HOLDERS_PER_CHUNK`]).
    pub(crate) holders: Vec<Vec<SocketAddr>>,
    /// Peers presumed to hold every chunk.
    pub(crate) presumed: Vec<SocketAddr>,
    /// Peers that failed for this chunk, with why.
    pub(crate) failed: Vec<Vec<(SocketAddr, FailureKind)>>,
    /// Peers given up or banned.
    pub(crate) dead: Vec<SocketAddr>,
    pub(crate) sizes: Vec<u64>,
    pub(crate) peers: HashMap<SocketAddr, PeerReport>,
    /// Peers whose worker runs (a worker leaves this set in the same lock as the
    /// pick that finishes it, so a holder added later gets a new worker).
    pub(crate) running: HashSet<SocketAddr>,
    /// Per chunk: what had been tried for it (holders, failures, peers given up)
    /// when a refill was last asked for it.
    asked: Vec<Option<(usize, usize, usize)>>,
    /// When the first chunk was verified and written in this run.
    pub(crate) first_done: Option<Instant>,
}

/// The one request of chunk `i`.
fn whole(i: usize) -> Block {
    Block {
        piece: i as u32,
        begin: 0,
        length: 0,
    }
}

impl State {
    /// Every chunk missing, with its holders (at most [`MAX_HOLDERS_PER_CHUNK`]
    /// each) and the peers presumed to hold everything; every peer has a report.
    /// `seed` orders chunks of equal rarity.
    pub(crate) fn new(holders: Vec<Vec<SocketAddr>>, presumed: &[SocketAddr], seed: u64) -> State {
        let n = holders.len();
        let cfg = PickerConfig {
            seed,
            endgame: false,
            ..PickerConfig::default()
        };
        let mut s = State {
            picker: Picker::new(Layout::whole_pieces(n as u32), cfg),
            holders: vec![Vec::new(); n],
            presumed: Vec::new(),
            failed: vec![Vec::new(); n],
            dead: Vec::new(),
            sizes: vec![0; n],
            peers: HashMap::new(),
            running: HashSet::new(),
            asked: vec![None; n],
            first_done: None,
        };
        for p in presumed {
            s.add_presumed(*p);
        }
        for (i, hs) in holders.into_iter().enumerate() {
            for p in hs {
                s.add_holder(i, p);
            }
        }
        s
    }

    /// Chunks not yet verified.
    pub(crate) fn remaining(&self) -> usize {
        (self.picker.layout().num_pieces() - self.picker.pieces_done()) as usize
    }

    /// True when chunk `i` is verified and written.
    pub(crate) fn is_done(&self, i: usize) -> bool {
        self.picker.have(i as u32)
    }

    fn report(&mut self, peer: SocketAddr) {
        self.peers.entry(peer).or_insert_with(|| PeerReport {
            addr: peer.to_string(),
            ..Default::default()
        });
    }

    fn failed_for(&self, i: usize, peer: &SocketAddr) -> bool {
        self.failed[i].iter().any(|(q, _)| q == peer)
    }

    /// Adds `peer` as a holder of chunk `i`; false when it already holds it (listed
    /// or presumed), was given up or banned, already failed for this chunk, or the
    /// chunk has [`MAX_HOLDERS_PER_CHUNK`] (nothing changes then).
    pub(crate) fn add_holder(&mut self, i: usize, peer: SocketAddr) -> bool {
        if i >= self.holders.len()
            || self.holders[i].contains(&peer)
            || self.presumed.contains(&peer)
            || self.holders[i].len() >= MAX_HOLDERS_PER_CHUNK
            || self.picker.is_banned(&peer)
            || self.failed_for(i, &peer)
        {
            return false;
        }
        self.picker.add_peer(peer);
        self.picker.peer_has(peer, i as u32);
        self.holders[i].push(peer);
        self.report(peer);
        true
    }

    /// Adds `peer` as presumed to hold every chunk; false when it already is, or was
    /// given up or banned.
    pub(crate) fn add_presumed(&mut self, peer: SocketAddr) -> bool {
        if self.presumed.contains(&peer) || self.picker.is_banned(&peer) {
            return false;
        }
        self.picker.add_peer(peer);
        self.picker.peer_has_all(peer);
        for i in 0..self.failed.len() {
            if self.failed_for(i, &peer) {
                self.picker.peer_lacks(peer, i as u32);
            }
        }
        self.presumed.push(peer);
        self.report(peer);
        true
    }

    /// What has been tried for chunk `i`: its holders, its failures, the peers given up.
    fn tried(&self, i: usize) -> (usize, usize, usize) {
        (
            self.holders[i].len() + self.presumed.len(),
            self.failed[i].len(),
            self.dead.len(),
        )
    }

    /// The chunks not done and not in flight that no usable peer holds.
    pub(crate) fn orphans(&self) -> Vec<usize> {
        self.picker
            .orphans()
            .into_iter()
            .map(|i| i as usize)
            .collect()
    }

    /// The orphans a refill has not been asked for since what was tried for them
    /// last changed; they are marked asked. (A refill that found nothing for a chunk
    /// is not asked again for it until a new holder was tried and failed.)
    pub(crate) fn take_unasked(&mut self) -> Vec<usize> {
        let ask: Vec<usize> = self
            .orphans()
            .into_iter()
            .filter(|&i| self.asked[i] != Some(self.tried(i)))
            .collect();
        for &i in &ask {
            self.asked[i] = Some(self.tried(i));
        }
        ask
    }

    /// Every peer, in the order first met in the holders, then the presumed ones.
    pub(crate) fn peer_list(&self) -> Vec<SocketAddr> {
        let mut peers: Vec<SocketAddr> = Vec::new();
        for p in self.holders.iter().flatten().chain(&self.presumed) {
            if !peers.contains(p) {
                peers.push(*p);
            }
        }
        peers
    }

    /// The next chunk for `peer`'s worker (see the [module documentation](self)).
    pub(crate) fn pick(&mut self, peer: &SocketAddr) -> Pick {
        if self.picker.is_complete() || !self.picker.is_peer(peer) {
            return Pick::Finished;
        }
        match self.picker.pick(*peer, 1, &|_| true).first() {
            Some(b) => Pick::Chunk(b.piece as usize),
            // It holds a chunk not verified yet: in flight (here or elsewhere).
            None if self.picker.is_interesting(peer) => Pick::Wait,
            None => Pick::Finished,
        }
    }

    /// A chunk was already on disk, verified.
    pub(crate) fn resumed(&mut self, i: usize, size: u64) {
        if self.picker.set_have(i as u32) {
            self.sizes[i] = size;
        }
    }

    /// `peer` gave chunk `i`, verified and written.
    pub(crate) fn done(&mut self, i: usize, peer: SocketAddr, size: u64) {
        let accepted = matches!(
            self.picker.block_received(peer, whole(i)),
            Received::Accepted { .. }
        );
        // Its digest matched whoever asked: a chunk not expected from this peer
        // any more (a refill changed its holders meanwhile) is kept all the same.
        let verified = if accepted {
            self.picker.piece_verified(i as u32)
        } else {
            self.picker.set_have(i as u32)
        };
        if !verified {
            return;
        }
        self.first_done.get_or_insert_with(Instant::now);
        self.sizes[i] = size;
        let r = self.peers.entry(peer).or_default();
        r.chunks += 1;
        r.bytes += size;
    }

    /// `peer` failed for chunk `i`: the chunk goes back to the others, and `peer`
    /// stops counting for it. A wrong digest also charges it a bad piece: returns
    /// the peers that banned (now given up).
    pub(crate) fn fail(
        &mut self,
        i: usize,
        peer: SocketAddr,
        kind: FailureKind,
    ) -> Vec<SocketAddr> {
        let mut banned = Vec::new();
        if kind == FailureKind::BadDigest
            && matches!(
                self.picker.block_received(peer, whole(i)),
                Received::Accepted {
                    piece_complete: true,
                    ..
                }
            )
        {
            banned = self.picker.piece_failed(i as u32);
        } else {
            self.picker.block_failed(peer, whole(i));
        }
        self.picker.peer_lacks(peer, i as u32);
        for p in &banned {
            tracing::warn!(%p, "banned: chunks with a wrong digest");
            self.dead.push(*p);
        }
        self.failed[i].push((peer, kind));
        self.count(peer, kind);
        banned
    }

    /// No connection to `peer` for chunk `i`: the chunk goes back, not failed for this
    /// peer (the next connection may work).
    pub(crate) fn not_connected(&mut self, i: usize, peer: SocketAddr) {
        self.picker.block_failed(peer, whole(i));
        self.count(peer, FailureKind::Connection);
    }

    fn count(&mut self, peer: SocketAddr, kind: FailureKind) {
        *self
            .peers
            .entry(peer)
            .or_default()
            .failures
            .entry(kind)
            .or_default() += 1;
    }

    /// `peer` is given up: it gets no more chunks, and is not taken back.
    pub(crate) fn give_up(&mut self, peer: SocketAddr) {
        self.picker.ban(peer);
        if !self.dead.contains(&peer) {
            self.dead.push(peer);
        }
    }

    /// The chunks not done, with what each peer did for them.
    pub(crate) fn missing(&self, unique: &[ChunkHash]) -> Vec<MissingChunk> {
        (0..self.holders.len())
            .filter(|&i| !self.is_done(i))
            .map(|i| MissingChunk {
                hash: unique[i],
                holders: self.holders[i].len() + self.presumed.len(),
                failures: self.failed[i].clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], n))
    }

    fn chunk(p: Pick) -> usize {
        match p {
            Pick::Chunk(i) => i,
            other => panic!("expected a chunk, got {other:?}"),
        }
    }

    #[test]
    fn rarest_first_then_shared_to_whoever_is_free() {
        let (a, b) = (peer(1), peer(2));
        // 0: a, 1: a+b, 2: b, 3: a+b.
        let mut s = State::new(vec![vec![a], vec![a, b], vec![b], vec![a, b]], &[], 7);
        assert_eq!(s.pick(&a), Pick::Chunk(0));
        assert_eq!(s.pick(&b), Pick::Chunk(2));
        // Then the shared ones, one each.
        let (x, y) = (chunk(s.pick(&a)), chunk(s.pick(&b)));
        let mut shared = [x, y];
        shared.sort();
        assert_eq!(shared, [1, 3]);
        // Nothing left to take, but everything in flight could come back.
        assert_eq!(s.pick(&a), Pick::Wait);
        s.done(0, a, 10);
        s.done(2, b, 10);
        s.done(y, b, 10);
        assert_eq!(s.pick(&b), Pick::Wait);
        // a fails its shared chunk: it goes to b, and a is finished.
        assert!(s.fail(x, a, FailureKind::Timeout).is_empty());
        assert_eq!(s.pick(&a), Pick::Finished);
        assert_eq!(s.pick(&b), Pick::Chunk(x));
        s.done(x, b, 10);
        assert_eq!(s.remaining(), 0);
        assert_eq!(s.pick(&b), Pick::Finished);
        assert_eq!(s.peers[&b].chunks, 3);
        assert_eq!(s.peers[&a].failures[&FailureKind::Timeout], 1);
        assert!(s.missing(&[[0; 20]; 4]).is_empty());
    }

    #[test]
    fn presumed_peers_hold_every_chunk_until_they_fail_for_it() {
        let (a, b) = (peer(1), peer(2));
        // Chunk 0 listed at a; b presumed to hold everything.
        let mut s = State::new(vec![vec![a], vec![]], &[b], 1);
        assert!(s.orphans().is_empty());
        assert_eq!(s.peer_list(), [a, b]);
        // Rarest first: chunk 1 has only b.
        assert_eq!(s.pick(&b), Pick::Chunk(1));
        s.fail(1, b, FailureKind::NotFound);
        assert_eq!(s.orphans(), [1]);
        assert!(!s.add_holder(0, b), "presumed already");
        assert!(!s.add_presumed(b));
        assert_eq!(s.pick(&b), Pick::Chunk(0));
    }

    #[test]
    fn a_chunk_lists_at_most_max_holders_per_chunk() {
        let mut s = State::new(vec![vec![]], &[], 0);
        for n in 0..MAX_HOLDERS_PER_CHUNK as u16 + 10 {
            s.add_holder(0, peer(n + 1));
        }
        assert_eq!(s.holders[0].len(), MAX_HOLDERS_PER_CHUNK);
        assert_eq!(s.peers.len(), MAX_HOLDERS_PER_CHUNK);
    }

    #[test]
    fn orphans_are_asked_for_once_per_change_and_new_holders_revive_them() {
        let (a, b, c) = (peer(1), peer(2), peer(3));
        let mut s = State::new(vec![vec![a], vec![a, b]], &[], 0);
        assert!(s.orphans().is_empty());
        assert_eq!(s.pick(&a), Pick::Chunk(0));
        s.fail(0, a, FailureKind::NotFound);
        // Chunk 0 has no usable holder left; chunk 1 still has both.
        assert_eq!(s.orphans(), [0]);
        assert_eq!(s.take_unasked(), [0]);
        assert!(
            s.take_unasked().is_empty(),
            "nothing changed: not asked again"
        );
        // A peer that failed for the chunk is not taken back for it.
        assert!(!s.add_holder(0, a));
        assert!(s.add_holder(0, b));
        assert!(!s.add_holder(0, b));
        assert!(s.orphans().is_empty());
        assert_eq!(s.pick(&b), Pick::Chunk(0));
        s.fail(0, b, FailureKind::BadDigest);
        // Something new was tried and failed: the refill is asked again.
        assert_eq!(s.take_unasked(), [0]);
        // A peer given up is not taken back either.
        s.give_up(c);
        assert!(!s.add_holder(0, c));
        assert!(!s.add_presumed(c));
        assert!(s.peers.contains_key(&b));
    }

    #[test]
    fn a_peer_given_up_takes_nothing_and_failures_are_reported() {
        let (a, b) = (peer(1), peer(2));
        let mut s = State::new(vec![vec![a, b], vec![a]], &[], 0);
        s.give_up(a);
        assert_eq!(s.pick(&a), Pick::Finished);
        assert_eq!(s.pick(&b), Pick::Chunk(0));
        s.fail(0, b, FailureKind::NotFound);
        assert_eq!(s.pick(&b), Pick::Finished);
        let missing = s.missing(&[[1; 20], [2; 20]]);
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].failures, vec![(b, FailureKind::NotFound)]);
        assert!(missing[1].failures.is_empty());
        assert!(missing[1]
            .to_string()
            .ends_with("its peers were unreachable"));
    }

    #[test]
    fn a_peer_with_two_wrong_digests_is_banned_and_its_chunks_go_to_the_others() {
        let (bad, good) = (peer(1), peer(2));
        // The liar is the only listed holder of chunks 0 and 1; good is presumed.
        let mut s = State::new(vec![vec![bad], vec![bad], vec![]], &[good], 3);
        let first = chunk(s.pick(&bad));
        assert!(s.fail(first, bad, FailureKind::BadDigest).is_empty());
        assert!(!s.dead.contains(&bad), "one bad chunk: charged, not banned");
        let second = chunk(s.pick(&bad));
        assert_ne!(first, second, "not asked again for the chunk it failed");
        assert_eq!(s.fail(second, bad, FailureKind::BadDigest), [bad]);
        assert_eq!(s.dead, [bad]);
        assert_eq!(s.pick(&bad), Pick::Finished);
        assert!(!s.add_holder(2, bad), "banned: not taken back");
        for _ in 0..3 {
            let i = chunk(s.pick(&good));
            s.done(i, good, 1);
        }
        assert_eq!(s.remaining(), 0);
    }

    #[test]
    fn resumed_chunks_are_never_picked() {
        let a = peer(1);
        let mut s = State::new(vec![vec![a], vec![a]], &[], 0);
        s.resumed(1, 5);
        assert_eq!(s.remaining(), 1);
        assert_eq!(s.pick(&a), Pick::Chunk(0));
        s.done(0, a, 5);
        assert_eq!(s.pick(&a), Pick::Finished);
        assert_eq!(s.peers[&a].chunks, 1, "a resumed chunk is nobody's");
    }
}
