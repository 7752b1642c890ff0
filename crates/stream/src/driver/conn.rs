//! One peer connection's task: a [`Connection`] whose `sl_stream` messages go to
//! the central task and whose commands (messages to send, PEX) come from it.
//!
//! Messages the session's output buffer cannot take yet wait here; over
//! [`MAX_PENDING`] bytes the peer is too slow for a live stream and is dropped, so
//! a stalled peer cannot grow our memory.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt::Connection;
use swarmlab_bt_wire::session::{Event, SessionConfig, Torrent};
use swarmlab_bt_wire::{CommandError, InfoHash, PeerId};
use tokio::sync::mpsc;

use crate::node::PeerKey;
use crate::EXTENSION;

/// Bytes waiting for a slow peer before it is dropped.
pub const MAX_PENDING: usize = 16 << 20;
/// How often waiting messages are offered to the session again.
const RETRY: Duration = Duration::from_millis(2);

/// From the central task to a connection.
#[derive(Debug)]
pub(super) enum Cmd {
    /// An `sl_stream` payload.
    Send(Vec<u8>),
    /// Peers for a ut_pex message.
    Pex(Vec<SocketAddr>),
    /// We are full: send these peers in a ut_pex message, then close.
    PexAndClose(Vec<SocketAddr>),
}

/// How long a connection we are too full for is given to write its ut_pex message.
const CLOSE_GRACE: Duration = Duration::from_millis(300);

/// From a connection to the central task.
#[derive(Debug)]
pub(super) enum ConnEvent {
    /// The peer speaks `sl_stream`: its listen address (when known) and whether it
    /// says it is the source.
    Up {
        listen: Option<SocketAddr>,
        source: bool,
    },
    /// An `sl_stream` payload.
    Msg(Vec<u8>),
    /// Addresses from the peer's ut_pex.
    Pex(Vec<SocketAddr>),
    /// The connection ended.
    Down(String),
}

/// Wire bytes of every connection, for the report.
#[derive(Debug, Default)]
pub(super) struct Traffic {
    pub(super) out: AtomicU64,
    pub(super) into: AtomicU64,
}

/// What a connection task needs.
pub(super) struct ConnCtx {
    pub(super) key: PeerKey,
    pub(super) info_hash: InfoHash,
    pub(super) own_id: PeerId,
    pub(super) events: mpsc::Sender<(PeerKey, ConnEvent)>,
    pub(super) traffic: Arc<Traffic>,
}

/// Dial `addr` from `local`'s address (when it is not the unspecified one, so the
/// peer sees the address we listen on), then run the connection.
pub(super) async fn dial(
    ctx: ConnCtx,
    local: SocketAddr,
    addr: SocketAddr,
    timeout: Duration,
    cfg: SessionConfig,
    cmds: mpsc::UnboundedReceiver<Cmd>,
) {
    let why = match tokio::time::timeout(timeout, connect(local, addr)).await {
        Ok(Ok(tcp)) => {
            let conn = Connection::outgoing(tcp, cfg, Torrent::new(ctx.info_hash), addr);
            return run(ctx, conn, Some(addr), cmds).await;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "connect timeout".to_string(),
    };
    let _ = ctx.events.send((ctx.key, ConnEvent::Down(why))).await;
}

async fn connect(local: SocketAddr, addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    if !local.ip().is_unspecified() && local.is_ipv4() == addr.is_ipv4() {
        socket.bind(SocketAddr::new(local.ip(), 0))?;
    }
    socket.connect(addr).await
}

/// Run an accepted connection.
pub(super) async fn accepted(
    ctx: ConnCtx,
    stream: tokio::net::TcpStream,
    cfg: SessionConfig,
    cmds: mpsc::UnboundedReceiver<Cmd>,
) {
    match Connection::incoming(stream, cfg) {
        Ok(conn) => run(ctx, conn, None, cmds).await,
        Err(e) => {
            let _ = ctx
                .events
                .send((ctx.key, ConnEvent::Down(e.to_string())))
                .await;
        }
    }
}

async fn run(
    ctx: ConnCtx,
    mut conn: Connection,
    dialled: Option<SocketAddr>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
) {
    let mut seen = (0, 0);
    let reason = drive(&ctx, &mut conn, dialled, &mut cmds, &mut seen).await;
    account(&ctx, &conn, &mut seen);
    let _ = ctx.events.send((ctx.key, ConnEvent::Down(reason))).await;
}

fn account(ctx: &ConnCtx, conn: &Connection, seen: &mut (u64, u64)) {
    let s = conn.session().stats();
    ctx.traffic
        .out
        .fetch_add(s.bytes_out - seen.0, Ordering::Relaxed);
    ctx.traffic
        .into
        .fetch_add(s.bytes_in - seen.1, Ordering::Relaxed);
    *seen = (s.bytes_out, s.bytes_in);
}

async fn drive(
    ctx: &ConnCtx,
    conn: &mut Connection,
    dialled: Option<SocketAddr>,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    seen: &mut (u64, u64),
) -> String {
    let mut pending: VecDeque<Vec<u8>> = VecDeque::new();
    let mut pending_bytes = 0usize;
    let mut up = false;
    loop {
        account(ctx, conn, seen);
        while let Some(m) = pending.front() {
            match conn.session_mut().send_extension(EXTENSION, m) {
                Ok(()) => {
                    pending_bytes -= m.len();
                    pending.pop_front();
                }
                Err(CommandError::OutputFull(_)) => break,
                Err(e) => return format!("cannot send: {e}"),
            }
        }
        let deadline = (!pending.is_empty()).then(|| tokio::time::Instant::now() + RETRY);
        tokio::select! {
            ev = conn.next_event_until(deadline) => {
                let ev = match ev {
                    Ok(None) => continue,
                    Ok(Some(ev)) => ev,
                    Err(e) => return e.to_string(),
                };
                let report = match ev {
                    Event::HandshakeReceived(h) => {
                        let res = if h.info_hash == ctx.info_hash {
                            conn.accept(Torrent::new(ctx.info_hash))
                        } else {
                            conn.refuse()
                        };
                        if let Err(e) = res {
                            return e.to_string();
                        }
                        None
                    }
                    Event::Established(h) if h.peer_id == ctx.own_id => {
                        return "connected to ourselves".into();
                    }
                    Event::ExtHandshake(h) if !up => {
                        if !conn.session().peer_offers(EXTENSION) {
                            return format!("the peer does not speak {EXTENSION}");
                        }
                        up = true;
                        let listen = dialled.or_else(|| {
                            h.p.filter(|&p| p != 0)
                                .map(|p| SocketAddr::new(conn.peer_addr().ip(), p))
                        });
                        let source = h.upload_only == Some(true);
                        Some(ConnEvent::Up { listen, source })
                    }
                    Event::Extension { name, payload } if up && name == EXTENSION => {
                        Some(ConnEvent::Msg(payload))
                    }
                    Event::Pex(p) if up => Some(ConnEvent::Pex(p.added)),
                    _ => None,
                };
                if let Some(r) = report {
                    if ctx.events.send((ctx.key, r)).await.is_err() {
                        return "stopping".into();
                    }
                }
            }
            cmd = cmds.recv() => match cmd {
                Some(Cmd::Send(m)) => {
                    pending_bytes += m.len();
                    pending.push_back(m);
                    if pending_bytes > MAX_PENDING {
                        return format!("too slow: {pending_bytes} bytes waiting");
                    }
                }
                Some(Cmd::Pex(list)) => send_pex(conn, list),
                Some(Cmd::PexAndClose(list)) => {
                    let n = list.len();
                    send_pex(conn, list);
                    // The connection writes what is queued while it waits for events.
                    let until = tokio::time::Instant::now() + CLOSE_GRACE;
                    while let Ok(Some(_)) = conn.next_event_until(Some(until)).await {}
                    account(ctx, conn, seen);
                    return format!("full: told it of {n} peers and closed");
                }
                None => return "closed by us".into(),
            },
        }
    }
}

/// Queues a ut_pex message listing `peers` as added (no flags).
fn send_pex(conn: &mut Connection, peers: Vec<SocketAddr>) {
    let added: Vec<(SocketAddr, u8)> = peers.into_iter().map(|a| (a, 0)).collect();
    let now = tokio::time::Instant::now().into_std();
    let _ = conn.session_mut().send_pex(now, &added, &[]);
}
