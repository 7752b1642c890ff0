//! The stream node on tokio: a TCP listener, one task per peer connection
//! (`conn.rs`, a [`swarmlab_bt::Connection`] each), the DHT (`dht.rs`), and the
//! central task that owns the sans-IO [`Node`], the clock, the input (source) and
//! the output (viewer).
//!
//! Use: [`Bound::bind`] (the listener; its address is known before anything
//! flows), then [`Bound::send`] with the key and the input, or [`Bound::recv`] with
//! the stream id and the output. Both return a [`Report`] once the node is done.
//!
//! Peers come from [`DriverConfig::peers`], from the DHT (announce and get_peers on
//! the stream's info-hash, every [`DriverConfig::dht_interval`]), from ut_pex
//! (BEP 11, every peer's listen address is passed on) and from incoming
//! connections. A peer whose messages are hostile is disconnected and never dialled
//! again.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`DriverConfig`], [`Bound`], [`Report`], the central loop |
//! | `conn.rs` | one connection's task, its bounded queue |
//! | `dht.rs` | the DHT announce and lookup task |

mod conn;
mod dht;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde::Serialize;
use swarmlab_bt_wire::session::SessionConfig;
use swarmlab_bt_wire::PeerId;
use swarmlab_dht_driver::Dht;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::StreamError;
use crate::id::StreamId;
use crate::node::{Node, NodeConfig, NodeEvent, NodeStats, PeerKey};
use crate::EXTENSION;
use conn::{Cmd, ConnCtx, ConnEvent, Traffic};

/// Addresses remembered to dial (PEX, DHT), at most.
const MAX_KNOWN: usize = 1000;
/// Bytes read from the input at a time.
const READ_CHUNK: usize = 64 * 1024;
/// A failed address is dialled again after this long.
const REDIAL: Duration = Duration::from_secs(5);

/// How the driver runs. [`DriverConfig::new`] gives the defaults.
#[derive(Clone)]
pub struct DriverConfig {
    /// TCP address to listen on (port 0: any).
    pub listen: SocketAddr,
    /// Peers to dial at start (and again when they drop).
    pub peers: Vec<SocketAddr>,
    /// Connections kept at most, both directions (default 40).
    pub max_peers: usize,
    /// Exchange peers with ut_pex and dial what it gives (default true).
    pub pex: bool,
    /// A running DHT node to find the swarm with, if any.
    pub dht: Option<Dht>,
    /// Time between two DHT announces (default 30 s; the first at start).
    pub dht_interval: Duration,
    /// Giving up on a dial (default 5 s).
    pub connect_timeout: Duration,
    /// The node's behaviour.
    pub node: NodeConfig,
}

impl DriverConfig {
    /// The defaults, listening on `listen`.
    pub fn new(listen: SocketAddr) -> DriverConfig {
        DriverConfig {
            listen,
            peers: Vec::new(),
            max_peers: 40,
            pex: true,
            dht: None,
            dht_interval: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            node: NodeConfig::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The stream.
    pub stream: String,
    /// The node's counters.
    pub node: NodeStats,
    /// Connections that spoke `sl_stream`.
    pub peers: u64,
    /// Peers disconnected for hostile messages.
    pub hostile_peers: u64,
    /// Bytes written to all peers (the whole wire, BitTorrent framing included).
    pub wire_bytes_out: u64,
    /// Bytes read from all peers.
    pub wire_bytes_in: u64,
    /// Seconds from start to done.
    pub seconds: f64,
}

/// A bound listener, ready to send or receive.
pub struct Bound {
    listener: TcpListener,
    local: SocketAddr,
    cfg: DriverConfig,
}

impl Bound {
    /// Bind the listener.
    pub async fn bind(cfg: DriverConfig) -> Result<Bound, StreamError> {
        let listener =
            TcpListener::bind(cfg.listen)
                .await
                .map_err(|source| StreamError::Listen {
                    addr: cfg.listen,
                    source,
                })?;
        let local = listener.local_addr().map_err(StreamError::Io)?;
        Ok(Bound {
            listener,
            local,
            cfg,
        })
    }

    /// The address peers reach us on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Be the source of the stream signed by `key`: read `input` to its end, cut it
    /// into pieces and give them to the swarm; return once every peer has the last
    /// piece (or [`NodeConfig::end_linger`] after it).
    pub async fn send<R>(self, key: SigningKey, mut input: R) -> Result<Report, StreamError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let size = self.cfg.node.piece_size;
        if size == 0 || size > crate::MAX_PIECE_SIZE {
            return Err(StreamError::PieceSize(size));
        }
        let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>(8);
        tokio::spawn(async move {
            loop {
                let mut buf = vec![0u8; READ_CHUNK];
                match input.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.send(Ok(buf)).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        break;
                    }
                }
            }
        });
        let node = Node::source(key, self.cfg.node.clone());
        self.run(node, Some(rx), None).await
    }

    /// Be a viewer of stream `id`: write it to `output` in order as it arrives and
    /// serve what we hold; return once the last piece is written and every peer has
    /// it (or [`NodeConfig::end_linger`] after it).
    pub async fn recv<W>(self, id: StreamId, mut output: W) -> Result<Report, StreamError>
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Arc<[u8]>>(16);
        let writer = tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                output.write_all(&d).await?;
                output.flush().await?;
            }
            output.shutdown().await
        });
        let node = Node::viewer(id, self.cfg.node.clone());
        let report = self.run(node, None, Some(tx)).await;
        match writer.await {
            Ok(Err(e)) => Err(StreamError::Io(e)),
            _ => report,
        }
    }

    async fn run(
        self,
        node: Node,
        input: Option<mpsc::Receiver<std::io::Result<Vec<u8>>>>,
        output: Option<mpsc::Sender<Arc<[u8]>>>,
    ) -> Result<Report, StreamError> {
        let mut c = Central::new(self, node);
        let res = c.run(input, output).await;
        c.conns.clear();
        if let Some(dht) = c.dht_task.take() {
            dht.abort();
        }
        res?;
        Ok(c.report())
    }
}

/// A connection as the central task sees it.
struct Handle {
    cmds: mpsc::UnboundedSender<Cmd>,
    /// Where it listens (dialled address, or the ip and extension handshake port).
    listen: Option<SocketAddr>,
    up: bool,
    /// Accepted while full: told of our peers and closed, never a peer of the node.
    overflow: bool,
}

struct Central {
    listener: TcpListener,
    local: SocketAddr,
    cfg: DriverConfig,
    node: Node,
    own_id: PeerId,
    conns: BTreeMap<PeerKey, Handle>,
    next_key: PeerKey,
    events_tx: mpsc::Sender<(PeerKey, ConnEvent)>,
    events: mpsc::Receiver<(PeerKey, ConnEvent)>,
    known: BTreeSet<SocketAddr>,
    failed: BTreeMap<SocketAddr, Instant>,
    banned: HashSet<SocketAddr>,
    traffic: Arc<Traffic>,
    peers_up: u64,
    hostile_peers: u64,
    started: Instant,
    dht_task: Option<tokio::task::JoinHandle<()>>,
    dht_rx: mpsc::Receiver<Vec<SocketAddr>>,
    dht_tx: mpsc::Sender<Vec<SocketAddr>>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Central {
    fn new(b: Bound, node: Node) -> Central {
        let (events_tx, events) = mpsc::channel(1024);
        let (dht_tx, dht_rx) = mpsc::channel(4);
        let mut own_id = *b"-SL0001-000000000000";
        rand::Rng::fill(&mut rand::thread_rng(), &mut own_id[8..]);
        let known = b.cfg.peers.iter().copied().collect();
        Central {
            listener: b.listener,
            local: b.local,
            cfg: b.cfg,
            node,
            own_id,
            conns: BTreeMap::new(),
            next_key: 0,
            events_tx,
            events,
            known,
            failed: BTreeMap::new(),
            banned: HashSet::new(),
            traffic: Arc::new(Traffic::default()),
            peers_up: 0,
            hostile_peers: 0,
            started: Instant::now(),
            dht_task: None,
            dht_rx,
            dht_tx,
        }
    }

    fn session_config(&self) -> SessionConfig {
        let mut cfg = SessionConfig::new(self.own_id);
        let e = &mut cfg.extensions;
        e.listen_port = Some(self.local.port());
        e.upload_only = self.node.is_source().then_some(true);
        e.ut_metadata = false;
        e.ut_pex = self.cfg.pex;
        e.extra = vec![EXTENSION.to_string()];
        // A piece message and what queues behind it.
        cfg.limits.max_output = 8 << 20;
        cfg
    }

    fn ctx(&mut self) -> (ConnCtx, mpsc::UnboundedReceiver<Cmd>, PeerKey) {
        let key = self.next_key;
        self.next_key += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        self.conns.insert(
            key,
            Handle {
                cmds: tx,
                listen: None,
                up: false,
                overflow: false,
            },
        );
        let ctx = ConnCtx {
            key,
            info_hash: self.node.id().info_hash(),
            own_id: self.own_id,
            events: self.events_tx.clone(),
            traffic: self.traffic.clone(),
        };
        (ctx, rx, key)
    }

    fn dial_more(&mut self) {
        if self.node.is_source() && self.cfg.peers.is_empty() {
            return;
        }
        let busy: HashSet<SocketAddr> = self.conns.values().filter_map(|h| h.listen).collect();
        let t = Instant::now();
        let candidates: Vec<SocketAddr> = self
            .known
            .iter()
            .copied()
            .filter(|a| {
                *a != self.local
                    && !busy.contains(a)
                    && !self.banned.contains(a)
                    && self.failed.get(a).is_none_or(|&f| t >= f + REDIAL)
            })
            .collect();
        for addr in candidates {
            if self.conns.len() >= self.cfg.max_peers {
                break;
            }
            let cfg = self.session_config();
            let (ctx, rx, key) = self.ctx();
            if let Some(h) = self.conns.get_mut(&key) {
                h.listen = Some(addr);
            }
            tokio::spawn(conn::dial(
                ctx,
                self.local,
                addr,
                self.cfg.connect_timeout,
                cfg,
                rx,
            ));
        }
    }

    fn learn(&mut self, addrs: impl IntoIterator<Item = SocketAddr>) {
        for a in addrs {
            if self.known.len() >= MAX_KNOWN {
                break;
            }
            if swarmlab_net::is_valid_peer(&a) {
                self.known.insert(swarmlab_net::canonical(a));
            }
        }
    }

    fn flush(&mut self) {
        while let Some((k, m)) = self.node.poll_transmit() {
            if let Some(h) = self.conns.get(&k) {
                let _ = h.cmds.send(Cmd::Send(m));
            }
        }
        while let Some(e) = self.node.poll_event() {
            match e {
                NodeEvent::Gap { from, to } => {
                    tracing::warn!("pieces {from}..{to} skipped: they left the window")
                }
                NodeEvent::Finished => tracing::info!("the last piece is done"),
            }
        }
    }

    fn on_event(&mut self, key: PeerKey, ev: ConnEvent) {
        let t = now();
        match ev {
            ConnEvent::Up { listen, source } => {
                let others: Vec<SocketAddr> = self
                    .conns
                    .iter()
                    .filter(|(&k, h)| k != key && h.up)
                    .filter_map(|(_, h)| h.listen)
                    .collect();
                if let Some(h) = self.conns.get_mut(&key).filter(|h| h.overflow) {
                    tracing::info!(
                        ?listen,
                        "full: sending {} peers, then closing",
                        others.len()
                    );
                    let _ = h.cmds.send(Cmd::PexAndClose(others));
                    return;
                }
                self.peers_up += 1;
                if let Some(h) = self.conns.get_mut(&key) {
                    h.up = true;
                    if h.listen.is_none() {
                        h.listen = listen;
                    }
                    if self.cfg.pex && !others.is_empty() {
                        let _ = h.cmds.send(Cmd::Pex(others));
                    }
                }
                if let Some(l) = listen {
                    self.failed.remove(&l);
                    self.learn([l]);
                }
                match listen {
                    Some(l) if source => tracing::info!("peer up: {l} (the source)"),
                    Some(l) => tracing::info!("peer up: {l}"),
                    None => tracing::info!("peer up: (no listen port)"),
                }
                self.node.add_peer(t, key, source);
            }
            ConnEvent::Msg(bytes) => {
                if let Err(h) = self.node.handle_message(t, key, &bytes) {
                    self.hostile_peers += 1;
                    if let Some(handle) = self.conns.remove(&key) {
                        tracing::warn!(listen = ?handle.listen, "peer dropped: {h}");
                        if let Some(l) = handle.listen {
                            self.banned.insert(l);
                        }
                    }
                }
            }
            ConnEvent::Pex(addrs) => {
                if self.cfg.pex {
                    self.learn(addrs);
                }
            }
            ConnEvent::Down(reason) => {
                tracing::debug!(key, "connection ended: {reason}");
                if let Some(h) = self.conns.remove(&key) {
                    if let Some(l) = h.listen {
                        self.failed.insert(l, Instant::now());
                    }
                }
                self.node.remove_peer(t, key);
            }
        }
    }

    async fn run(
        &mut self,
        mut input: Option<mpsc::Receiver<std::io::Result<Vec<u8>>>>,
        output: Option<mpsc::Sender<Arc<[u8]>>>,
    ) -> Result<(), StreamError> {
        if let Some(dht) = self.cfg.dht.clone() {
            let ih = self.node.id().info_hash();
            self.dht_task = Some(tokio::spawn(dht::run(
                dht,
                ih,
                self.local.port(),
                self.cfg.dht_interval,
                self.dht_tx.clone(),
            )));
        }
        self.dial_more();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut pex_tick = tokio::time::interval(Duration::from_secs(61));
        loop {
            self.flush();
            // Output first: what can go to the writer goes now, before more input.
            if let Some(tx) = &output {
                while self.node.has_output() {
                    match tx.try_reserve() {
                        Ok(p) => match self.node.poll_output(now()) {
                            Some(d) => p.send(d),
                            None => break,
                        },
                        Err(mpsc::error::TrySendError::Full(())) => break,
                        Err(mpsc::error::TrySendError::Closed(())) => {
                            return Err(StreamError::Io(std::io::ErrorKind::BrokenPipe.into()))
                        }
                    }
                }
                self.flush();
            }
            if self.node.is_done(now()) {
                return Ok(());
            }
            let timer = self.node.poll_timeout().map(Instant::from_std);
            let want_out = output.is_some() && self.node.has_output();
            tokio::select! {
                Some((key, ev)) = self.events.recv() => self.on_event(key, ev),
                res = self.listener.accept(), if self.conns.len() < 3 * self.cfg.max_peers => {
                    if let Ok((stream, from)) = res {
                        if self.banned.contains(&from) {
                            continue;
                        }
                        // Up to twice max_peers are peers; beyond, a connection is
                        // told of our peers and closed, so that a viewer that knows
                        // only us still finds the swarm.
                        let full = self.conns.values().filter(|h| !h.overflow).count()
                            >= 2 * self.cfg.max_peers;
                        let cfg = self.session_config();
                        let (ctx, rx, key) = self.ctx();
                        if let Some(h) = self.conns.get_mut(&key) {
                            h.overflow = full;
                        }
                        tokio::spawn(conn::accepted(ctx, stream, cfg, rx));
                    }
                }
                chunk = recv_input(&mut input) => match chunk {
                    Some(Ok(bytes)) => self.node.push_input(now(), &bytes),
                    Some(Err(e)) => return Err(StreamError::Io(e)),
                    None => {
                        input = None;
                        self.node.finish_input(now());
                    }
                },
                permit = reserve(&output), if want_out => match permit {
                    Some(p) => {
                        if let Some(d) = self.node.poll_output(now()) {
                            p.send(d);
                        }
                    }
                    None => return Err(StreamError::Io(std::io::ErrorKind::BrokenPipe.into())),
                },
                _ = sleep_until(timer) => self.node.handle_timeout(now()),
                _ = tick.tick() => self.dial_more(),
                _ = pex_tick.tick() => self.send_pex(),
                Some(addrs) = self.dht_rx.recv() => {
                    self.learn(addrs);
                    self.dial_more();
                }
            }
        }
    }

    fn send_pex(&mut self) {
        if !self.cfg.pex {
            return;
        }
        let all: Vec<(PeerKey, SocketAddr)> = self
            .conns
            .iter()
            .filter(|(_, h)| h.up)
            .filter_map(|(&k, h)| h.listen.map(|l| (k, l)))
            .collect();
        for h in self.conns.values().filter(|h| h.up) {
            let list: Vec<SocketAddr> = all
                .iter()
                .filter(|(_, l)| Some(*l) != h.listen)
                .map(|&(_, l)| l)
                .take(50)
                .collect();
            if !list.is_empty() {
                let _ = h.cmds.send(Cmd::Pex(list));
            }
        }
    }

    fn report(&self) -> Report {
        Report {
            stream: self.node.id().to_string(),
            node: self.node.stats().clone(),
            peers: self.peers_up,
            hostile_peers: self.hostile_peers,
            wire_bytes_out: self.traffic.out.load(Ordering::Relaxed),
            wire_bytes_in: self.traffic.into.load(Ordering::Relaxed),
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

async fn recv_input(
    input: &mut Option<mpsc::Receiver<std::io::Result<Vec<u8>>>>,
) -> Option<std::io::Result<Vec<u8>>> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn reserve(out: &Option<mpsc::Sender<Arc<[u8]>>>) -> Option<mpsc::Permit<'_, Arc<[u8]>>> {
    match out {
        Some(tx) => tx.reserve().await.ok(),
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
