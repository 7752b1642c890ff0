//! [`Node`]: one member of a stream's swarm, sans-IO: the source (it cuts its input
//! into signed pieces and pushes each to a few peers) or a viewer (it verifies what
//! its peers announce and send, fetches what it lacks, writes the stream out in
//! order, and serves what it holds). Peers are the driver's connections, named by a
//! [`PeerKey`]; messages are `sl_stream` payloads ([`crate::wire`]).
//!
//! # The order of calls
//!
//! 1. **Start**: [`Node::source`] (with the signing key) or [`Node::viewer`] (with
//!    the [`StreamId`]).
//! 2. **Peers**: [`Node::add_peer`] once a connection's extension handshake offers
//!    `sl_stream` (the node sends it the pieces it holds), [`Node::remove_peer`]
//!    when it ends.
//! 3. **Input**: [`Node::handle_message`] for each `sl_stream` payload. An `Err`
//!    ([`Hostile`]) means the peer broke the protocol: the node has already
//!    forgotten it and counted it; the driver closes the connection and bans it.
//!    The source also gets [`Node::push_input`] (bytes read) and
//!    [`Node::finish_input`] (end of input).
//! 4. **Time**: [`Node::handle_timeout`] when [`Node::poll_timeout`] is reached
//!    (flushing a short piece, request timeouts, the source fallback, the end).
//! 5. **Output**, after each of these: send what [`Node::poll_transmit`] gives to
//!    its peer, write what [`Node::poll_output`] gives (viewer; call it only when
//!    the output can take it: pieces wait in the window meanwhile), drain
//!    [`Node::poll_event`], and stop once [`Node::is_done`].
//!
//! # Files
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`Node`], [`NodeConfig`], [`NodeEvent`], [`NodeStats`], peers, polling |
//! | `input.rs` | the peer's messages: checks, verification, requests served |
//! | `source.rs` | cutting the input into pieces, signing, pushing |
//! | `viewer.rs` | choosing whom to ask for which piece, timeouts, in-order output, gaps |

mod input;
mod source;
mod viewer;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use serde::Serialize;

use crate::error::Hostile;
use crate::id::StreamId;
use crate::window::Window;
use crate::wire::Message;

/// The driver's name for a peer (one per connection).
pub type PeerKey = u64;

/// Largest piece number accepted: no honest stream gets near it (2^48 pieces).
pub const MAX_NUMBER: u64 = 1 << 48;
/// How far beyond the newest known piece an announcement may be before it is
/// absurd (checked before the signature, so a flood of far-future numbers costs no
/// signature checks): 2^20 pieces, a day of a stream of 12 pieces a second.
pub const MAX_AHEAD: u64 = 1 << 20;
/// Times one peer may request the same piece from us.
pub const MAX_SERVES_PER_PIECE: u8 = 3;

/// How a node behaves. [`NodeConfig::default`] gives the defaults.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Pieces kept (default 128): memory is bounded by `window` pieces of at most
    /// [`crate::MAX_PIECE_SIZE`] bytes; a viewer that falls further behind skips.
    pub window: usize,
    /// Source: bytes per piece (default 16 KiB, at most [`crate::MAX_PIECE_SIZE`]).
    pub piece_size: usize,
    /// Source: a piece not yet full is sent anyway this long after its first byte
    /// (default 50 ms), so a slow source still flows.
    pub flush_after: Duration,
    /// Source: viewers each new piece is pushed to (default 2); the others get
    /// its announcement and fetch it from those.
    pub fanout: usize,
    /// Viewer: how long a piece only the source has waits for another peer to
    /// announce it before the viewer asks the source (default 300 ms). Without any
    /// other peer the viewer asks the source at once.
    pub source_grace: Duration,
    /// Viewer: a request unanswered this long is asked elsewhere (default 4 s).
    pub request_timeout: Duration,
    /// Viewer: requests in flight to one peer (default 8).
    pub max_requests_per_peer: usize,
    /// Viewer: requests in flight in all (default 32).
    pub max_requests: usize,
    /// After the last piece (source: made; viewer: written), how long the node
    /// stays to serve peers that do not have it yet (default 10 s); a viewer also
    /// skips pieces still missing this long after the last one was announced.
    pub end_linger: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            window: 128,
            piece_size: 16 * 1024,
            flush_after: Duration::from_millis(50),
            fanout: 2,
            source_grace: Duration::from_millis(300),
            request_timeout: Duration::from_secs(4),
            max_requests_per_peer: 8,
            max_requests: 32,
            end_linger: Duration::from_secs(10),
        }
    }
}

/// What a node reports besides its messages and output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// Viewer: pieces `from..to` fell out of the window (or never came before the
    /// end) and were skipped.
    Gap {
        /// First piece skipped.
        from: u64,
        /// One past the last piece skipped.
        to: u64,
    },
    /// The last piece was made (source) or written (viewer).
    Finished,
}

/// Hostile messages counted, by kind ([`Hostile`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostileCounts {
    /// Messages that did not decode.
    pub malformed: u64,
    /// Forged signatures.
    pub bad_signature: u64,
    /// Wrong piece data.
    pub wrong_data: u64,
    /// Absurd piece numbers.
    pub absurd_number: u64,
    /// Repeated requests.
    pub repeated_request: u64,
}

/// What a node counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    /// Source: pieces made.
    pub pieces_made: u64,
    /// Viewer: pieces received and checked (fetched or pushed).
    pub pieces_received: u64,
    /// Pieces received that we already held.
    pub duplicates: u64,
    /// Viewer: pieces written out.
    pub pieces_written: u64,
    /// Viewer: bytes written out.
    pub bytes_written: u64,
    /// Viewer: pieces skipped (gaps).
    pub pieces_skipped: u64,
    /// Pieces sent to peers (pushed or requested).
    pub pieces_uploaded: u64,
    /// Their bytes (data only).
    pub piece_bytes_uploaded: u64,
    /// Of those, source pushes.
    pub pushes: u64,
    /// Viewer: requests sent.
    pub requests_sent: u64,
    /// Viewer: requests that timed out.
    pub request_timeouts: u64,
    /// Viewer: `dont_have` answers to our requests.
    pub dont_haves: u64,
    /// Announcements of one number with two contents (a source signing twice).
    pub conflicts: u64,
    /// Peers dropped for hostile messages, by kind.
    pub hostile: HostileCounts,
}

impl HostileCounts {
    fn count(&mut self, h: &Hostile) {
        match h {
            Hostile::Malformed(_) => self.malformed += 1,
            Hostile::BadSignature(_) => self.bad_signature += 1,
            Hostile::WrongData(_) => self.wrong_data += 1,
            Hostile::AbsurdNumber(_) => self.absurd_number += 1,
            Hostile::RepeatedRequest(_) => self.repeated_request += 1,
        }
    }
}

/// A peer as the node sees it.
#[derive(Debug, Default)]
struct Peer {
    /// It announced itself as the source (BEP 21 `upload_only`, which only the
    /// source sets): asked only as a fallback.
    source: bool,
    /// Pieces in the window it has (it announced them, or we sent them).
    has: BTreeSet<u64>,
    /// Our requests in flight to it.
    inflight: usize,
    /// Its requests served, per piece.
    served: BTreeMap<u64, u8>,
    /// It told us it has the last piece (an announcement or the piece from it).
    has_last: bool,
}

/// A viewer's fetch of one piece.
#[derive(Debug)]
struct Fetch {
    /// The peer asked, while in flight.
    peer: Option<PeerKey>,
    /// When it was asked.
    at: Instant,
    /// Peers that timed out or said `dont_have`.
    tried: Vec<PeerKey>,
}

/// The source's state.
#[derive(Debug)]
struct Source {
    key: SigningKey,
    /// The piece being filled.
    buf: Vec<u8>,
    /// When it is flushed even if not full.
    flush_at: Option<Instant>,
    /// The next piece's number.
    next: u64,
    /// Rotates which viewers get the pushes.
    rotation: usize,
}

/// A member of a stream's swarm. See the [module documentation](self).
#[derive(Debug)]
pub struct Node {
    id: StreamId,
    cfg: NodeConfig,
    source: Option<Source>,
    window: Window,
    peers: BTreeMap<PeerKey, Peer>,
    transmits: VecDeque<(PeerKey, Vec<u8>)>,
    events: VecDeque<NodeEvent>,
    stats: NodeStats,
    /// Viewer: the next piece to write.
    next_out: Option<u64>,
    /// Viewer: something was written (the start may no longer move back).
    started: bool,
    fetches: BTreeMap<u64, Fetch>,
    /// The last piece's number and when its announcement arrived.
    last: Option<(u64, Instant)>,
    /// When the last piece was made (source) or written (viewer).
    finished_at: Option<Instant>,
    /// Viewer: skip what is still missing (the end came and went).
    skip_missing: bool,
}

impl Node {
    fn new(id: StreamId, cfg: NodeConfig, source: Option<Source>) -> Node {
        Node {
            id,
            window: Window::new(cfg.window),
            cfg,
            source,
            peers: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: NodeStats::default(),
            next_out: None,
            started: false,
            fetches: BTreeMap::new(),
            last: None,
            finished_at: None,
            skip_missing: false,
        }
    }

    /// The source of the stream signed by `key`.
    pub fn source(key: SigningKey, cfg: NodeConfig) -> Node {
        let id = StreamId::new(key.verifying_key());
        let s = Source {
            key,
            buf: Vec::new(),
            flush_at: None,
            next: 0,
            rotation: 0,
        };
        Node::new(id, cfg, Some(s))
    }

    /// A viewer of stream `id`.
    pub fn viewer(id: StreamId, cfg: NodeConfig) -> Node {
        Node::new(id, cfg, None)
    }

    /// The stream.
    pub fn id(&self) -> &StreamId {
        &self.id
    }

    /// True for the source.
    pub fn is_source(&self) -> bool {
        self.source.is_some()
    }

    /// What the node counted.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// Peers known.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// The window (pieces known and held).
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// A connection's peer speaks `sl_stream`; `source` when it says it is the
    /// source. It is sent the announcements of every piece we hold, oldest first.
    pub fn add_peer(&mut self, now: Instant, key: PeerKey, source: bool) {
        let held: Vec<Vec<u8>> = self
            .window
            .held()
            .map(|a| Message::Announce(*a).encode())
            .collect();
        for m in held {
            self.transmits.push_back((key, m));
        }
        self.peers.insert(
            key,
            Peer {
                source,
                ..Peer::default()
            },
        );
        self.schedule(now);
    }

    /// A peer's connection ended: its requests are asked elsewhere.
    pub fn remove_peer(&mut self, now: Instant, key: PeerKey) {
        if self.peers.remove(&key).is_none() {
            return;
        }
        for f in self.fetches.values_mut() {
            if f.peer == Some(key) {
                f.peer = None;
            }
        }
        self.schedule(now);
    }

    /// One `sl_stream` message from `peer`. On `Err` the peer is forgotten and
    /// counted; the driver closes its connection.
    pub fn handle_message(
        &mut self,
        now: Instant,
        peer: PeerKey,
        bytes: &[u8],
    ) -> Result<(), Hostile> {
        if !self.peers.contains_key(&peer) {
            return Ok(());
        }
        let res = self.on_message(now, peer, bytes);
        if let Err(h) = &res {
            self.stats.hostile.count(h);
            self.remove_peer(now, peer);
        }
        res
    }

    /// The next message to send, and to whom.
    pub fn poll_transmit(&mut self) -> Option<(PeerKey, Vec<u8>)> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<NodeEvent> {
        self.events.pop_front()
    }

    /// When [`Node::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let source = self.source.as_ref().and_then(|s| s.flush_at);
        let requests = self
            .fetches
            .values()
            .filter(|f| f.peer.is_some())
            .map(|f| f.at + self.cfg.request_timeout);
        let end = self.finished_at.map(|t| t + self.cfg.end_linger);
        let skip = match (self.last, self.finished_at, self.skip_missing) {
            (Some((_, seen)), None, false) if self.source.is_none() => {
                Some(seen + self.cfg.end_linger)
            }
            _ => None,
        };
        [source, end, skip, self.grace_deadline()]
            .into_iter()
            .flatten()
            .chain(requests)
            .min()
    }

    /// Whether the node has finished: the last piece made (source) or written
    /// (viewer), and every peer has said it has it (so nobody needs us any more) or
    /// [`NodeConfig::end_linger`] has passed.
    pub fn is_done(&self, now: Instant) -> bool {
        let (Some(at), Some(_)) = (self.finished_at, self.last) else {
            return false;
        };
        let all_have = !self.peers.is_empty() && self.peers.values().all(|p| p.has_last);
        all_have || now >= at + self.cfg.end_linger
    }

    fn send(&mut self, peer: PeerKey, m: Vec<u8>) {
        self.transmits.push_back((peer, m));
    }

    /// A new number is the window's newest: forget what fell out of it.
    fn prune(&mut self) {
        let low = self.window.low();
        for p in self.peers.values_mut() {
            p.has = p.has.split_off(&low);
            p.served = p.served.split_off(&low);
        }
        let gone = self.fetches.split_off(&low);
        for f in std::mem::replace(&mut self.fetches, gone).into_values() {
            if let Some(p) = f.peer.and_then(|k| self.peers.get_mut(&k)) {
                p.inflight = p.inflight.saturating_sub(1);
            }
        }
    }

    fn piece_data(&self, n: u64) -> Option<Arc<[u8]>> {
        self.window.data(n).cloned()
    }
}

#[cfg(test)]
mod tests;
