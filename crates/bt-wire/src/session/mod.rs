//! One BitTorrent peer connection as a sans-IO state machine: bytes in, bytes and
//! events out, no socket and no clock.
//!
//! A [`Session`] speaks BEP 3 (handshake, choke/interest, bitfield and have,
//! request/piece/cancel), BEP 6 (have_all/have_none, reject, allowed_fast, suggest),
//! BEP 5's `port`, BEP 10 (the extension handshake, built from [`ExtConfig`]),
//! BEP 9 (ut_metadata both ways) and BEP 11 (ut_pex both ways), for either role:
//! it dials ([`Session::outgoing`]) or it was dialled ([`Session::incoming`]).
//! It never owns storage: the peer's requests come out as [`Event::Request`] and
//! the driver answers with [`Session::send_piece`].
//!
//! # The order of calls
//!
//! 1. **Start**: [`Session::outgoing`] (our handshake is queued at once) or
//!    [`Session::incoming`] (we wait for the peer's).
//! 2. **Drive**, in a loop, as the DHT's `Node` is driven:
//!    - write what [`Session::poll_transmit`] returns;
//!    - feed what you read to [`Session::handle_input`], but only while
//!      [`Session::wants_read`] is true (that is the back-pressure: the session
//!      refuses to grow its output and event queues without bound);
//!    - call [`Session::handle_timeout`] when [`Session::poll_timeout`] is reached
//!      (keep-alives, the idle and handshake timeouts);
//!    - after each of these calls, drain [`Session::poll_event`]. A `handle_*`
//!      call that returns a [`SessionError`] has closed the session; the events
//!      queued before the error are still there to drain.
//! 3. **Incoming only**: on [`Event::HandshakeReceived`], call [`Session::accept`]
//!    with the [`Torrent`] it names (one listener can serve many torrents), or
//!    [`Session::refuse`].
//! 4. **After [`Event::Established`]**, the command families:
//!    - pieces we have ([`pieces`](self)): [`Session::send_bitfield`],
//!      [`Session::send_have_all`], [`Session::send_have_none`], [`Session::send_have`];
//!    - choking ([`choke`](self)): [`Session::choke`], [`Session::unchoke`],
//!      [`Session::interested`], [`Session::not_interested`];
//!    - serving the peer: [`Session::send_piece`], [`Session::reject`],
//!      [`Session::allow_fast`], [`Session::suggest`];
//!    - downloading from the peer: [`Session::request`], [`Session::cancel`];
//!    - extensions: [`Session::request_metadata`], [`Session::send_pex`],
//!      [`Session::send_port`], and the driver's own BEP 10 extensions
//!      ([`ExtConfig::extra`]): [`Session::send_extension`] out,
//!      [`Event::Extension`] in;
//!    - [`Session::set_torrent`] when the info dictionary becomes known mid-session;
//!    - [`Session::close`].
//!
//! Commands check what they can (phase, features negotiated, ranges, limits) and
//! return a [`CommandError`] without sending anything when a check fails.
//!
//! # Files
//!
//! | file | concern |
//! |---|---|
//! | `config.rs` | [`SessionConfig`], [`ExtConfig`], [`Limits`], [`Timeouts`], [`Torrent`], [`PieceLayout`] |
//! | `event.rs` | [`Event`], [`Misbehaviour`], [`PeerHandshake`], [`BlockRef`] |
//! | `handshake.rs` | the BEP 3 handshake both ways, `accept`, `refuse` |
//! | `input.rs` | decoding and dispatching the peer's messages |
//! | `choke.rs` | choke and interest, both directions |
//! | `pieces.rs` | bitfield, have, have_all/have_none, both directions |
//! | `serve.rs` | the peer's requests: checks, the pending queue, piece, reject, allowed_fast |
//! | `download.rs` | our requests: in flight, blocks, rejects, cancel |
//! | `extension.rs` | the BEP 10 handshake, the dispatch of extended messages, the driver's extra extensions |
//! | `metadata.rs` | ut_metadata: fetching and serving |
//! | `port.rs` | BEP 5's `port` message |
//! | `pex.rs` | ut_pex: sending with BEP 11's limits ([`PexSent`]), receiving with caps |
//! | `timers.rs` | keep-alive, idle and handshake timeouts |
//! | `output.rs` | the bounded output buffer |
//! | `stats.rs` | [`Stats`] |

mod choke;
mod config;
mod download;
mod event;
mod extension;
mod handshake;
mod input;
mod metadata;
mod output;
mod pex;
mod pieces;
mod port;
mod serve;
mod stats;
mod timers;

#[cfg(test)]
mod tests;

pub use config::{ExtConfig, Limits, PieceLayout, SessionConfig, Timeouts, Torrent};
pub use event::{BlockRef, Event, Misbehaviour, PeerHandshake};
pub use pex::PexSent;
pub use stats::Stats;

use std::collections::VecDeque;
use std::time::Instant;

use crate::error::{CommandError, SessionError};
use crate::wire::Decoder;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the peer's handshake (outgoing: ours is sent).
    Handshake,
    /// Incoming: the peer's handshake arrived; waiting for `accept` or `refuse`.
    AwaitAccept,
    /// Both handshakes done.
    Established,
    /// Ended (the error is in `Session::error`).
    Closed,
}

/// One peer connection, sans-IO. See the [module documentation](self) for the order
/// of calls.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    outgoing: bool,
    phase: Phase,
    /// The torrent (for an incoming session: from `accept`).
    torrent: Option<Torrent>,
    /// The peer's handshake while it arrives (at most 68 bytes).
    hs_buf: Vec<u8>,
    decoder: Decoder,
    out: output::Outbox,
    events: VecDeque<Event>,
    peer: Option<PeerHandshake>,
    /// Both handshakes set the bit.
    fast: bool,
    extended: bool,
    dht: bool,
    choke: choke::ChokeState,
    pieces: pieces::PieceState,
    serve: serve::Serving,
    download: download::Downloads,
    ext: extension::ExtState,
    meta: metadata::MetadataState,
    pex: pex::PexState,
    timers: timers::Timers,
    stats: Stats,
    error: Option<SessionError>,
}

impl Session {
    fn new(now: Instant, cfg: SessionConfig, outgoing: bool, torrent: Option<Torrent>) -> Session {
        Session {
            decoder: Decoder::new(cfg.limits.max_message),
            out: output::Outbox::new(cfg.limits.max_output),
            outgoing,
            phase: Phase::Handshake,
            torrent,
            hs_buf: Vec::with_capacity(crate::wire::HANDSHAKE_LEN),
            events: VecDeque::new(),
            peer: None,
            fast: false,
            extended: false,
            dht: false,
            choke: choke::ChokeState::default(),
            pieces: pieces::PieceState::default(),
            serve: serve::Serving::default(),
            download: download::Downloads::default(),
            ext: extension::ExtState::default(),
            meta: metadata::MetadataState::default(),
            pex: pex::PexState::default(),
            timers: timers::Timers::new(now),
            stats: Stats::default(),
            error: None,
            cfg,
        }
    }

    /// A session we dial: our handshake for `torrent` is queued at once.
    pub fn outgoing(now: Instant, cfg: SessionConfig, torrent: Torrent) -> Session {
        let info_hash = torrent.info_hash;
        let mut s = Session::new(now, cfg, true, Some(torrent));
        s.queue_handshake(info_hash);
        s
    }

    /// A session the peer dialled: we wait for its handshake, which comes out as
    /// [`Event::HandshakeReceived`].
    pub fn incoming(now: Instant, cfg: SessionConfig) -> Session {
        Session::new(now, cfg, false, None)
    }

    /// Feed bytes read from the peer. Drain [`Session::poll_event`] afterwards
    /// (also after an error: the events before it are kept).
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), SessionError> {
        self.check_open()?;
        self.timers.received(now);
        self.stats.bytes_in += bytes.len() as u64;
        let res = self.input(now, bytes);
        if let Err(e) = &res {
            self.fail(e.clone());
        }
        res
    }

    /// The bytes to write to the peer, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let out = self.out.take()?;
        self.stats.bytes_out += out.len() as u64;
        Some(out)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the driver should read more input now: false once the session is
    /// closed, while an incoming handshake waits for `accept`, while the output
    /// buffer holds over half its limit, and while the event queue is full.
    pub fn wants_read(&self) -> bool {
        matches!(self.phase, Phase::Handshake | Phase::Established)
            && !self.out.is_high()
            && self.events.len() < self.cfg.limits.max_events
    }

    /// Bytes waiting in the output buffer.
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// End the session; nothing more is sent or accepted.
    pub fn close(&mut self) {
        if self.error.is_none() {
            self.fail(SessionError::Closed);
        }
    }

    /// True once the session has ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Why the session ended, once it has.
    pub fn error(&self) -> Option<&SessionError> {
        self.error.as_ref()
    }

    /// True once both handshakes are done.
    pub fn is_established(&self) -> bool {
        self.phase == Phase::Established
    }

    /// True for a session we dialled.
    pub fn is_outgoing(&self) -> bool {
        self.outgoing
    }

    /// The peer's handshake, once it has arrived.
    pub fn peer(&self) -> Option<&PeerHandshake> {
        self.peer.as_ref()
    }

    /// The torrent, once known (an incoming session learns it at `accept`).
    pub fn torrent(&self) -> Option<&Torrent> {
        self.torrent.as_ref()
    }

    /// Both sides set the BEP 6 fast bit.
    pub fn fast(&self) -> bool {
        self.fast
    }

    /// What the session counted.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration the session was started with.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// Tell the session what became known of its torrent (the layout, the info
    /// dictionary's bytes) since it started; the info-hash must stay the same.
    pub fn set_torrent(&mut self, torrent: Torrent) -> Result<(), CommandError> {
        match &self.torrent {
            Some(t) if t.info_hash != torrent.info_hash => Err(CommandError::WrongTorrent),
            None => Err(CommandError::WrongPhase),
            Some(_) => {
                self.torrent = Some(torrent);
                Ok(())
            }
        }
    }

    fn layout(&self) -> Option<PieceLayout> {
        self.torrent.as_ref().and_then(|t| t.layout)
    }

    fn event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    fn misbehaved(&mut self, m: Misbehaviour) {
        self.stats.misbehaviours += 1;
        self.events.push_back(Event::Misbehaviour(m));
    }

    fn fail(&mut self, e: SessionError) {
        self.phase = Phase::Closed;
        self.error = Some(e);
        // Nothing more goes out once the session has ended.
        let _ = self.out.take();
    }

    fn check_open(&self) -> Result<(), SessionError> {
        match (&self.phase, &self.error) {
            (Phase::Closed, Some(e)) => Err(e.clone()),
            (Phase::Closed, None) => Err(SessionError::Closed),
            _ => Ok(()),
        }
    }

    /// For commands: the session must be established.
    fn ready(&self) -> Result<(), CommandError> {
        match self.phase {
            Phase::Established => Ok(()),
            Phase::Closed => Err(CommandError::Closed),
            Phase::Handshake | Phase::AwaitAccept => Err(CommandError::NotEstablished),
        }
    }

    /// Queue a message and note the time for the keep-alive clock.
    fn send(&mut self, msg: &crate::wire::Message) {
        self.out.push(msg);
        self.stats.messages_out += 1;
        self.timers.sent();
    }
}
