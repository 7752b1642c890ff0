//! The work the workers share: which chunk each peer fetches next.
//!
//! Chunks are counted by unique hash (a file may repeat a chunk). A peer's worker takes,
//! among the missing chunks its peer holds, the one the fewest other usable peers hold
//! (rarest first; ties by index), so each peer starts with what only it has and
//! shared chunks go to whichever peer is free.
//!
//! Holders may be added while the download runs ([`State::add_holder`], from a
//! refill); a chunk left with no usable holder is an *orphan* ([`State::orphans`]),
//! which the supervisor of the download asks its refill for, once per change of what
//! was tried for it ([`State::take_unasked`]).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_course_wire::ChunkHash;

use crate::engine::{FailureKind, PeerReport};
use crate::error::MissingChunk;

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
    /// Every chunk missing, with its holders; every holder has a report.
    pub(crate) fn new(holders: Vec<Vec<SocketAddr>>) -> State {
        let n = holders.len();
        let mut peers = HashMap::new();
        for p in holders.iter().flatten() {
            peers.entry(*p).or_insert_with(|| PeerReport {
                addr: p.to_string(),
                ..Default::default()
            });
        }
        State {
            status: vec![Status::Missing; n],
            holders,
            failed: vec![Vec::new(); n],
            dead: Vec::new(),
            remaining: n,
            sizes: vec![0; n],
            peers,
            running: HashSet::new(),
            asked: vec![None; n],
            first_done: None,
        }
    }

    /// Adds `peer` as a holder of chunk `i`; false when it already is one, was given
    /// up, or already failed for this chunk (nothing changes then).
    pub(crate) fn add_holder(&mut self, i: usize, peer: SocketAddr) -> bool {
        if i >= self.holders.len()
            || self.holders[i].contains(&peer)
            || self.dead.contains(&peer)
            || self.failed[i].iter().any(|(q, _)| *q == peer)
        {
            return false;
        }
        self.holders[i].push(peer);
        self.peers.entry(peer).or_insert_with(|| PeerReport {
            addr: peer.to_string(),
            ..Default::default()
        });
        true
    }

    /// The chunks not done and not in flight that no usable peer holds.
    pub(crate) fn orphans(&self) -> Vec<usize> {
        (0..self.status.len())
            .filter(|&i| {
                self.status[i] == Status::Missing
                    && !self.holders[i].iter().any(|p| self.usable(i, p))
            })
            .collect()
    }

    /// What has been tried for chunk `i`: its holders, its failures, the peers given up.
    fn tried(&self, i: usize) -> (usize, usize, usize) {
        (self.holders[i].len(), self.failed[i].len(), self.dead.len())
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

    /// Every peer, in the order first met in the holders.
    pub(crate) fn peer_list(&self) -> Vec<SocketAddr> {
        let mut peers: Vec<SocketAddr> = Vec::new();
        for p in self.holders.iter().flatten() {
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
            if self.status[i] == Status::Done
                || !self.holders[i].contains(peer)
                || !self.usable(i, peer)
            {
                continue;
            }
            if self.status[i] == Status::InFlight {
                could_wait = true;
                continue;
            }
            let others = self.holders[i].iter().filter(|p| self.usable(i, p)).count();
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
                holders: self.holders[i].len(),
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
        let mut s = State::new(vec![vec![a], vec![a, b], vec![b], vec![a, b]]);
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
    fn orphans_are_asked_for_once_per_change_and_new_holders_revive_them() {
        let (a, b, c) = (peer(1), peer(2), peer(3));
        let mut s = State::new(vec![vec![a], vec![a, b]]);
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
        let mut s = State::new(vec![vec![a, b], vec![a]]);
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
