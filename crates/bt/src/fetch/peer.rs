//! One peer of a download: a [`Connection`] and its session, driven until the
//! download completes, the peer is banned, or the connection ends.
//!
//! Per event: availability (bitfield, have, have_all) goes to the picker; choke and
//! unchoke, BEP 6 allowed-fast and reject decide what may be requested; blocks go
//! to [`Shared::on_block`]; PEX peers go to the dialler. After every event and on a
//! half-second tick the task reads its mailbox (cancels, a ban), announces the
//! pieces verified since its last look (`have`), updates its interest, and tops up
//! its requests to its queue depth: the peer's rate × [`PIPELINE_SECONDS`] in 16 KiB
//! blocks, between [`MIN_QUEUE`] and [`MAX_QUEUE`] (and the peer's `reqq`).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt_wire::client::client_from_peer_id;
use swarmlab_bt_wire::session::{BlockRef, Event, SessionConfig, Torrent};
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_engine::{Block, BLOCK_SIZE};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::report::PeerReport;
use super::shared::Shared;
use crate::Connection;

/// Seconds of the peer's rate kept in flight.
pub const PIPELINE_SECONDS: f64 = 1.0;
/// Fewest requests kept in flight at an unchoking peer.
pub const MIN_QUEUE: usize = 16;
/// Most requests kept in flight at one peer.
pub const MAX_QUEUE: usize = 500;
/// How often the task looks at its mailbox without an event.
const TICK: Duration = Duration::from_millis(500);

/// What a peer task needs besides the shared state.
#[derive(Clone)]
pub(crate) struct PeerCtx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) session: SessionConfig,
    pub(crate) connect_timeout: Duration,
    /// No block for this long while requests are in flight: the peer is dropped.
    pub(crate) request_timeout: Duration,
    /// Addresses learnt by PEX, for the dialler.
    pub(crate) pex: UnboundedSender<SocketAddr>,
}

struct PeerTask {
    addr: SocketAddr,
    ctx: PeerCtx,
    choked: bool,
    interested: bool,
    allowed_fast: HashSet<u32>,
    /// Index into the shared log of verified pieces: those before it are announced.
    have_cursor: usize,
    /// Rate estimate (bytes/s) and the window it is measured over.
    rate: f64,
    window_start: Instant,
    window_bytes: u64,
    last_block: Instant,
    started: Instant,
}

/// Runs one peer until the download is complete (Ok), or the peer fails, is
/// banned or times out (Err with why). The peer's report is kept in the shared
/// state either way.
pub(crate) async fn run(addr: SocketAddr, ctx: PeerCtx) -> Result<(), String> {
    {
        let mut st = ctx.shared.lock();
        if !st.picker.add_peer(addr) {
            return Err("banned or already connected".into());
        }
        st.reports.entry(addr).or_insert_with(|| PeerReport {
            addr: addr.to_string(),
            ..PeerReport::default()
        });
    }
    let res = run_connected(addr, ctx.clone()).await;
    let mut st = ctx.shared.lock();
    st.picker.remove_peer(addr);
    st.mail.remove(&addr);
    if let (Err(e), Some(r)) = (&res, st.reports.get_mut(&addr)) {
        r.error = Some(e.clone());
    }
    res
}

async fn run_connected(addr: SocketAddr, ctx: PeerCtx) -> Result<(), String> {
    let torrent = Torrent::from_info(&ctx.shared.info);
    let mut conn = Connection::connect(addr, ctx.connect_timeout, ctx.session.clone(), torrent)
        .await
        .map_err(|e| e.to_string())?;
    let now = Instant::now();
    let mut t = PeerTask {
        addr,
        ctx: ctx.clone(),
        choked: true,
        interested: false,
        allowed_fast: HashSet::new(),
        have_cursor: 0,
        rate: 0.0,
        window_start: now,
        window_bytes: 0,
        last_block: now,
        started: now,
    };
    ctx.shared.progress.peer_up();
    let res = t.drive(&mut conn).await;
    ctx.shared.progress.peer_down();
    let secs = t.started.elapsed().as_secs_f64();
    let mut st = ctx.shared.lock();
    st.sync_bad_pieces();
    if let Some(r) = st.reports.get_mut(&addr) {
        r.rate = if secs > 0.0 {
            r.bytes as f64 / secs
        } else {
            0.0
        };
        r.misbehaviours = conn.session().stats().misbehaviours;
    }
    res
}

impl PeerTask {
    async fn drive(&mut self, conn: &mut Connection) -> Result<(), String> {
        loop {
            match conn.next_event_until(Some(Instant::now() + TICK)).await {
                Ok(Some(ev)) => self.on_event(conn, ev)?,
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
            if conn.session().is_established() && self.housekeeping(conn)? {
                conn.session_mut().close();
                return Ok(());
            }
        }
    }

    fn on_event(&mut self, conn: &mut Connection, ev: Event) -> Result<(), String> {
        let shared = self.ctx.shared.clone();
        let addr = self.addr;
        match ev {
            Event::Established(hs) => {
                if let Some(c) = client_from_peer_id(&hs.peer_id) {
                    self.set_client(c, false);
                }
                self.announce_pieces(conn);
            }
            Event::ExtHandshake(h) => {
                if let Some(v) = h.v.clone() {
                    self.set_client(v, true);
                }
            }
            Event::Bitfield(bits) => shared.lock().picker.peer_has_bitfield(addr, &bits),
            Event::Have(i) => shared.lock().picker.peer_has(addr, i),
            Event::HaveAll => shared.lock().picker.peer_has_all(addr),
            Event::Unchoke => self.choked = false,
            Event::Choke { dropped } => {
                self.choked = true;
                if dropped > 0 {
                    // Without BEP 6 a choke discards every request in flight.
                    let mut st = shared.lock();
                    for b in st.picker.requests_of(&addr) {
                        st.picker.block_failed(addr, b);
                    }
                }
            }
            Event::AllowedFast(i) => {
                self.allowed_fast.insert(i);
            }
            Event::Rejected(r) => {
                let mut st = shared.lock();
                st.picker.block_failed(addr, to_block(r));
                if !self.choked {
                    // It refused a piece while unchoking us: do not ask it again.
                    st.picker.peer_lacks(addr, r.index);
                }
            }
            Event::Block { index, begin, data } => {
                let b = Block {
                    piece: index,
                    begin,
                    length: data.len() as u32,
                };
                let out = shared.on_block(addr, b, &data);
                if out.accepted {
                    let now = Instant::now();
                    self.last_block = now;
                    self.window_bytes += data.len() as u64;
                    let dt = now.duration_since(self.window_start).as_secs_f64();
                    if dt >= 0.25 {
                        let r = self.window_bytes as f64 / dt;
                        self.rate = if self.rate == 0.0 {
                            r
                        } else {
                            0.5 * self.rate + 0.5 * r
                        };
                        self.window_start = now;
                        self.window_bytes = 0;
                    }
                }
            }
            Event::Pex(m) => {
                for a in m.added {
                    let _ = self.ctx.pex.send(a);
                }
            }
            Event::Misbehaviour(m) => tracing::debug!(peer = %addr, "{m}"),
            _ => {}
        }
        Ok(())
    }

    fn set_client(&self, name: String, from_v: bool) {
        let mut st = self.ctx.shared.lock();
        if let Some(r) = st.reports.get_mut(&self.addr) {
            if from_v || r.client.is_none() {
                r.client = Some(name.chars().take(64).collect());
            }
        }
    }

    /// Our pieces, at the start: a bitfield, or have_none under BEP 6 when we have
    /// none (then `have`s as pieces are verified).
    fn announce_pieces(&mut self, conn: &mut Connection) {
        let st = self.ctx.shared.lock();
        let n = st.picker.layout().num_pieces() as usize;
        self.have_cursor = st.verified_log.len();
        let s = conn.session_mut();
        if st.picker.pieces_done() == 0 {
            if s.fast() {
                let _ = s.send_have_none();
            }
            return;
        }
        let mut bits = Bitfield::new(n);
        for i in 0..n as u32 {
            if st.picker.have(i) {
                bits.set(i as usize);
            }
        }
        let _ = s.send_bitfield(&bits);
    }

    /// Mail, haves, interest, requests. True when the download is complete.
    fn housekeeping(&mut self, conn: &mut Connection) -> Result<bool, String> {
        let shared = self.ctx.shared.clone();
        let mut st = shared.lock();
        if st.picker.is_complete() || st.fatal.is_some() {
            return Ok(true);
        }
        let mail = st.mail.entry(self.addr).or_default();
        if mail.banned {
            return Err("banned: sent pieces that failed their hash".into());
        }
        let cancels = std::mem::take(&mut mail.cancels);
        let s = conn.session_mut();
        for b in cancels {
            let _ = s.cancel(to_ref(b));
        }
        for &i in &st.verified_log[self.have_cursor..] {
            let _ = s.send_have(i);
        }
        self.have_cursor = st.verified_log.len();
        let want = st.picker.is_interesting(&self.addr);
        if want != self.interested {
            self.interested = want;
            let _ = if want {
                s.interested()
            } else {
                s.not_interested()
            };
        }
        let in_flight = st.picker.in_flight(&self.addr);
        if in_flight > 0
            && self.last_block.elapsed() > self.ctx.request_timeout
            && !(self.choked && self.allowed_fast.is_empty())
        {
            return Err(format!(
                "no block for {} s with {in_flight} requests in flight",
                self.ctx.request_timeout.as_secs()
            ));
        }
        if !self.interested || (self.choked && self.allowed_fast.is_empty()) {
            return Ok(false);
        }
        let depth = ((self.rate * PIPELINE_SECONDS / f64::from(BLOCK_SIZE)) as usize)
            .clamp(MIN_QUEUE, MAX_QUEUE);
        let room = depth.saturating_sub(in_flight);
        if room == 0 {
            return Ok(false);
        }
        if in_flight == 0 {
            self.last_block = Instant::now();
        }
        let choked = self.choked;
        let fast = &self.allowed_fast;
        let picks = st
            .picker
            .pick(self.addr, room, &|i| !choked || fast.contains(&i));
        for (k, b) in picks.iter().enumerate() {
            if conn.session_mut().request(to_ref(*b)).is_err() {
                for b in &picks[k..] {
                    st.picker.block_failed(self.addr, *b);
                }
                break;
            }
        }
        Ok(false)
    }
}

fn to_ref(b: Block) -> BlockRef {
    BlockRef {
        index: b.piece,
        begin: b.begin,
        length: b.length,
    }
}

fn to_block(r: BlockRef) -> Block {
    Block {
        piece: r.index,
        begin: r.begin,
        length: r.length,
    }
}
