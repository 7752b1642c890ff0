//! One connection of the server, from the peer's handshake to the end: accept or
//! refuse, announce the pieces, then serve requests and tick until the session ends.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt_wire::session::{BlockRef, Event, ExtConfig, SessionConfig, Torrent};
use swarmlab_bt_wire::wire::{reserved, Bitfield};
use swarmlab_bt_wire::{CommandError, InfoHash};
use swarmlab_net::canonical;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::choker::ConnId;
use super::swarm::{pex_list, PexState, Recipient};
use super::{Inner, PieceSource, ServerStats};
use crate::error::PieceError;
use crate::Connection;

/// How soon to try again to queue a block the session's output buffer had no room for.
const OUTPUT_RETRY: Duration = Duration::from_millis(5);

type Read = JoinHandle<Result<Vec<u8>, PieceError>>;

/// Serves the stream until the connection ends.
pub(super) async fn run(inner: Arc<Inner>, id: ConnId, stream: TcpStream) {
    let Ok(peer_addr) = stream.peer_addr().map(canonical) else {
        return;
    };
    let cfg = session_config(&inner, peer_addr.ip());
    let mut conn = match Connection::incoming(stream, cfg) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%peer_addr, "BitTorrent: {e}");
            return;
        }
    };
    let Some(source) = handshake(&inner, &mut conn, peer_addr).await else {
        return;
    };
    let ih = source.info().info_hash;
    let mut peer = Peer {
        inner: inner.clone(),
        id,
        conn,
        source,
        ih,
        recipient: Recipient {
            ip: peer_addr.ip(),
            ports: vec![peer_addr.port()],
        },
        announced: None,
        pex: PexState::default(),
    };
    peer.serve().await;
    inner.choker().remove(id, std::time::Instant::now());
    inner.swarm().left(&ih, id);
}

fn session_config(inner: &Inner, peer_ip: IpAddr) -> SessionConfig {
    let c = &inner.cfg;
    SessionConfig {
        peer_id: c.peer_id,
        reserved: reserved::ours(),
        extensions: ExtConfig {
            client: Some(c.client.clone()),
            listen_port: c.listen_port,
            yourip: Some(peer_ip),
            upload_only: c.upload_only.then_some(true),
            ut_metadata: true,
            ut_pex: true,
            extra: Vec::new(),
        },
        limits: c.limits.clone(),
        timeouts: c.timeouts.clone(),
    }
}

/// Waits for the peer's handshake and accepts it when its torrent is served.
async fn handshake(
    inner: &Inner,
    conn: &mut Connection,
    peer_addr: SocketAddr,
) -> Option<Arc<dyn PieceSource>> {
    let stats = &inner.stats;
    let h = loop {
        match conn.next_event().await {
            Ok(Event::HandshakeReceived(h)) => break h,
            Ok(_) => {}
            Err(e) => {
                ServerStats::add(&stats.failed_handshakes, 1);
                tracing::debug!(%peer_addr, "BitTorrent handshake failed: {e}");
                return None;
            }
        }
    };
    let Some(source) = inner.source(&h.info_hash) else {
        ServerStats::add(&stats.refused_torrent, 1);
        tracing::info!(
            %peer_addr,
            "BitTorrent: refusing a handshake for {}: {}",
            h.info_hash,
            served(inner)
        );
        let _ = conn.refuse();
        return None;
    };
    if let Err(e) = conn.accept(Torrent::from_info(source.info())) {
        tracing::debug!(%peer_addr, "BitTorrent: cannot accept: {e}");
        return None;
    }
    ServerStats::add(&stats.accepted, 1);
    Some(source)
}

fn served(inner: &Inner) -> String {
    let t = inner
        .torrents
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if t.is_empty() {
        "no torrent is served".into()
    } else {
        let names: Vec<String> = t.keys().map(InfoHash::to_hex).collect();
        format!("not served (serving {})", names.join(", "))
    }
}

fn std_now() -> std::time::Instant {
    Instant::now().into_std()
}

struct Peer {
    inner: Arc<Inner>,
    id: ConnId,
    conn: Connection,
    source: Arc<dyn PieceSource>,
    ih: InfoHash,
    recipient: Recipient,
    /// What we told the peer we have (set once established).
    announced: Option<Bitfield>,
    pex: PexState,
}

impl Peer {
    async fn serve(&mut self) {
        let tick = self.inner.cfg.tick;
        let mut next_tick = Instant::now() + tick;
        let mut reading: Option<(BlockRef, Read)> = None;
        let mut ready: Option<(BlockRef, Vec<u8>)> = None;
        loop {
            if let Some((r, data)) = ready.take() {
                ready = self.send_block(r, data);
            }
            if reading.is_none() && ready.is_none() {
                reading = self.start_read();
            }
            let deadline = if ready.is_some() {
                Instant::now() + OUTPUT_RETRY
            } else {
                next_tick
            };
            tokio::select! {
                done = async { (&mut reading.as_mut().expect("guarded").1).await }, if reading.is_some() => {
                    let Some((r, _)) = reading.take() else { continue };
                    match done {
                        Ok(Ok(data)) if data.len() == r.length as usize => ready = Some((r, data)),
                        Ok(Ok(_)) => self.read_failed(r, &PieceError::NotHeld(r.index)),
                        Ok(Err(e)) => self.read_failed(r, &e),
                        Err(e) => self.read_failed(r, &PieceError::Io { index: r.index, source: std::io::Error::other(e) }),
                    }
                }
                ev = self.conn.next_event_until(Some(deadline)) => match ev {
                    Ok(Some(e)) => self.on_event(e),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::debug!(peer = %self.conn.peer_addr(), "BitTorrent connection ended: {e}");
                        return;
                    }
                },
            }
            if Instant::now() >= next_tick {
                next_tick = Instant::now() + tick;
                if !self.on_tick() {
                    self.conn.session_mut().close();
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        let stats = &self.inner.stats;
        match e {
            Event::Established(_) => self.announce(),
            Event::Interested => {
                self.inner.choker().interested(self.id, std_now());
                self.sync_choke();
            }
            Event::NotInterested => {
                self.inner.choker().remove(self.id, std_now());
                self.sync_choke();
            }
            Event::ExtHandshake(h) => {
                if let Some(p) = h.p.filter(|p| *p != 0) {
                    self.recipient.ports.truncate(1);
                    self.recipient.ports.push(p);
                    let addr = SocketAddr::new(self.recipient.ip, p);
                    self.inner.swarm().joined(self.ih, self.id, addr);
                }
                self.send_pex();
            }
            Event::Pex(m) => {
                ServerStats::add(&stats.pex_received, 1);
                ServerStats::add(&stats.pex_truncated, m.truncated as u64);
            }
            Event::Misbehaviour(m) => {
                tracing::debug!(peer = %self.conn.peer_addr(), "BitTorrent: {m}");
                stats.misbehaved(&m);
            }
            _ => {}
        }
    }

    /// The pieces held now: a bitfield, or have_all/have_none under BEP 6, and
    /// BEP 5's `port`.
    fn announce(&mut self) {
        let held = self.source.held();
        let s = self.conn.session_mut();
        let n = held.len();
        let res = if s.fast() && held.count() == n {
            s.send_have_all()
        } else if s.fast() && held.count() == 0 {
            s.send_have_none()
        } else if held.count() > 0 {
            s.send_bitfield(&held)
        } else {
            Ok(())
        };
        if let Err(e) = res {
            tracing::warn!(peer = %self.conn.peer_addr(), "BitTorrent: cannot announce the pieces: {e}");
            self.conn.session_mut().close();
            return;
        }
        self.announced = Some((*held).clone());
        if let Some(port) = self.inner.dht_port() {
            if self.conn.session().dht() && self.conn.session_mut().send_port(port).is_ok() {
                ServerStats::add(&self.inner.stats.ports_sent, 1);
            }
        }
    }

    /// Haves, choking and PEX; false when the torrent is no longer served.
    fn on_tick(&mut self) -> bool {
        let still = self
            .inner
            .source(&self.ih)
            .is_some_and(|s| Arc::ptr_eq(&s, &self.source));
        if !still {
            tracing::debug!(peer = %self.conn.peer_addr(), "BitTorrent: {} no longer served", self.ih);
            return false;
        }
        if !self.conn.session().is_established() {
            return true;
        }
        self.send_haves();
        self.inner.choker().tick(std_now());
        self.sync_choke();
        self.send_pex();
        true
    }

    fn send_haves(&mut self) {
        let Some(announced) = self.announced.as_mut() else {
            return;
        };
        let held = self.source.held();
        for i in 0..held.len().min(announced.len()) {
            if held.has(i) && !announced.has(i) {
                if self.conn.session_mut().send_have(i as u32).is_err() {
                    return;
                }
                announced.set(i);
                ServerStats::add(&self.inner.stats.haves_sent, 1);
            }
        }
    }

    fn sync_choke(&mut self) {
        let want = self.inner.choker().is_unchoked(self.id);
        let s = self.conn.session_mut();
        let _ = if want { s.unchoke() } else { s.choke() };
    }

    fn send_pex(&mut self) {
        let s = self.conn.session();
        let supported = s
            .peer_extensions()
            .is_some_and(|h| h.id_of("ut_pex").is_some());
        if !s.is_established() || !supported {
            return;
        }
        let max = self.inner.cfg.max_pex_candidates;
        let mut candidates = self.source.pex_peers();
        candidates.truncate(max);
        candidates.extend(self.inner.swarm().others(&self.ih, self.id));
        let list = pex_list(candidates, &self.recipient, max);
        let (added, dropped) = self.pex.diff(&list);
        if added.is_empty() && dropped.is_empty() {
            return;
        }
        let flagged: Vec<(SocketAddr, u8)> = added.iter().map(|a| (*a, 0)).collect();
        match self
            .conn
            .session_mut()
            .send_pex(std_now(), &flagged, &dropped)
        {
            Ok(sent) => {
                self.pex
                    .sent(&added[..sent.added], &dropped[..sent.dropped]);
                ServerStats::add(&self.inner.stats.pex_sent, 1);
            }
            Err(CommandError::PexTooSoon(_)) => {}
            Err(e) => tracing::debug!(peer = %self.conn.peer_addr(), "BitTorrent: no PEX: {e}"),
        }
    }

    /// Starts reading the oldest pending request, if any.
    fn start_read(&mut self) -> Option<(BlockRef, Read)> {
        let r = *self.conn.session().pending_requests().next()?;
        let source = self.source.clone();
        let task = tokio::task::spawn_blocking(move || source.read(r.index, r.begin, r.length));
        Some((r, task))
    }

    /// Queues a block read; gives it back when the output buffer has no room yet.
    fn send_block(&mut self, r: BlockRef, data: Vec<u8>) -> Option<(BlockRef, Vec<u8>)> {
        match self.conn.session_mut().send_piece(r.index, r.begin, &data) {
            Ok(()) => {
                ServerStats::add(&self.inner.stats.blocks_sent, 1);
                ServerStats::add(&self.inner.stats.bytes_sent, data.len() as u64);
                None
            }
            Err(CommandError::OutputFull(_)) => Some((r, data)),
            // Cancelled, or dropped by a choke, while it was read.
            Err(_) => None,
        }
    }

    fn read_failed(&mut self, r: BlockRef, e: &PieceError) {
        ServerStats::add(&self.inner.stats.reads_failed, 1);
        match e {
            PieceError::NotHeld(_) => {
                tracing::debug!(peer = %self.conn.peer_addr(), "BitTorrent: {e}: rejecting {r}")
            }
            _ => tracing::warn!(peer = %self.conn.peer_addr(), "BitTorrent: {e}: rejecting {r}"),
        }
        let _ = self.conn.session_mut().reject(r);
    }
}
