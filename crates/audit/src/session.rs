//! One peer: connect, BEP 3 handshake, BEP 10 extension handshake, then collect what
//! the peer says (bitfield, haves, PEX, DHT port) within a time budget, optionally
//! fetching the info dictionary (BEP 9) and probing pieces.

use crate::report::{
    ExtInfo, Failure, FailureReason, HaveEvent, PeerRecord, PieceEvidence, ProbeResult,
    MAX_HAVES_KEPT, MAX_HAVE_EVENTS, MAX_PEX_NEIGHBOURS,
};
use crate::AuditConfig;
use sha1::{Digest, Sha1};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use swarmlab_bt_wire::client::{client_from_peer_id, peer_id_prefix};
use swarmlab_bt_wire::ext::{
    self, ExtHandshake, MetadataAssembler, MetadataMsg, PexMessage, LOCAL_UT_METADATA, LOCAL_UT_PEX,
};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::wire::{self, reserved, Bitfield, Decoder, Handshake, Message, BLOCK_SIZE};
use swarmlab_bt_wire::{InfoHash, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Our client name in the extension handshake.
pub const CLIENT_VERSION: &str = concat!("swarmlab/", env!("CARGO_PKG_VERSION"));
/// How long to wait for a bitfield or an extension handshake before assuming none comes.
pub const ANNOUNCE_WAIT: Duration = Duration::from_secs(3);
/// How long to wait for an unchoke when probing, at least.
pub const UNCHOKE_WAIT: Duration = Duration::from_secs(5);
/// Pause before the one retry of a connection closed during the handshake.
pub const RETRY_DELAY: Duration = Duration::from_millis(200);
/// Outstanding block requests while probing.
const PROBE_PIPELINE: usize = 32;

/// The info dictionary shared by every session of a round (known, or fetched by one of them).
#[derive(Debug, Default)]
pub struct SharedMeta {
    info: RwLock<Option<Arc<Info>>>,
    fetching: Arc<AtomicUsize>,
}

/// Most ut_metadata fetches running at once in a round (each buffers up to
/// `metadata_size`, itself capped at [`ext::MAX_METADATA_SIZE`]).
pub const MAX_METADATA_FETCHES: usize = 2;

/// A slot among the [`MAX_METADATA_FETCHES`]; released on drop.
#[derive(Debug)]
pub struct FetchSlot(Arc<AtomicUsize>);

impl Drop for FetchSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SharedMeta {
    /// Start with `info` (or nothing).
    pub fn new(info: Option<Arc<Info>>) -> SharedMeta {
        SharedMeta {
            info: RwLock::new(info),
            fetching: Arc::new(AtomicUsize::new(0)),
        }
    }
    /// Take a metadata-fetch slot, if one is free.
    pub fn try_fetch_slot(&self) -> Option<FetchSlot> {
        let prev = self.fetching.fetch_add(1, Ordering::SeqCst);
        let slot = FetchSlot(self.fetching.clone());
        if prev >= MAX_METADATA_FETCHES {
            drop(slot);
            return None;
        }
        Some(slot)
    }
    /// The info dictionary, if known.
    pub fn get(&self) -> Option<Arc<Info>> {
        self.info.read().map(|g| g.clone()).unwrap_or(None)
    }
    /// Set it if still unknown; returns true if this call set it.
    pub fn set(&self, info: Arc<Info>) -> bool {
        match self.info.write() {
            Ok(mut g) if g.is_none() => {
                *g = Some(info);
                true
            }
            _ => false,
        }
    }
}

/// What a session needs from the round.
#[derive(Clone)]
pub struct SessionCtx {
    /// Torrent.
    pub info_hash: InfoHash,
    /// Shared metadata.
    pub meta: Arc<SharedMeta>,
    /// Settings.
    pub cfg: Arc<AuditConfig>,
    /// Where PEX-learned peers go (peer that told us, peers).
    pub pex_tx: Option<mpsc::Sender<(SocketAddr, Vec<SocketAddr>)>>,
}

/// A fresh random peer id `-SL0001-` + 12 random alphanumerics (one per connection, so a
/// client never sees two of our connections with the same id).
pub fn our_peer_id() -> PeerId {
    use rand::Rng;
    let mut id = *b"-SL0001-000000000000";
    let mut rng = rand::thread_rng();
    for b in &mut id[8..] {
        *b = rng.sample(rand::distributions::Alphanumeric);
    }
    id
}

fn classify_io(e: &std::io::Error, stage: &'static str) -> Failure {
    use std::io::ErrorKind as K;
    let reason = match e.kind() {
        K::ConnectionRefused => FailureReason::Refused,
        K::TimedOut => FailureReason::Timeout,
        K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe => {
            FailureReason::Disconnected
        }
        K::NetworkUnreachable | K::HostUnreachable | K::AddrNotAvailable => {
            FailureReason::Unreachable
        }
        _ => FailureReason::Io,
    };
    Failure::new(reason, stage, e.to_string())
}

/// Audit one peer. Never fails: every outcome is in the record.
pub async fn audit_peer(
    addr: SocketAddr,
    sources: Vec<String>,
    ctx: SessionCtx,
) -> (PeerRecord, PieceEvidence) {
    let mut rec = PeerRecord::new(addr);
    rec.sources = sources;
    let mut ev = PieceEvidence::default();
    let start = Instant::now();
    let budget = ctx.cfg.peer_budget;
    let attempts = async {
        let first = run(addr, &ctx, &mut rec, &mut ev).await;
        match first {
            // Some clients (libtorrent under load) close a fresh connection before their
            // handshake; one retry tells a transient refusal from a peer that always does it.
            Err(f)
                if f.reason == FailureReason::Disconnected
                    && f.stage == "handshake"
                    && !rec.reached =>
            {
                tokio::time::sleep(RETRY_DELAY).await;
                rec.warn(format!(
                    "first connection closed before the handshake ({}); retried",
                    f.detail
                ));
                run(addr, &ctx, &mut rec, &mut ev).await
            }
            other => other,
        }
    };
    let res = tokio::time::timeout(budget, attempts).await;
    match res {
        Ok(Ok(ended)) => rec.ended = ended.into(),
        Ok(Err(f)) => {
            rec.ended = if f.reason == FailureReason::Disconnected && rec.reached {
                "peer_closed".into()
            } else {
                "error".into()
            };
            rec.failure = Some(f);
        }
        Err(_) => {
            rec.ended = "budget".into();
            if !rec.reached {
                rec.failure = Some(Failure::new(
                    FailureReason::Timeout,
                    if rec.connect_ms.is_some() {
                        "handshake"
                    } else {
                        "connect"
                    },
                    format!("per-peer budget of {:.1} s used up", budget.as_secs_f64()),
                ));
            }
        }
    }
    rec.duration_ms = start.elapsed().as_millis() as u64;
    if let Some(p) = rec.probe.as_mut() {
        if p.rate_bps.is_none() && p.seconds > 0.0 && p.bytes > 0 {
            p.rate_bps = Some(p.bytes as f64 / p.seconds);
        }
    }
    (rec, ev)
}

struct Probe {
    queue: std::collections::VecDeque<u32>,
    chosen: bool,
    current: Option<ProbePiece>,
    started: Option<Instant>,
    result: ProbeResult,
    interested_sent: bool,
    rejects: usize,
}

struct ProbePiece {
    index: u32,
    size: usize,
    /// SHA-1 of the blocks received in order so far.
    hasher: Sha1,
    /// Next block to feed the hasher.
    next_hash: usize,
    /// Blocks that arrived ahead of `next_hash` (at most the request pipeline).
    ahead: std::collections::BTreeMap<usize, Vec<u8>>,
    got: Vec<bool>,
    next_block: usize,
    outstanding: usize,
}

impl Probe {
    fn active(&self) -> bool {
        self.current.is_some() || (!self.queue.is_empty() && self.result.unchoked)
    }
}

struct MetaFetch {
    asm: MetadataAssembler,
    _slot: FetchSlot,
}

async fn send(stream: &mut TcpStream, msg: &Message) -> Result<(), Failure> {
    stream
        .write_all(&msg.encode())
        .await
        .map_err(|e| classify_io(&e, "session"))
}

async fn send_ext(stream: &mut TcpStream, id: u8, payload: Vec<u8>) -> Result<(), Failure> {
    send(stream, &Message::Extended { id, payload }).await
}

async fn run(
    addr: SocketAddr,
    ctx: &SessionCtx,
    rec: &mut PeerRecord,
    ev: &mut PieceEvidence,
) -> Result<&'static str, Failure> {
    let cfg = &ctx.cfg;
    let t0 = Instant::now();
    let mut stream = match tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr)).await
    {
        Err(_) => {
            return Err(Failure::new(
                FailureReason::Timeout,
                "connect",
                format!(
                    "no answer within {:.1} s",
                    cfg.connect_timeout.as_secs_f64()
                ),
            ))
        }
        Ok(Err(e)) => return Err(classify_io(&e, "connect")),
        Ok(Ok(s)) => s,
    };
    rec.connect_ms = Some(t0.elapsed().as_millis() as u64);
    let _ = stream.set_nodelay(true);

    // BEP 3 handshake.
    let ours = Handshake {
        reserved: reserved::ours(),
        info_hash: ctx.info_hash,
        peer_id: our_peer_id(),
    };
    stream
        .write_all(&ours.encode())
        .await
        .map_err(|e| classify_io(&e, "handshake"))?;
    let mut hs = [0u8; wire::HANDSHAKE_LEN];
    let hs_timeout = cfg.connect_timeout.max(Duration::from_secs(1)) * 2;
    match tokio::time::timeout(hs_timeout, stream.read_exact(&mut hs)).await {
        Err(_) => {
            return Err(Failure::new(
                FailureReason::Timeout,
                "handshake",
                format!("no handshake within {:.1} s", hs_timeout.as_secs_f64()),
            ))
        }
        Ok(Err(e)) => {
            let mut f = classify_io(&e, "handshake");
            if f.reason == FailureReason::Disconnected {
                f.detail = format!("connection closed during the handshake ({e})");
            }
            return Err(f);
        }
        Ok(Ok(_)) => {}
    }
    let theirs = Handshake::decode(&hs)
        .map_err(|e| Failure::new(FailureReason::BadHandshake, "handshake", e.to_string()))?;
    if theirs.info_hash != ctx.info_hash {
        return Err(Failure::new(
            FailureReason::WrongInfoHash,
            "handshake",
            format!("peer answered for {}", theirs.info_hash),
        ));
    }
    rec.reached = true;
    rec.reserved = Some(hex::encode(theirs.reserved));
    rec.supports_extensions = reserved::has(&theirs.reserved, reserved::EXTENSION);
    rec.supports_dht = reserved::has(&theirs.reserved, reserved::DHT);
    rec.supports_fast = reserved::has(&theirs.reserved, reserved::FAST);
    rec.peer_id = Some(hex::encode(theirs.peer_id));
    rec.peer_id_prefix = Some(peer_id_prefix(&theirs.peer_id));
    rec.client_from_peer_id = client_from_peer_id(&theirs.peer_id);
    rec.client = rec.client_from_peer_id.clone();
    let connected = Instant::now();
    let ms = || connected.elapsed().as_millis() as u64;

    if rec.supports_extensions {
        let meta_size = ctx.meta.get().map(|i| i.raw.len() as u64);
        send_ext(
            &mut stream,
            ext::HANDSHAKE_ID,
            ExtHandshake::ours(CLIENT_VERSION, meta_size).encode(),
        )
        .await?;
    }
    if rec.supports_fast {
        send(&mut stream, &Message::HaveNone).await?;
    }

    let mut dec = Decoder::new(wire::DEFAULT_MAX_MESSAGE);
    let mut buf = vec![0u8; 64 * 1024];
    let mut ext_hs: Option<ExtHandshake> = None;
    let mut ext_wait_over = !rec.supports_extensions;
    let mut announced = false;
    let mut basic_done_at: Option<Instant> = None;
    let mut fetch: Option<MetaFetch> = None;
    let mut fetch_tried = false;
    let want_probe = cfg.probe_pieces > 0;
    let mut probe = Probe {
        queue: Default::default(),
        chosen: false,
        current: None,
        started: None,
        result: ProbeResult::default(),
        interested_sent: false,
        rejects: 0,
    };
    let mut choked = true;

    loop {
        let now = Instant::now();
        let info = ctx.meta.get();
        // Announcement waits.
        if !ext_wait_over && now >= connected + ANNOUNCE_WAIT {
            ext_wait_over = true;
        }
        let announce_over = announced || now >= connected + ANNOUNCE_WAIT;
        if basic_done_at.is_none() && ext_wait_over && announce_over {
            basic_done_at = Some(now);
        }
        // Start a metadata fetch if needed and possible.
        if info.is_none() && fetch.is_none() && !fetch_tried {
            if let Some(h) = &ext_hs {
                if let (Some(id), Some(size)) = (h.id_of("ut_metadata"), h.metadata_size) {
                    if let Some(slot) = ctx.meta.try_fetch_slot() {
                        fetch_tried = true;
                        let asm = MetadataAssembler::new(size);
                        for piece in 0..asm.num_pieces() {
                            send_ext(&mut stream, id, MetadataMsg::Request { piece }.encode())
                                .await?;
                        }
                        fetch = Some(MetaFetch { asm, _slot: slot });
                    }
                }
            }
        }
        if info.is_some() && fetch.is_some() {
            fetch = None; // someone else got it
        }
        // Probing: choose pieces, say interested, request blocks when unchoked.
        if want_probe && !probe.chosen && announce_over {
            if let Some(info) = &info {
                probe.chosen = true;
                let n = info.num_pieces();
                let have = pieces_of(ev, n);
                probe.queue = (0..n as u32)
                    .filter(|&i| have.has(i as usize))
                    .take(cfg.probe_pieces)
                    .collect();
                probe.result.pieces_wanted = probe.queue.len();
                if probe.queue.is_empty() {
                    probe.result.note = Some("peer has no pieces".into());
                }
                rec.probe = Some(probe.result.clone());
            }
        }
        if want_probe && !probe.queue.is_empty() && !probe.interested_sent {
            probe.interested_sent = true;
            send(&mut stream, &Message::Interested).await?;
        }
        if want_probe && !choked {
            if let Some(info) = &info {
                fill_requests(&mut stream, &mut probe, info).await?;
            }
        }
        // Done?
        let linger = if want_probe
            && (!probe.chosen || !probe.queue.is_empty() || probe.current.is_some())
        {
            cfg.linger.max(UNCHOKE_WAIT)
        } else {
            cfg.linger
        };
        let mut wake = connected + ANNOUNCE_WAIT;
        if let Some(b) = basic_done_at {
            let end = b + linger;
            let busy = fetch.is_some() || (probe.active() && !choked);
            if now >= end && !busy {
                return Ok("done");
            }
            wake = if now >= end {
                now + Duration::from_millis(500)
            } else {
                end
            };
        } else if wake <= now {
            wake = now + Duration::from_millis(100);
        }

        let n = tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(n) => n,
                // A reset after the peer told us what we came for is a goodbye, not a failure.
                Err(e) if basic_done_at.is_some()
                    && classify_io(&e, "session").reason == FailureReason::Disconnected =>
                {
                    return Ok("peer_closed")
                }
                Err(e) => return Err(classify_io(&e, "session")),
            },
            _ = tokio::time::sleep_until(wake) => continue,
        };
        if n == 0 {
            if basic_done_at.is_some() {
                return Ok("peer_closed");
            }
            return Err(Failure::new(
                FailureReason::Disconnected,
                "session",
                "peer closed the connection before announcing its pieces",
            ));
        }
        dec.extend(&buf[..n]);
        loop {
            let msg = match dec.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    return Err(Failure::new(
                        FailureReason::ProtocolError,
                        "session",
                        e.to_string(),
                    ))
                }
            };
            match msg {
                Message::KeepAlive | Message::Interested | Message::NotInterested => {}
                Message::Choke => choked = true,
                Message::Unchoke => {
                    choked = false;
                    rec.unchoked_us = true;
                    probe.result.unchoked = true;
                }
                Message::Have(i) => {
                    rec.haves_total += 1;
                    if rec.have_events.len() < MAX_HAVE_EVENTS {
                        rec.have_events.push(HaveEvent { ms: ms(), piece: i });
                    }
                    if ev.haves.len() < MAX_HAVES_KEPT {
                        ev.haves.push(i);
                    }
                    if !announced {
                        announced = true;
                        ev.first_ms.get_or_insert(ms());
                    }
                }
                Message::Bitfield(b) => {
                    if ev.kind.is_some() {
                        rec.warn("second piece announcement ignored");
                        continue;
                    }
                    if let Some(info) = &info {
                        if Bitfield::from_bytes(&b, info.num_pieces()).is_none() {
                            ev.kind = Some("bitfield");
                            ev.raw_bitfield = Some(b);
                            return Err(Failure::new(
                                FailureReason::ProtocolError,
                                "session",
                                format!(
                                    "bitfield of wrong length: {} bytes for {} pieces (want {})",
                                    ev.raw_bitfield.as_ref().map_or(0, Vec::len),
                                    info.num_pieces(),
                                    info.num_pieces().div_ceil(8)
                                ),
                            ));
                        }
                    }
                    ev.kind = Some("bitfield");
                    ev.raw_bitfield = Some(b);
                    ev.first_ms = Some(ms());
                    announced = true;
                }
                Message::HaveAll | Message::HaveNone => {
                    if ev.kind.is_some() {
                        rec.warn("second piece announcement ignored");
                        continue;
                    }
                    ev.kind = Some(if msg == Message::HaveAll {
                        "have_all"
                    } else {
                        "have_none"
                    });
                    ev.first_ms = Some(ms());
                    announced = true;
                }
                Message::Port(p) => rec.dht_port = Some(p),
                Message::Piece { index, begin, data } => {
                    if let Some(info) = &info {
                        on_block(&mut probe, info, index, begin, &data, rec);
                        rec.probe = Some(probe.result.clone());
                    }
                }
                Message::RejectRequest { .. } => {
                    probe.rejects += 1;
                    if let Some(cur) = probe.current.as_mut() {
                        cur.outstanding = cur.outstanding.saturating_sub(1);
                        // Ask again from the first missing block on the next fill.
                        cur.next_block = cur.got.iter().position(|g| !g).unwrap_or(cur.got.len());
                    }
                    if probe.rejects > 256 {
                        probe.queue.clear();
                        probe.current = None;
                        probe.result.note = Some("peer rejected our requests".into());
                        rec.probe = Some(probe.result.clone());
                    }
                }
                Message::Extended {
                    id: ext::HANDSHAKE_ID,
                    payload,
                } => {
                    match ExtHandshake::decode(&payload) {
                        Ok(h) => {
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
                                rec.warn(format!(
                                    "{} extensions over the cap ignored",
                                    h.m_dropped
                                ));
                            }
                            rec.ext = Some(ExtInfo {
                                p: h.p,
                                reqq: h.reqq,
                                yourip: h.yourip.map(|ip| ip.to_string()),
                                metadata_size: h.metadata_size,
                                upload_only: h.upload_only,
                            });
                            ext_hs = Some(h);
                        }
                        Err(e) => rec.warn(format!("bad extension handshake: {e}")),
                    }
                    ext_wait_over = true;
                }
                Message::Extended {
                    id: LOCAL_UT_PEX,
                    payload,
                } => {
                    rec.pex_messages += 1;
                    match PexMessage::decode(&payload) {
                        Ok(p) => {
                            if p.truncated > 0 {
                                rec.pex_truncated += p.truncated;
                                rec.warn(format!(
                                    "ut_pex message named {} peers, kept {}",
                                    p.truncated + p.added.len() + p.dropped.len(),
                                    p.added.len() + p.dropped.len()
                                ));
                            }
                            let added: Vec<SocketAddr> =
                                p.added.into_iter().filter(usable).collect();
                            for a in &added {
                                let s = a.to_string();
                                if rec.pex_neighbours.len() < MAX_PEX_NEIGHBOURS
                                    && !rec.pex_neighbours.contains(&s)
                                {
                                    rec.pex_neighbours.push(s);
                                } else if rec.pex_neighbours.len() >= MAX_PEX_NEIGHBOURS {
                                    rec.pex_truncated += 1;
                                }
                            }
                            if let Some(tx) = &ctx.pex_tx {
                                if !added.is_empty() {
                                    let _ = tx.try_send((addr, added));
                                }
                            }
                        }
                        Err(e) => rec.warn(format!("bad ut_pex message: {e}")),
                    }
                }
                Message::Extended {
                    id: LOCAL_UT_METADATA,
                    payload,
                } => {
                    match MetadataMsg::decode(&payload) {
                        Ok(MetadataMsg::Request { piece }) => {
                            // We serve no metadata.
                            if let Some(id) = ext_hs.as_ref().and_then(|h| h.id_of("ut_metadata")) {
                                send_ext(&mut stream, id, MetadataMsg::Reject { piece }.encode())
                                    .await?;
                            }
                        }
                        Ok(MetadataMsg::Reject { .. }) => {
                            if fetch.take().is_some() {
                                rec.metadata = Some("rejected".into());
                            }
                        }
                        Ok(MetadataMsg::Data {
                            piece,
                            total_size,
                            data,
                        }) => {
                            let Some(f) = fetch.as_mut() else { continue };
                            if let Err(e) = f.asm.add(piece, total_size, &data) {
                                rec.metadata = Some("bad_piece".into());
                                return Err(Failure::new(
                                    FailureReason::ProtocolError,
                                    "session",
                                    format!("ut_metadata: {e}"),
                                ));
                            }
                            if f.asm.is_complete() {
                                let f = fetch.take().expect("fetch present");
                                let raw = match f.asm.finish(&ctx.info_hash) {
                                    Ok(raw) => raw,
                                    Err(e) => {
                                        rec.metadata = Some("bad_hash".into());
                                        return Err(Failure::new(
                                            FailureReason::ProtocolError,
                                            "session",
                                            format!("ut_metadata: {e}"),
                                        ));
                                    }
                                };
                                match Info::from_bytes(&raw) {
                                    Ok(i) => {
                                        rec.metadata = Some("fetched".into());
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
                        }
                        Err(e) => rec.warn(format!("bad ut_metadata message: {e}")),
                    }
                }
                Message::Extended { id, .. } => {
                    rec.warn(format!("extended message with unknown id {id}"))
                }
                Message::Request { .. }
                | Message::Cancel { .. }
                | Message::SuggestPiece(_)
                | Message::AllowedFast(_) => {}
                Message::Unknown { id, .. } => rec.warn(format!("unknown message id {id}")),
            }
        }
        if probe.started.is_some() {
            let p = &mut probe;
            p.result.seconds = p.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0);
            if p.current.is_none()
                && p.queue.is_empty()
                && p.result.bytes > 0
                && p.result.rate_bps.is_none()
            {
                p.result.rate_bps = Some(p.result.bytes as f64 / p.result.seconds.max(1e-6));
                p.started = None;
            }
            rec.probe = Some(p.result.clone());
        }
    }
}

/// A peer address worth connecting to.
pub fn usable(a: &SocketAddr) -> bool {
    a.port() != 0
        && !a.ip().is_unspecified()
        && !a.ip().is_multicast()
        && a.ip() != std::net::IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
}

fn pieces_of(ev: &PieceEvidence, n: usize) -> Bitfield {
    let mut bf = match (ev.kind, &ev.raw_bitfield) {
        (Some("have_all"), _) => Bitfield::full(n),
        (Some("bitfield"), Some(raw)) => {
            Bitfield::from_bytes(raw, n).unwrap_or_else(|| Bitfield::new(n))
        }
        _ => Bitfield::new(n),
    };
    for &h in &ev.haves {
        bf.set(h as usize);
    }
    bf
}

async fn fill_requests(
    stream: &mut TcpStream,
    probe: &mut Probe,
    info: &Info,
) -> Result<(), Failure> {
    if probe.current.is_none() {
        let Some(index) = probe.queue.pop_front() else {
            return Ok(());
        };
        let size = info.piece_size(index as usize) as usize;
        let blocks = size.div_ceil(BLOCK_SIZE as usize);
        probe.current = Some(ProbePiece {
            index,
            size,
            hasher: Sha1::new(),
            next_hash: 0,
            ahead: Default::default(),
            got: vec![false; blocks],
            next_block: 0,
            outstanding: 0,
        });
        probe.started.get_or_insert_with(Instant::now);
    }
    let cur = probe.current.as_mut().expect("current piece");
    let mut out = Vec::new();
    while cur.outstanding < PROBE_PIPELINE && cur.next_block < cur.got.len() {
        let b = cur.next_block;
        cur.next_block += 1;
        if cur.got[b] {
            continue;
        }
        let begin = b * BLOCK_SIZE as usize;
        let length = (cur.size - begin).min(BLOCK_SIZE as usize);
        out.extend(
            Message::Request {
                index: cur.index,
                begin: begin as u32,
                length: length as u32,
            }
            .encode(),
        );
        cur.outstanding += 1;
    }
    if !out.is_empty() {
        stream
            .write_all(&out)
            .await
            .map_err(|e| classify_io(&e, "session"))?;
    }
    Ok(())
}

fn on_block(
    probe: &mut Probe,
    info: &Info,
    index: u32,
    begin: u32,
    data: &[u8],
    rec: &mut PeerRecord,
) {
    let Some(cur) = probe.current.as_mut() else {
        rec.warn("piece data we did not request");
        return;
    };
    let b = begin as usize / BLOCK_SIZE as usize;
    let expected_len = (cur.size.saturating_sub(begin as usize)).min(BLOCK_SIZE as usize);
    if index != cur.index
        || begin % BLOCK_SIZE != 0
        || b >= cur.got.len()
        || data.len() != expected_len
        || cur.got[b]
    {
        rec.warn(format!(
            "unexpected block: piece {index} offset {begin} length {}",
            data.len()
        ));
        return;
    }
    cur.got[b] = true;
    cur.outstanding = cur.outstanding.saturating_sub(1);
    probe.result.bytes += data.len() as u64;
    // Hash in order; keep early blocks until their turn (bounded by the pipeline).
    if b == cur.next_hash {
        cur.hasher.update(data);
        cur.next_hash += 1;
        while let Some(next) = cur.ahead.remove(&cur.next_hash) {
            cur.hasher.update(&next);
            cur.next_hash += 1;
        }
    } else {
        cur.ahead.insert(b, data.to_vec());
    }
    if cur.next_hash == cur.got.len() {
        let digest: [u8; 20] = std::mem::take(&mut cur.hasher).finalize().into();
        if info.pieces.get(cur.index as usize) == Some(&digest) {
            probe.result.pieces_verified += 1;
        } else {
            probe.result.pieces_failed += 1;
        }
        probe.current = None;
    }
}
