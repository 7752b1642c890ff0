//! The audit of one peer on top of its session, without IO: what to record from
//! each event ([`Observer::on_event`]), and when to fetch metadata, probe, and leave
//! ([`Observer::step`]).
//!
//! The peer is "basic done" once it sent its extension handshake (or
//! [`ANNOUNCE_WAIT`] passed, or it has none) and announced its pieces (or
//! [`ANNOUNCE_WAIT`] passed). The observer then lingers `linger` (at least
//! [`UNCHOKE_WAIT`] while a probe is pending) for haves and PEX, and leaves, unless
//! it is still fetching metadata or downloading a probe.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use swarmlab_bt_wire::client::{client_from_peer_id, peer_id_prefix};
use swarmlab_bt_wire::ext::{ExtHandshake, PexMessage};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{Event, Misbehaviour, PeerHandshake, Session, Torrent};

use super::meta::FetchSlot;
use super::probe::Probe;
use super::SessionCtx;
use crate::report::{
    ExtInfo, Failure, FailureReason, HaveEvent, PeerRecord, PieceEvidence, MAX_HAVES_KEPT,
    MAX_HAVE_EVENTS, MAX_PEX_NEIGHBOURS,
};

/// How long to wait for a bitfield or an extension handshake before assuming none comes.
pub const ANNOUNCE_WAIT: Duration = Duration::from_secs(3);
/// How long to wait for an unchoke when probing, at least.
pub const UNCHOKE_WAIT: Duration = Duration::from_secs(5);

/// What the observer wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Leave the peer.
    Done,
    /// Wake at this time at the latest (events wake it sooner).
    Wait(Instant),
}

/// One established peer's audit.
#[derive(Debug)]
pub(super) struct Observer {
    /// The peer's address (PEX finds are reported with it).
    addr: SocketAddr,
    /// When the handshakes completed: times in the record count from here.
    connected: Instant,
    ext_wait_over: bool,
    announced: bool,
    basic_done_at: Option<Instant>,
    fetch: Option<FetchSlot>,
    fetch_tried: bool,
    /// The session was given the shared info dictionary.
    info_given: bool,
    probe: Probe,
    choked: bool,
}

impl Observer {
    /// The handshakes are done: record the peer's handshake, and announce that we
    /// have nothing (BEP 6) when the peer speaks fast.
    pub(super) fn new(
        now: Instant,
        addr: SocketAddr,
        peer: &PeerHandshake,
        s: &mut Session,
        rec: &mut PeerRecord,
    ) -> Observer {
        rec.reached = true;
        rec.reserved = Some(hex::encode(peer.reserved));
        rec.supports_extensions = peer.supports_extensions();
        rec.supports_dht = peer.supports_dht();
        rec.supports_fast = peer.supports_fast();
        rec.peer_id = Some(hex::encode(peer.peer_id));
        rec.peer_id_prefix = Some(peer_id_prefix(&peer.peer_id));
        rec.client_from_peer_id = client_from_peer_id(&peer.peer_id);
        rec.client = rec.client_from_peer_id.clone();
        if s.fast() {
            let _ = s.send_have_none();
        }
        Observer {
            addr,
            connected: now,
            ext_wait_over: !rec.supports_extensions,
            announced: false,
            basic_done_at: None,
            fetch: None,
            fetch_tried: false,
            info_given: false,
            probe: Probe::default(),
            choked: true,
        }
    }

    /// The peer has told us what we came for.
    pub(super) fn basic_done(&self) -> bool {
        self.basic_done_at.is_some()
    }

    fn ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.connected).as_millis() as u64
    }

    /// Decide what to do now: give the session the info dictionary when it became
    /// known, start a metadata fetch, probe, or leave.
    pub(super) fn step(
        &mut self,
        now: Instant,
        s: &mut Session,
        ctx: &SessionCtx,
        rec: &mut PeerRecord,
        ev: &PieceEvidence,
    ) -> Step {
        let cfg = &ctx.cfg;
        let info = ctx.meta.get();
        if let (Some(i), false) = (&info, self.info_given) {
            self.info_given = true;
            let _ = s.set_torrent(Torrent::from_info(i));
        }
        let waited = now >= self.connected + ANNOUNCE_WAIT;
        self.ext_wait_over |= waited;
        let announce_over = self.announced || waited;
        if self.basic_done_at.is_none() && self.ext_wait_over && announce_over {
            self.basic_done_at = Some(now);
        }
        // Fetch the info dictionary if nobody has it yet.
        if info.is_none() && self.fetch.is_none() && !self.fetch_tried {
            let offers = s
                .peer_extensions()
                .is_some_and(|h| h.id_of("ut_metadata").is_some() && h.metadata_size.is_some());
            if offers {
                if let Some(slot) = ctx.meta.try_fetch_slot() {
                    self.fetch_tried = true;
                    if s.request_metadata().is_ok() {
                        self.fetch = Some(slot);
                    }
                }
            }
        }
        if info.is_some() && self.fetch.take().is_some() {
            s.cancel_metadata(); // another peer gave it
        }
        // Probing: choose pieces, say interested, request blocks when unchoked.
        let want_probe = cfg.probe_pieces > 0;
        if want_probe && !self.probe.chosen && announce_over {
            if let Some(info) = &info {
                self.probe.choose(ev, info, cfg.probe_pieces);
                rec.probe = Some(self.probe.result.clone());
            }
        }
        if want_probe && self.probe.want_interest() {
            let _ = s.interested();
        }
        if want_probe && !self.choked {
            if let Some(info) = &info {
                self.probe.fill(s, info, now);
            }
        }
        // Leave?
        let linger = if want_probe && self.probe.pending() {
            cfg.linger.max(UNCHOKE_WAIT)
        } else {
            cfg.linger
        };
        let Some(b) = self.basic_done_at else {
            let wake = self.connected + ANNOUNCE_WAIT;
            return Step::Wait(if wake <= now {
                now + Duration::from_millis(100)
            } else {
                wake
            });
        };
        let end = b + linger;
        let busy = self.fetch.is_some() || (self.probe.active() && !self.choked);
        if now >= end && !busy {
            return Step::Done;
        }
        Step::Wait(if now >= end {
            now + Duration::from_millis(500)
        } else {
            end
        })
    }

    /// Record one event of the session.
    pub(super) fn on_event(
        &mut self,
        now: Instant,
        e: Event,
        s: &mut Session,
        ctx: &SessionCtx,
        rec: &mut PeerRecord,
        ev: &mut PieceEvidence,
    ) -> Result<(), Failure> {
        match e {
            Event::Choke { dropped } => {
                self.choked = true;
                if dropped > 0 {
                    self.probe.on_requests_dropped();
                }
            }
            Event::Unchoke => {
                self.choked = false;
                rec.unchoked_us = true;
                self.probe.result.unchoked = true;
            }
            // A have beyond the last piece is recorded too: the record warns about it.
            Event::Have(i) | Event::Misbehaviour(Misbehaviour::HaveOutOfRange(i)) => {
                rec.haves_total += 1;
                if rec.have_events.len() < MAX_HAVE_EVENTS {
                    rec.have_events.push(HaveEvent {
                        ms: self.ms(now),
                        piece: i,
                    });
                }
                if ev.haves.len() < MAX_HAVES_KEPT {
                    ev.haves.push(i);
                }
                if !self.announced {
                    self.announced = true;
                    ev.first_ms.get_or_insert(self.ms(now));
                }
            }
            Event::Bitfield(b) => self.announce(now, "bitfield", Some(b), ev),
            Event::HaveAll => self.announce(now, "have_all", None, ev),
            Event::HaveNone => self.announce(now, "have_none", None, ev),
            Event::DhtPort(p) => rec.dht_port = Some(p),
            Event::Block { index, begin, data } => {
                if let Some(info) = ctx.meta.get() {
                    self.probe.on_block(&info, index, begin, &data, rec);
                    rec.probe = Some(self.probe.result.clone());
                }
            }
            Event::Rejected(_) => {
                self.probe.on_rejected();
                if self.probe.chosen {
                    rec.probe = Some(self.probe.result.clone());
                }
            }
            Event::ExtHandshake(h) => {
                record_ext(&h, rec);
                self.ext_wait_over = true;
            }
            Event::Pex(m) => self.on_pex(m, ctx, rec),
            Event::Metadata(raw) => {
                self.fetch = None;
                match Info::from_bytes(&raw) {
                    Ok(i) => {
                        rec.metadata = Some("fetched".into());
                        let _ = s.set_torrent(Torrent::from_info(&i));
                        self.info_given = true;
                        ctx.meta.set(Arc::new(i));
                    }
                    Err(e) => {
                        rec.metadata = Some("invalid".into());
                        return Err(Failure::new(
                            FailureReason::ProtocolError,
                            "session",
                            format!("ut_metadata: info dictionary invalid: {e}"),
                        ));
                    }
                }
            }
            Event::MetadataRejected(_) if self.fetch.take().is_some() => {
                rec.metadata = Some("rejected".into());
            }
            Event::Misbehaviour(m) => self.on_misbehaviour(m, rec),
            _ => {}
        }
        Ok(())
    }

    /// A bitfield, have_all or have_none (the session lets only the first through).
    fn announce(
        &mut self,
        now: Instant,
        kind: &'static str,
        raw: Option<Vec<u8>>,
        ev: &mut PieceEvidence,
    ) {
        ev.kind = Some(kind);
        ev.raw_bitfield = raw;
        ev.first_ms = Some(self.ms(now));
        self.announced = true;
    }

    fn on_pex(&mut self, p: PexMessage, ctx: &SessionCtx, rec: &mut PeerRecord) {
        rec.pex_messages += 1;
        if p.truncated > 0 {
            rec.pex_truncated += p.truncated;
            rec.warn(format!(
                "ut_pex message named {} peers, kept {}",
                p.truncated + p.added.len() + p.dropped.len(),
                p.added.len() + p.dropped.len()
            ));
        }
        let added: Vec<SocketAddr> = p
            .added
            .into_iter()
            .filter(swarmlab_net::is_valid_peer)
            .collect();
        for a in &added {
            let s = a.to_string();
            if rec.pex_neighbours.len() < MAX_PEX_NEIGHBOURS && !rec.pex_neighbours.contains(&s) {
                rec.pex_neighbours.push(s);
            } else if rec.pex_neighbours.len() >= MAX_PEX_NEIGHBOURS {
                rec.pex_truncated += 1;
            }
        }
        if let (Some(tx), false) = (&ctx.pex_tx, added.is_empty()) {
            let _ = tx.try_send((self.addr, added));
        }
    }

    fn on_misbehaviour(&mut self, m: Misbehaviour, rec: &mut PeerRecord) {
        match &m {
            Misbehaviour::BadExtHandshake(_) => {
                self.ext_wait_over = true;
                rec.warn(m.to_string());
            }
            Misbehaviour::BadExtensionMessage {
                extension: "ut_pex",
                ..
            }
            | Misbehaviour::PexTooOften => {
                rec.pex_messages += 1;
                rec.warn(m.to_string());
            }
            Misbehaviour::LateBitfield
            | Misbehaviour::UnrequestedBlock(_)
            | Misbehaviour::BadExtensionMessage { .. }
            | Misbehaviour::UnknownExtension(_)
            | Misbehaviour::ExtensionNotNegotiated
            | Misbehaviour::UnknownMessage(_) => rec.warn(m.to_string()),
            // Requests to us (we serve no pieces and choke), metadata requests we
            // answered, stale rejects: nothing about the peer worth a warning.
            _ => {}
        }
    }

    /// After a batch of events: the probe's timing.
    pub(super) fn after_events(&mut self, now: Instant, rec: &mut PeerRecord) {
        if self.probe.tick(now) {
            rec.probe = Some(self.probe.result.clone());
        }
    }
}

fn record_ext(h: &ExtHandshake, rec: &mut PeerRecord) {
    rec.client_version = h.v.clone();
    if h.v.is_some() {
        rec.client = h.v.clone();
    }
    rec.extensions =
        h.m.iter()
            .filter(|(_, &id)| id != 0)
            .map(|(k, _)| k.clone())
            .collect();
    if h.m_dropped > 0 {
        rec.warn(format!("{} extensions over the cap ignored", h.m_dropped));
    }
    rec.ext = Some(ExtInfo {
        p: h.p,
        reqq: h.reqq,
        yourip: h.yourip.map(|ip| ip.to_string()),
        metadata_size: h.metadata_size,
        upload_only: h.upload_only,
    });
}
