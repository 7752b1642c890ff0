//! The search itself: candidates sorted by XOR distance to the target, at most `alpha`
//! requests holding a slot, a soft timeout that frees a slot, one retry of a slow
//! request, then announce_peer to the closest nodes that gave a token.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmlab_krpc::Id;

use super::{LookupId, LookupKind, LookupResult, Outcome, TraceEntry};

/// Where a candidate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not queried yet.
    Fresh,
    /// A query is out (`slow` once it passed the soft timeout).
    InFlight { tid: u32, slow: bool },
    /// It answered.
    Answered,
    /// Its query failed.
    Failed,
}

/// A node the lookup heard of.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    id: Option<Id>,
    pub(super) addr: SocketAddr,
    /// XOR distance to the target; ids unknown sort last.
    pub(super) distance: Id,
    /// 1 for a seed, h+1 for a node named by a hop-h node.
    hop: u32,
    state: State,
    /// Its announce token, once it answered a get_peers.
    token: Option<Vec<u8>>,
    /// Search queries sent to it.
    tries: u8,
    /// Its store request (announce_peer, put) went out.
    stored: bool,
}

/// Queries a lookup sends to one node at most: a request that passes the soft timeout
/// is sent once more (if the node is still among the k closest and no fresh candidate
/// there wants the slot). On a lossy network a lost query or reply would otherwise
/// drop the node from the result — for find_node of a node's id, the node itself.
pub const MAX_TRIES: u8 = 2;

/// Most candidates a lookup keeps (the farthest fresh ones are dropped beyond it).
pub const MAX_CANDIDATES: usize = 256;
/// Most peers a lookup collects.
pub const MAX_PEERS: usize = 10_000;

/// A request the node should send for a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Where to send the request.
    pub addr: SocketAddr,
    /// The node's id, when known.
    pub id: Option<Id>,
    /// `Some(token)` for announce_peer, `None` for the search query.
    pub announce_token: Option<Vec<u8>>,
    slot: usize,
}

/// An iterative lookup in progress.
#[derive(Debug)]
pub struct Lookup {
    /// The lookup's number, unique in its node.
    pub id: LookupId,
    /// What it does.
    pub kind: LookupKind,
    /// The node id or info-hash it looks for.
    pub target: Id,
    /// Not reported as an event (bootstrap and refresh lookups).
    pub internal: bool,
    started: Instant,
    k: usize,
    alpha: usize,
    /// Sorted by distance to the target.
    pub(super) candidates: Vec<Candidate>,
    peers: Vec<SocketAddr>,
    trace: Vec<TraceEntry>,
    /// tid → (candidate address, trace index, is announce).
    requests: Vec<(u32, SocketAddr, usize, bool)>,
    announcing: bool,
    announced: usize,
    finished: bool,
}

impl Lookup {
    /// A lookup of `target` started at `now`, returning the `k` closest nodes, with at
    /// most `alpha` requests in flight (both at least 1).
    pub fn new(
        id: LookupId,
        kind: LookupKind,
        target: Id,
        now: Instant,
        k: usize,
        alpha: usize,
    ) -> Lookup {
        Lookup {
            id,
            kind,
            target,
            internal: false,
            started: now,
            k: k.max(1),
            alpha: alpha.max(1),
            candidates: Vec::new(),
            peers: Vec::new(),
            trace: Vec::new(),
            requests: Vec::new(),
            announcing: false,
            announced: 0,
            finished: false,
        }
    }

    /// Adds a node to query (ignored if known, or if it is `ours`).
    pub fn add_candidate(&mut self, id: Option<Id>, addr: SocketAddr, hop: u32, ours: &Id) {
        if id.as_ref() == Some(ours) || addr.port() == 0 {
            return;
        }
        if self
            .candidates
            .iter()
            .any(|c| c.addr == addr || (id.is_some() && c.id == id))
        {
            return;
        }
        let distance = id
            .map(|i| i.distance(&self.target))
            .unwrap_or(Id([0xff; 20]));
        let pos = self.candidates.partition_point(|c| c.distance <= distance);
        if pos >= MAX_CANDIDATES {
            return;
        }
        self.candidates.insert(
            pos,
            Candidate {
                id,
                addr,
                distance,
                hop,
                state: State::Fresh,
                token: None,
                tries: 0,
                stored: false,
            },
        );
        if self.candidates.len() > MAX_CANDIDATES {
            if let Some(i) = self
                .candidates
                .iter()
                .rposition(|c| c.state == State::Fresh)
            {
                self.candidates.remove(i);
            }
        }
    }

    fn in_slots(&self) -> usize {
        self.candidates
            .iter()
            .filter(|c| matches!(c.state, State::InFlight { slow: false, .. }))
            .count()
    }

    /// Candidates the lookup holds (at most [`MAX_CANDIDATES`]).
    pub fn candidate_count(&self) -> usize {
        self.candidates.len()
    }

    /// Requests still awaiting an answer (slow ones included).
    pub fn pending(&self) -> usize {
        self.requests.len()
    }

    /// Whether the search phase is over: the k closest non-failed candidates answered.
    fn search_done(&self) -> bool {
        let mut seen = 0;
        for c in self.candidates.iter().filter(|c| c.state != State::Failed) {
            if c.state != State::Answered {
                return false;
            }
            seen += 1;
            if seen == self.k {
                break;
            }
        }
        true
    }

    /// The requests to send now. Call after every change; returns nothing once the
    /// lookup [`is_finished`](Self::is_finished).
    pub fn plan(&mut self) -> Vec<Planned> {
        if self.finished {
            return Vec::new();
        }
        if !self.announcing {
            let mut out = Vec::new();
            let mut free = self.alpha.saturating_sub(self.in_slots());
            // Fresh candidates among the k closest first, then retries of slow ones.
            for retry in [false, true] {
                let mut seen = 0;
                for (slot, c) in self.candidates.iter().enumerate() {
                    if free == 0 || seen == self.k {
                        break;
                    }
                    if c.state == State::Failed {
                        continue;
                    }
                    seen += 1;
                    let wanted = if retry {
                        matches!(c.state, State::InFlight { slow: true, .. }) && c.tries < MAX_TRIES
                    } else {
                        c.state == State::Fresh
                    };
                    if wanted {
                        out.push(Planned {
                            addr: c.addr,
                            id: c.id,
                            announce_token: None,
                            slot,
                        });
                        free -= 1;
                    }
                }
            }
            if !out.is_empty() || !self.search_done() {
                return out;
            }
            if self.kind.store_method().is_none() {
                self.finish();
                return Vec::new();
            }
            self.announcing = true;
        }
        // The store phase: one request to each of the k closest that answered with a
        // token. What was not sent yet (the outgoing cap stopped it) is planned again,
        // so no store is lost; the lookup ends once every one went out and none is
        // pending.
        let targets: Vec<Planned> = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == State::Answered && c.token.is_some())
            .take(self.k)
            .filter(|(_, c)| !c.stored)
            .map(|(slot, c)| Planned {
                addr: c.addr,
                id: c.id,
                announce_token: c.token.clone(),
                slot,
            })
            .collect();
        if targets.is_empty() && self.requests.iter().all(|r| !r.3) {
            self.finish();
        }
        targets
    }

    fn finish(&mut self) {
        self.finished = true;
        for (_, _, t, _) in self.requests.drain(..) {
            self.trace[t].outcome = Outcome::Abandoned;
        }
    }

    /// True once the lookup has nothing more to do.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Records that a planned request went out with transaction id `tid`.
    pub fn sent(&mut self, p: &Planned, tid: u32, now: Instant) {
        let announce = p.announce_token.is_some();
        let Some(c) = self.candidates.get_mut(p.slot).filter(|c| c.addr == p.addr) else {
            return;
        };
        if announce {
            c.stored = true;
        } else {
            c.state = State::InFlight { tid, slow: false };
            c.tries = c.tries.saturating_add(1);
        }
        let (hop, id) = (c.hop, c.id);
        self.trace.push(TraceEntry {
            hop,
            node: p.addr,
            id,
            distance_bits: id.map(|i| i.distance_bits(&self.target)),
            method: match self.kind.store_method() {
                Some(m) if announce => m,
                _ => self.kind.method(),
            },
            sent_ms: ms(now - self.started),
            rtt_ms: None,
            outcome: Outcome::Pending,
            nodes: 0,
            values: 0,
            token: false,
        });
        self.requests
            .push((tid, p.addr, self.trace.len() - 1, announce));
    }

    fn take_request(&mut self, tid: u32) -> Option<(SocketAddr, usize, bool)> {
        let i = self.requests.iter().position(|r| r.0 == tid)?;
        let (_, addr, t, a) = self.requests.swap_remove(i);
        Some((addr, t, a))
    }

    fn candidate_mut(&mut self, addr: SocketAddr) -> Option<&mut Candidate> {
        self.candidates.iter_mut().find(|c| c.addr == addr)
    }

    /// An answer to request `tid` from node `id`: the nodes it named, the peers it
    /// gave, its token. Returns false if `tid` is not one of this lookup's requests.
    #[allow(clippy::too_many_arguments)]
    pub fn on_response(
        &mut self,
        tid: u32,
        now: Instant,
        id: Id,
        nodes: &[(Id, SocketAddr)],
        values: &[SocketAddr],
        token: Option<&[u8]>,
        ours: &Id,
    ) -> bool {
        let Some((addr, t, announce)) = self.take_request(tid) else {
            return false;
        };
        let started = self.started;
        let entry = &mut self.trace[t];
        entry.rtt_ms = Some(ms(now - started) - entry.sent_ms);
        entry.outcome = Outcome::Answered;
        entry.nodes = nodes.len();
        entry.values = values.len();
        entry.token = token.is_some();
        if entry.id.is_none() {
            entry.id = Some(id);
            entry.distance_bits = Some(id.distance_bits(&self.target));
        }
        if announce {
            self.announced += 1;
            return true;
        }
        let target = self.target;
        let mut hop = 1;
        if let Some(c) = self.candidate_mut(addr) {
            c.state = State::Answered;
            c.token = token.map(<[u8]>::to_vec);
            hop = c.hop;
            if c.id != Some(id) {
                // Learned (or corrected) the id: re-sort this candidate.
                c.id = Some(id);
                c.distance = id.distance(&target);
                self.candidates.sort_by_key(|c| c.distance);
            }
        }
        for (nid, naddr) in nodes {
            self.add_candidate(Some(*nid), *naddr, hop + 1, ours);
        }
        for v in values {
            if self.peers.len() < MAX_PEERS && !self.peers.contains(v) {
                self.peers.push(*v);
            }
        }
        true
    }

    /// Request `tid` failed (timeout, error reply, invalid reply).
    pub fn on_failure(&mut self, tid: u32, outcome: Outcome) -> bool {
        let Some((addr, t, announce)) = self.take_request(tid) else {
            return false;
        };
        self.trace[t].outcome = outcome;
        if !announce {
            if let Some(c) = self.candidate_mut(addr) {
                // A retry still pending keeps the candidate alive.
                if matches!(c.state, State::InFlight { tid: t, .. } if t == tid) {
                    c.state = State::Failed;
                }
            }
        }
        true
    }

    /// Request `tid` passed the soft timeout: it no longer holds a slot.
    pub fn on_slow(&mut self, tid: u32) {
        for c in &mut self.candidates {
            if let State::InFlight { tid: t, slow } = &mut c.state {
                if *t == tid {
                    *slow = true;
                }
            }
        }
    }

    /// The transaction ids still pending (to cancel them when the lookup ends).
    pub fn pending_tids(&self) -> Vec<u32> {
        self.requests.iter().map(|r| r.0).collect()
    }

    /// The result; call once [`is_finished`](Self::is_finished).
    pub fn result(self, now: Instant) -> LookupResult {
        let closest: Vec<(Id, SocketAddr, u32)> = self
            .candidates
            .iter()
            .filter(|c| c.state == State::Answered)
            .filter_map(|c| c.id.map(|id| (id, c.addr, c.hop)))
            .take(self.k)
            .collect();
        let responses = self
            .trace
            .iter()
            .filter(|t| t.outcome == Outcome::Answered)
            .count();
        let timeouts = self
            .trace
            .iter()
            .filter(|t| t.outcome == Outcome::TimedOut)
            .count();
        LookupResult {
            id: self.id,
            kind: self.kind,
            target: self.target,
            hops: closest.iter().map(|c| c.2).max().unwrap_or(0),
            closest: closest.into_iter().map(|(i, a, _)| (i, a)).collect(),
            peers: self.peers,
            announced: self.announced,
            messages: self.trace.len(),
            responses,
            timeouts,
            elapsed_ms: ms(now - self.started),
            trace: self.trace,
            item: None,
        }
    }

    /// When the lookup started.
    pub fn started(&self) -> Instant {
        self.started
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
