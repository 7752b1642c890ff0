//! Iterative lookups (find_node, get_peers, announce), as pure bookkeeping.
//!
//! A [`Lookup`] keeps the candidates it has heard of, sorted by XOR distance to the
//! target, and decides which to query next; the node sends the queries and feeds the
//! answers back. The search is done when the `k` closest candidates that have not
//! failed have all answered. At most `alpha` requests hold a slot at once; a request
//! older than the soft timeout stops holding its slot (it may still answer until the
//! hard timeout). An announce lookup then sends `announce_peer` to the `k` closest
//! nodes that gave a token and waits for their answers. Every request is traced.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;
use swarmlab_krpc::Id;

/// Identifies a lookup of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LookupId(pub u64);

/// What a lookup does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LookupKind {
    /// Finds the nodes closest to the target.
    FindNode,
    /// Finds peers of an info-hash (and the closest nodes).
    GetPeers,
    /// get_peers, then announce_peer to the closest nodes that gave a token.
    /// `port: None` announces with `implied_port` (the UDP source port).
    Announce { port: Option<u16> },
}

impl LookupKind {
    /// The query sent during the search.
    pub fn method(&self) -> &'static str {
        match self {
            LookupKind::FindNode => "find_node",
            LookupKind::GetPeers | LookupKind::Announce { .. } => "get_peers",
        }
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Answered,
    TimedOut,
    /// A KRPC error reply (code, message) or an invalid reply.
    Error {
        code: i64,
        message: String,
    },
    /// The lookup ended before the request was answered.
    Abandoned,
}

/// One request of a lookup, for its trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEntry {
    /// 1 for nodes the lookup started from, h+1 for nodes a hop-h node named.
    pub hop: u32,
    pub node: SocketAddr,
    /// The node's id, when known (bootstrap addresses have none until they answer).
    pub id: Option<Id>,
    /// 160 − common prefix length with the target (0: the target itself).
    pub distance_bits: Option<u32>,
    pub method: &'static str,
    /// Milliseconds from the lookup's start.
    pub sent_ms: f64,
    pub rtt_ms: Option<f64>,
    pub outcome: Outcome,
    pub nodes: usize,
    pub values: usize,
    pub token: bool,
}

/// The result of a finished lookup.
#[derive(Debug, Clone, Serialize)]
pub struct LookupResult {
    pub id: LookupId,
    pub kind: LookupKind,
    pub target: Id,
    /// The k closest nodes that answered, closest first.
    pub closest: Vec<(Id, SocketAddr)>,
    /// Peers found (get_peers and announce), without duplicates.
    pub peers: Vec<SocketAddr>,
    /// Nodes that acknowledged our announce_peer.
    pub announced: usize,
    /// Highest hop among the k closest.
    pub hops: u32,
    /// Requests sent.
    pub messages: usize,
    pub responses: usize,
    pub timeouts: usize,
    pub elapsed_ms: f64,
    pub trace: Vec<TraceEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Fresh,
    InFlight { tid: u32, slow: bool },
    Answered,
    Failed,
}

#[derive(Debug, Clone)]
struct Candidate {
    id: Option<Id>,
    addr: SocketAddr,
    /// XOR distance to the target; ids unknown sort last.
    distance: Id,
    hop: u32,
    state: State,
    token: Option<Vec<u8>>,
    /// Search queries sent to it.
    tries: u8,
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
    pub addr: SocketAddr,
    pub id: Option<Id>,
    /// `Some(token)` for announce_peer, `None` for the search query.
    pub announce_token: Option<Vec<u8>>,
    slot: usize,
}

/// An iterative lookup in progress.
#[derive(Debug)]
pub struct Lookup {
    pub id: LookupId,
    pub kind: LookupKind,
    pub target: Id,
    /// Not reported as an event (bootstrap and refresh lookups).
    pub internal: bool,
    started: Instant,
    k: usize,
    alpha: usize,
    candidates: Vec<Candidate>,
    peers: Vec<SocketAddr>,
    trace: Vec<TraceEntry>,
    /// tid → (candidate address, trace index, is announce).
    requests: Vec<(u32, SocketAddr, usize, bool)>,
    announcing: bool,
    announced: usize,
    finished: bool,
}

impl Lookup {
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
            if let LookupKind::Announce { .. } = self.kind {
                self.announcing = true;
                let targets: Vec<Planned> = self
                    .candidates
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.state == State::Answered && c.token.is_some())
                    .take(self.k)
                    .map(|(slot, c)| Planned {
                        addr: c.addr,
                        id: c.id,
                        announce_token: c.token.clone(),
                        slot,
                    })
                    .collect();
                if !targets.is_empty() {
                    return targets;
                }
            }
            self.finish();
            return Vec::new();
        }
        if self.requests.iter().all(|r| !r.3) {
            self.finish();
        }
        Vec::new()
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
        if !announce {
            c.state = State::InFlight { tid, slow: false };
            c.tries = c.tries.saturating_add(1);
        }
        let (hop, id) = (c.hop, c.id);
        self.trace.push(TraceEntry {
            hop,
            node: p.addr,
            id,
            distance_bits: id.map(|i| i.distance_bits(&self.target)),
            method: if announce {
                "announce_peer"
            } else {
                self.kind.method()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 6881))
    }

    fn id(b: u8) -> Id {
        let mut x = [0u8; 20];
        x[0] = b;
        Id(x)
    }

    #[test]
    fn queries_alpha_closest_then_finishes_when_k_closest_answered() {
        let t0 = Instant::now();
        let ours = id(0xff);
        let mut l = Lookup::new(LookupId(1), LookupKind::FindNode, id(0), t0, 2, 2);
        for b in [8u8, 4, 2, 1] {
            l.add_candidate(Some(id(b)), addr(b as u16), 1, &ours);
        }
        let p = l.plan();
        assert_eq!(
            p.iter().map(|p| p.addr).collect::<Vec<_>>(),
            [addr(1), addr(2)]
        );
        l.sent(&p[0], 10, t0);
        l.sent(&p[1], 11, t0);
        assert!(l.plan().is_empty()); // both slots busy
                                      // Node 1 answers and names a closer node: it is queried next.
        assert!(l.on_response(
            10,
            t0,
            id(1),
            &[(id(0x01 ^ 0x01), addr(99))],
            &[],
            None,
            &ours
        ));
        let p = l.plan();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].addr, addr(99));
        l.sent(&p[0], 12, t0);
        // Node 2 times out: node 4 is now among the 2 closest non-failed... but
        // node 99 (distance 0) and node 1 are the 2 closest; once 99 answers, done.
        assert!(l.on_failure(11, Outcome::TimedOut));
        assert!(l.plan().is_empty());
        assert!(l.on_response(12, t0, id(0), &[], &[], None, &ours));
        assert!(l.plan().is_empty());
        assert!(l.is_finished());
        let r = l.result(t0);
        assert_eq!(
            r.closest.iter().map(|c| c.1).collect::<Vec<_>>(),
            [addr(99), addr(1)]
        );
        assert_eq!(r.messages, 3);
        assert_eq!(r.timeouts, 1);
        assert_eq!(r.hops, 2);
    }

    #[test]
    fn slow_requests_release_their_slot() {
        let t0 = Instant::now();
        let ours = id(0xff);
        let mut l = Lookup::new(LookupId(1), LookupKind::FindNode, id(0), t0, 8, 1);
        l.add_candidate(Some(id(1)), addr(1), 1, &ours);
        l.add_candidate(Some(id(2)), addr(2), 1, &ours);
        let p = l.plan();
        assert_eq!(p.len(), 1);
        l.sent(&p[0], 1, t0);
        assert!(l.plan().is_empty());
        l.on_slow(1);
        let p = l.plan();
        assert_eq!(p[0].addr, addr(2));
        // The slow one may still answer.
        assert!(l.on_response(1, t0, id(1), &[], &[], None, &ours));
    }

    #[test]
    fn announce_goes_to_the_closest_with_tokens() {
        let t0 = Instant::now();
        let ours = id(0xff);
        let mut l = Lookup::new(
            LookupId(1),
            LookupKind::Announce { port: Some(1) },
            id(0),
            t0,
            8,
            3,
        );
        for b in 1..=3u8 {
            l.add_candidate(Some(id(b)), addr(b as u16), 1, &ours);
        }
        let p = l.plan();
        for (i, q) in p.iter().enumerate() {
            l.sent(q, i as u32, t0);
        }
        l.on_response(0, t0, id(1), &[], &[addr(500)], Some(b"tok"), &ours);
        l.on_response(1, t0, id(2), &[], &[addr(500), addr(501)], None, &ours);
        l.on_response(2, t0, id(3), &[], &[], Some(b"t3"), &ours);
        let p = l.plan();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].announce_token.as_deref(), Some(&b"tok"[..]));
        l.sent(&p[0], 7, t0);
        l.sent(&p[1], 8, t0);
        assert!(!l.is_finished());
        l.on_response(7, t0, id(1), &[], &[], None, &ours);
        l.on_failure(8, Outcome::TimedOut);
        assert!(l.plan().is_empty());
        assert!(l.is_finished());
        let r = l.result(t0);
        assert_eq!(r.announced, 1);
        assert_eq!(r.peers, vec![addr(500), addr(501)]);
        assert_eq!(
            r.trace
                .iter()
                .filter(|t| t.method == "announce_peer")
                .count(),
            2
        );
    }

    #[test]
    fn candidates_are_bounded_and_deduplicated() {
        let t0 = Instant::now();
        let ours = id(0xff);
        let mut l = Lookup::new(LookupId(1), LookupKind::FindNode, Id::ZERO, t0, 8, 3);
        for i in 0..2000u32 {
            let mut x = [0u8; 20];
            x[..4].copy_from_slice(&i.to_be_bytes());
            l.add_candidate(Some(Id(x)), addr(i as u16), 1, &ours);
            l.add_candidate(Some(Id(x)), addr(i as u16), 1, &ours);
        }
        assert!(l.candidates.len() <= MAX_CANDIDATES);
        assert!(l
            .candidates
            .windows(2)
            .all(|w| w[0].distance < w[1].distance));
        l.add_candidate(Some(ours), addr(60000), 1, &ours);
        assert!(!l.candidates.iter().any(|c| c.addr == addr(60000)));
    }
}
