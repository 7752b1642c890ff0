//! The observer without sockets: our session wired back to back with a peer's
//! session, the observer fed the events, the record checked.

use std::time::{Duration, Instant};

use swarmlab_bt_wire::bencode::{dict, Value};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{Event, Session, SessionConfig, Torrent};

use super::observer::{Observer, Step, ANNOUNCE_WAIT};
use super::*;
use crate::report::{PeerRecord, PieceEvidence, MAX_HAVES_KEPT, MAX_HAVE_EVENTS};

fn info(pieces: usize) -> Info {
    let raw = dict([
        ("length", Value::Int((pieces * 1000) as i64)),
        ("name", Value::bytes("x")),
        ("piece length", Value::Int(1000)),
        ("pieces", Value::Bytes(vec![0; 20 * pieces])),
    ])
    .encode();
    Info::from_bytes(&raw).unwrap()
}

fn ctx(i: &Info, known: bool, cfg: AuditConfig) -> SessionCtx {
    SessionCtx {
        info_hash: i.info_hash,
        meta: Arc::new(SharedMeta::new(known.then(|| Arc::new(i.clone())))),
        cfg: Arc::new(cfg),
        pex_tx: None,
    }
}

/// Our session (`us`) and a peer's (`peer`, which has the torrent), established,
/// and the observer of `us` with its record.
struct Wired {
    us: Session,
    peer: Session,
    now: Instant,
    ctx: SessionCtx,
    obs: Option<Observer>,
    rec: PeerRecord,
    ev: PieceEvidence,
}

impl Wired {
    fn new(i: &Info, ctx: SessionCtx) -> Wired {
        let now = Instant::now();
        let torrent = ctx
            .meta
            .get()
            .map(|i| Torrent::from_info(&i))
            .unwrap_or_else(|| Torrent::new(i.info_hash));
        let mut w = Wired {
            us: Session::outgoing(now, session_config(&ctx.cfg), torrent),
            peer: Session::incoming(now, SessionConfig::new(*b"-LT2080-peerpeerpeer")),
            now,
            ctx,
            obs: None,
            rec: PeerRecord::new("127.0.0.2:1".parse().unwrap()),
            ev: PieceEvidence::default(),
        };
        w.pump();
        assert!(matches!(
            w.peer.poll_event(),
            Some(Event::HandshakeReceived(_))
        ));
        w.peer.accept(now, Torrent::from_info(i)).unwrap();
        w.pump();
        w.observe();
        assert!(w.obs.is_some(), "established");
        w
    }

    /// Move bytes both ways until both sessions are quiet, then feed our session's
    /// events to the observer (created at `Established`).
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            if let Some(b) = self.us.poll_transmit() {
                moved = true;
                let _ = self.peer.handle_input(self.now, &b);
            }
            if let Some(b) = self.peer.poll_transmit() {
                moved = true;
                let _ = self.us.handle_input(self.now, &b);
            }
            if !moved {
                return;
            }
        }
    }

    fn observe(&mut self) {
        while let Some(e) = self.us.poll_event() {
            match (self.obs.as_mut(), e) {
                (None, Event::Established(h)) => {
                    let addr = "127.0.0.2:1".parse().unwrap();
                    self.obs = Some(Observer::new(
                        self.now,
                        addr,
                        &h,
                        &mut self.us,
                        &mut self.rec,
                    ))
                }
                (Some(o), e) => o
                    .on_event(
                        self.now,
                        e,
                        &mut self.us,
                        &self.ctx,
                        &mut self.rec,
                        &mut self.ev,
                    )
                    .unwrap(),
                (None, _) => {}
            }
        }
    }

    fn exchange(&mut self) {
        self.pump();
        self.observe();
    }

    fn step(&mut self, at: Instant) -> Step {
        let o = self.obs.as_mut().unwrap();
        o.step(at, &mut self.us, &self.ctx, &mut self.rec, &self.ev)
    }
}

/// `MAX_HAVE_EVENTS` and `MAX_HAVES_KEPT`: 70,000 haves are all counted, 4,096 are
/// kept with their time and 65,536 as evidence (without either cap, all 70,000).
#[test]
fn haves_are_counted_all_and_kept_up_to_the_caps() {
    let i = info(70_000);
    let mut w = Wired::new(&i, ctx(&i, true, AuditConfig::default()));
    for p in 0..70_000 {
        w.peer.send_have(p).unwrap();
        if p % 1000 == 999 {
            w.exchange();
        }
    }
    assert_eq!(w.rec.haves_total, 70_000);
    assert_eq!(w.rec.have_events.len(), MAX_HAVE_EVENTS);
    assert_eq!(w.ev.haves.len(), MAX_HAVES_KEPT);
    assert_eq!(w.rec.have_events[0].piece, 0);
}

/// The peer is basic done after its extension handshake and bitfield; the
/// observer leaves `linger` later, not before.
#[test]
fn basic_done_then_linger_then_leave() {
    let i = info(16);
    let cfg = AuditConfig {
        linger: Duration::from_secs(2),
        ..AuditConfig::default()
    };
    let mut w = Wired::new(&i, ctx(&i, true, cfg));
    assert!(w.rec.reached && w.rec.supports_fast && w.rec.supports_extensions);
    assert_eq!(w.rec.peer_id_prefix.as_deref(), Some("-LT2080-"));
    // Extension handshake seen, no pieces yet: wait until ANNOUNCE_WAIT.
    let start = w.now;
    assert_eq!(w.step(start), Step::Wait(start + ANNOUNCE_WAIT));
    assert!(!w.obs.as_ref().unwrap().basic_done());
    w.peer
        .send_bitfield(&swarmlab_bt_wire::wire::Bitfield::full(16))
        .unwrap();
    w.exchange();
    assert_eq!(w.step(start), Step::Wait(start + Duration::from_secs(2)));
    assert!(w.obs.as_ref().unwrap().basic_done());
    assert_eq!(w.step(start + Duration::from_secs(2)), Step::Done);
    assert_eq!(w.ev.kind, Some("bitfield"));
    assert_eq!(
        w.rec.client_version.as_deref(),
        Some(concat!("swarmlab/", env!("CARGO_PKG_VERSION")))
    );
}

/// Without the info dictionary the observer fetches it and stays until it has it;
/// the record says so and the round's shared copy is set.
#[test]
fn the_metadata_is_fetched_and_shared() {
    let i = info(2000); // an info dictionary of three ut_metadata pieces
    let mut w = Wired::new(&i, ctx(&i, false, AuditConfig::default()));
    w.peer.send_have_all().unwrap();
    w.exchange();
    let late = w.now + Duration::from_secs(60);
    // Basic done and past the linger, but the fetch it starts now keeps it.
    assert!(matches!(w.step(late), Step::Wait(_)));
    assert!(w.us.fetching_metadata());
    w.exchange();
    assert_eq!(w.rec.metadata.as_deref(), Some("fetched"));
    assert_eq!(w.ctx.meta.get().unwrap().raw, i.raw);
    // Basic done at `late`: it leaves a linger later.
    let linger = w.ctx.cfg.linger;
    assert_eq!(w.step(late + linger), Step::Done);
}
