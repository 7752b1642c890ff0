//! The work the workers share: which chunk each peer fetches next.
//!
//! Chunks are counted by unique hash (a file may repeat a chunk). A peer's worker takes,
//! among the missing chunks its peer holds, the one the fewest other usable peers hold
//! (rarest first; ties by index), so each peer starts with what only it has and
//! shared chunks go to whichever peer is free.
//!
//! A peer holds the chunks it is listed for, or, when it is *presumed* (a peer of the
//! file whose holdings are unknown), every chunk: presumed peers are one list, not a
//! copy in every chunk's. Holders may be added while the download runs
//! ([`State::add_holder`], [`State::add_presumed`], from a refill), at most
//! [`MAX_HOLDERS_PER_CHUNK`] per chunk; a chunk left with no usable holder is an
//! *orphan* ([`State::orphans`]), which the supervisor of the download asks its refill
//! for, once per change of what was tried for it ([`State::take_unasked`]).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_course_wire::ChunkHash;

use crate::engine::{FailureKind, PeerReport};
use crate::error::MissingChunk;

/// Most peers listed for one chunk (presumed peers apart); more are ignored. With
/// 65,535 chunks this bounds the lists at a few tens of MiB, whatever peers say.
pub const MAX_HOLDERS_PER_CHUNK: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Missing,
    InFlight,
    Done,
}

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
#[derive(Default)]
pub(crate) struct State {
    pub(crate) status: Vec<Status>,
    pub(crate) holders: Vec<Vec<SocketAddr>>,
    /// Peers presumed to hold every chunk.
    pub(crate) presumed: Vec<SocketAddr>,
    /// Peers that failed for this chunk, with why.
    pub(crate) failed: Vec<Vec<(SocketAddr, FailureKind)>>,
    pub(crate) dead: Vec<SocketAddr>,
    pub(crate) remaining: usize,
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

impl State {
    /// Every chunk missing, with its holders (at most [`MAX_HOLDERS_PER_CHUNK`]
    /// each) and the peers presumed to hold everything; every peer has a report.
    pub(crate) fn new(holders: Vec<Vec<SocketAddr>>, presumed: &[SocketAddr]) -> State {
        let n = holders.len();
        let mut s = State {
            status: vec![Status::Missing; n],
            holders: vec![Vec::new(); n],
            presumed: Vec::new(),
            failed: vec![Vec::new(); n],
            dead: Vec::new(),
            remaining: n,
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

    fn report(&mut self, peer: SocketAddr) {
        self.peers.entry(peer).or_insert_with(|| PeerReport {
            addr: peer.to_string(),
            ..Default::default()
        });
    }

    /// True when `peer` is listed for chunk `i` or presumed to hold every chunk.
    fn holds(&self, i: usize, peer: &SocketAddr) -> bool {
        self.holders[i].contains(peer) || self.presumed.contains(peer)
    }

    /// Adds `peer` as a holder of chunk `i`; false when it already holds it (listed
    /// or presumed), was given up, already failed for this chunk, or the chunk has
    /// [`MAX_HOLDERS_PER_CHUNK`] (nothing changes then).
    pub(crate) fn add_holder(&mut self, i: usize, peer: SocketAddr) -> bool {
        if i >= self.holders.len()
            || self.holds(i, &peer)
            || self.holders[i].len() >= MAX_HOLDERS_PER_CHUNK
            || self.dead.contains(&peer)
            || self.failed[i].iter().any(|(q, _)| *q == peer)
        {
            return false;
        }
        self.holders[i].push(peer);
        self.report(peer);
        true
    }

    /// Adds `peer` as presumed to hold every chunk; false when it already is, or was
    /// given up.
    pub(crate) fn add_presumed(&mut self, peer: SocketAddr) -> bool {
        if self.presumed.contains(&peer) || self.dead.contains(&peer) {
            return false;
        }
        self.presumed.push(peer);
        self.report(peer);
        true
    }

    /// The usable peers of chunk `i`: its listed holders, then the presumed ones.
    fn usable_count(&self, i: usize) -> usize {
        let listed = self.holders[i].iter().filter(|p| self.usable(i, p)).count();
        let presumed = self
            .presumed
            .iter()
            .filter(|p| !self.holders[i].contains(p) && self.usable(i, p))
            .count();
        listed + presumed
    }

    /// The chunks not done and not in flight that no usable peer holds.
    pub(crate) fn orphans(&self) -> Vec<usize> {
        (0..self.status.len())
            .filter(|&i| self.status[i] == Status::Missing && self.usable_count(i) == 0)
            .collect()
    }

    /// What has been tried for chunk `i`: its holders, its failures, the peers given up.
    fn tried(&self, i: usize) -> (usize, usize, usize) {
        (
            self.holders[i].len() + self.presumed.len(),
            self.failed[i].len(),
            self.dead.len(),
        )
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

    fn usable(&self, i: usize, p: &SocketAddr) -> bool {
        !self.dead.contains(p) && !self.failed[i].iter().any(|(q, _)| q == p)
    }

    pub(crate) fn pick(&mut self, peer: &SocketAddr) -> Pick {
        if self.remaining == 0 || self.dead.contains(peer) {
            return Pick::Finished;
        }
        let mut best: Option<(usize, usize)> = None;
        let mut could_wait = false;
        for i in 0..self.status.len() {
            if self.status[i] == Status::Done || !self.holds(i, peer) || !self.usable(i, peer) {
                continue;
            }
            if self.status[i] == Status::InFlight {
                could_wait = true;
                continue;
            }
            let others = self.usable_count(i);
            if best.is_none_or(|(_, n)| others < n) {
                best = Some((i, others));
            }
        }
        match best {
            Some((i, _)) => {
                self.status[i] = Status::InFlight;
                Pick::Chunk(i)
            }
            None if could_wait => Pick::Wait,
            None => Pick::Finished,
        }
    }

    /// A chunk was already on disk, verified.
    pub(crate) fn resumed(&mut self, i: usize, size: u64) {
        self.status[i] = Status::Done;
        self.sizes[i] = size;
        self.remaining -= 1;
    }

    /// `peer` gave chunk `i`, verified and written.
    pub(crate) fn done(&mut self, i: usize, peer: SocketAddr, size: u64) {
        self.first_done.get_or_insert_with(Instant::now);
        self.status[i] = Status::Done;
        self.sizes[i] = size;
        self.remaining -= 1;
        let r = self.peers.entry(peer).or_default();
        r.chunks += 1;
        r.bytes += size;
    }

    /// `peer` failed for chunk `i`: the chunk goes back to the others.
    pub(crate) fn fail(&mut self, i: usize, peer: SocketAddr, kind: FailureKind) {
        self.status[i] = Status::Missing;
        self.failed[i].push((peer, kind));
        self.count(peer, kind);
    }

    /// No connection to `peer` for chunk `i`: the chunk goes back, not failed for this
    /// peer (the next connection may work).
    pub(crate) fn not_connected(&mut self, i: usize, peer: SocketAddr) {
        self.status[i] = Status::Missing;
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

    /// `peer` is given up: it gets no more chunks.
    pub(crate) fn give_up(&mut self, peer: SocketAddr) {
        self.dead.push(peer);
    }

    /// The chunks not done, with what each peer did for them.
    pub(crate) fn missing(&self, unique: &[ChunkHash]) -> Vec<MissingChunk> {
        (0..self.status.len())
            .filter(|&i| self.status[i] != Status::Done)
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

    #[test]
    fn rarest_first_then_shared_to_whoever_is_free() {
        let (a, b) = (peer(1), peer(2));
        // 0: a, 1: a+b, 2: b, 3: a+b.
        let mut s = State::new(vec![vec![a], vec![a, b], vec![b], vec![a, b]], &[]);
        assert_eq!(s.pick(&a), Pick::Chunk(0));
        assert_eq!(s.pick(&b), Pick::Chunk(2));
        // Then the shared ones, lowest index first.
        assert_eq!(s.pick(&a), Pick::Chunk(1));
        assert_eq!(s.pick(&b), Pick::Chunk(3));
        // Nothing left to take, but everything in flight could come back.
        assert_eq!(s.pick(&a), Pick::Wait);
        s.done(0, a, 10);
        s.done(2, b, 10);
        s.done(3, b, 10);
        assert_eq!(s.pick(&b), Pick::Wait);
        // a fails chunk 1: it goes to b, and a is finished.
        s.fail(1, a, FailureKind::BadDigest);
        assert_eq!(s.pick(&a), Pick::Finished);
        assert_eq!(s.pick(&b), Pick::Chunk(1));
        s.done(1, b, 10);
        assert_eq!(s.remaining, 0);
        assert_eq!(s.pick(&b), Pick::Finished);
        assert_eq!(s.peers[&b].chunks, 3);
        assert_eq!(s.peers[&a].failures[&FailureKind::BadDigest], 1);
    }

    #[test]
    fn presumed_peers_hold_every_chunk_until_they_fail_for_it() {
        let (a, b) = (peer(1), peer(2));
        // Chunk 0 listed at a; b presumed to hold everything.
        let mut s = State::new(vec![vec![a], vec![]], &[b]);
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
        let mut s = State::new(vec![vec![]], &[]);
        for n in 0..MAX_HOLDERS_PER_CHUNK as u16 + 10 {
            s.add_holder(0, peer(n + 1));
        }
        assert_eq!(s.holders[0].len(), MAX_HOLDERS_PER_CHUNK);
        assert_eq!(s.peers.len(), MAX_HOLDERS_PER_CHUNK);
    }

    #[test]
    fn orphans_are_asked_for_once_per_change_and_new_holders_revive_them() {
        let (a, b, c) = (peer(1), peer(2), peer(3));
        let mut s = State::new(vec![vec![a], vec![a, b]], &[]);
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
        assert!(s.peers.contains_key(&b));
    }

    #[test]
    fn a_peer_given_up_takes_nothing_and_failures_are_reported() {
        let (a, b) = (peer(1), peer(2));
        let mut s = State::new(vec![vec![a, b], vec![a]], &[]);
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
}
