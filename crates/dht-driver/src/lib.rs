//! The tokio driver of the sans-IO DHT node: it owns the UDP socket and the clock,
//! feeds datagrams and timeouts to [`swarmlab_dht::Node`], sends what the node wants
//! sent, saves the routing table, and offers an async API ([`Dht`]).
#![allow(missing_docs)] // issue 7: documented by the structure work, then removed

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use swarmlab_dht::lookup::{LookupId, LookupKind, LookupResult};
use swarmlab_dht::node::{Event, Node, NodeConfig, Stats};
use swarmlab_dht::routing::BucketStats;
use swarmlab_krpc::Id;
use tokio::io::Interest;
use tokio::net::UdpSocket;

#[cfg(target_os = "linux")]
mod mmsg;
use tokio::sync::{mpsc, oneshot};

/// Receive buffer of a node's socket.
pub const RECV_BUF: usize = 2048;

/// How to run a node.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    pub bind: SocketAddr,
    /// A second socket for the other address family (normally IPv6, e.g. `[::]:6881`):
    /// it runs a second node with the same id and its own routing table (BEP 32), and
    /// lookups run on both.
    pub bind6: Option<SocketAddr>,
    pub node: NodeConfig,
    /// `host:port` names, resolved when the node starts (and again while the table is
    /// empty and none resolved).
    pub bootstrap: Vec<String>,
    /// Node id and routing table, loaded at start, saved periodically and on shutdown.
    pub state_file: Option<PathBuf>,
    pub save_interval: Duration,
}

impl DriverConfig {
    pub fn new(bind: SocketAddr) -> DriverConfig {
        DriverConfig {
            bind,
            bind6: None,
            node: NodeConfig {
                seed: rand::random(),
                ..NodeConfig::default()
            },
            bootstrap: Vec::new(),
            state_file: None,
            save_interval: Duration::from_secs(60),
        }
    }
}

/// Errors of the driver.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot bind UDP {0}: {1}")]
    Bind(SocketAddr, io::Error),
    #[error("invalid node configuration: {0}")]
    Config(#[from] swarmlab_dht::ConfigError),
    #[error("{0}")]
    Lookup(#[from] swarmlab_dht::node::LookupError),
    #[error("the node has stopped")]
    Stopped,
    #[error("state file {0}: {1}")]
    State(PathBuf, String),
}

/// A snapshot of the node for `stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: Id,
    pub addr: SocketAddr,
    pub external: Option<SocketAddr>,
    pub uptime_s: f64,
    pub table_nodes: usize,
    pub table_good: usize,
    pub cached: usize,
    /// (bucket index, nodes, good) for every bucket.
    pub buckets: Vec<(usize, usize, usize)>,
    pub peers_stored: usize,
    pub info_hashes_stored: usize,
    pub lookups_running: usize,
    pub stats: Stats,
    /// The second stack (IPv6), when bound: its address, table size and stats.
    pub second: Option<Box<Snapshot>>,
}

/// The saved state: our id and the routing table.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub id: String,
    pub nodes: Vec<SavedNode>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedNode {
    pub id: String,
    pub addr: SocketAddr,
}

impl State {
    fn of(nodes: &[&Node], now: Instant) -> State {
        State {
            version: 1,
            id: nodes.first().map(|n| n.id().to_hex()).unwrap_or_default(),
            nodes: nodes
                .iter()
                .flat_map(|node| node.nodes(now))
                .map(|n| SavedNode {
                    id: n.id.to_hex(),
                    addr: n.addr,
                })
                .collect(),
        }
    }

    /// Loads a state file; a missing file is `Ok(None)`.
    pub fn load(path: &Path) -> Result<Option<State>, DriverError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DriverError::State(path.to_owned(), e.to_string())),
        };
        let s: State = serde_json::from_str(&text)
            .map_err(|e| DriverError::State(path.to_owned(), e.to_string()))?;
        if Id::from_hex(&s.id).is_none() {
            return Err(DriverError::State(
                path.to_owned(),
                "id is not 40 hex digits".into(),
            ));
        }
        Ok(Some(s))
    }

    /// Writes the state to a temporary name, then renames it into place.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}

enum Command {
    Lookup(
        LookupKind,
        Id,
        oneshot::Sender<Result<LookupResult, DriverError>>,
    ),
    Snapshot(oneshot::Sender<Snapshot>),
    Nodes(oneshot::Sender<Vec<(Id, SocketAddr, bool)>>),
    Shutdown(oneshot::Sender<()>),
}

/// A running node: a handle to its task.
#[derive(Clone)]
pub struct Dht {
    tx: mpsc::UnboundedSender<Command>,
    addr: SocketAddr,
    id: Id,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl Dht {
    /// Binds the socket, loads the state file, starts the node and its bootstrap.
    pub async fn start(mut cfg: DriverConfig) -> Result<Dht, DriverError> {
        let socket = UdpSocket::bind(cfg.bind)
            .await
            .map_err(|e| DriverError::Bind(cfg.bind, e))?;
        let addr = socket
            .local_addr()
            .map_err(|e| DriverError::Bind(cfg.bind, e))?;
        let now = Instant::now();
        let mut saved_nodes = Vec::new();
        if let Some(path) = &cfg.state_file {
            match State::load(path) {
                Ok(Some(s)) => {
                    cfg.node.id = Id::from_hex(&s.id);
                    saved_nodes = s.nodes;
                    tracing::info!("loaded {} nodes from {}", saved_nodes.len(), path.display());
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}: starting with a fresh table"),
            }
        }
        let mut node = Node::new(now, cfg.node.clone())?;
        let id = node.id();
        let mut stacks = Vec::new();
        let second = match cfg.bind6 {
            Some(b6) => {
                let sock6 = UdpSocket::bind(b6)
                    .await
                    .map_err(|e| DriverError::Bind(b6, e))?;
                let cfg6 = NodeConfig {
                    id: Some(id),
                    seed: cfg.node.seed.wrapping_add(1),
                    ..cfg.node.clone()
                };
                Some((sock6, Node::new(now, cfg6)?))
            }
            None => None,
        };
        let mut node6 = second;
        for n in saved_nodes {
            if let Some(nid) = Id::from_hex(&n.id) {
                match &mut node6 {
                    Some((sock6, n6))
                        if sock6
                            .local_addr()
                            .is_ok_and(|l| l.is_ipv4() == n.addr.is_ipv4()) =>
                    {
                        n6.add_node(now, nid, n.addr)
                    }
                    _ => node.add_node(now, nid, n.addr),
                }
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        stacks.push(Stack {
            socket,
            node,
            rx: RxState::new(),
        });
        if let Some((socket, node)) = node6 {
            stacks.push(Stack {
                socket,
                node,
                rx: RxState::new(),
            });
        }
        let task = tokio::spawn(run(stacks, cfg, rx, now));
        Ok(Dht {
            tx,
            addr,
            id,
            _task: Arc::new(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Our id when the node started (a BEP 42 id change shows in [`Dht::snapshot`]).
    pub fn id(&self) -> Id {
        self.id
    }

    /// Runs a lookup and returns its result with the trace.
    pub async fn lookup(&self, kind: LookupKind, target: Id) -> Result<LookupResult, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Lookup(kind, target, tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    pub async fn get_peers(&self, info_hash: Id) -> Result<LookupResult, DriverError> {
        self.lookup(LookupKind::GetPeers, info_hash).await
    }

    /// Announces that we are a peer of `info_hash` on `port` (`None`: implied port).
    pub async fn announce(
        &self,
        info_hash: Id,
        port: Option<u16>,
    ) -> Result<LookupResult, DriverError> {
        self.lookup(LookupKind::Announce { port }, info_hash).await
    }

    pub async fn snapshot(&self) -> Result<Snapshot, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Snapshot(tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    /// The routing table: (id, address, verified) of every entry.
    pub async fn table(&self) -> Result<Vec<(Id, SocketAddr, bool)>, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Nodes(tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    /// Waits until the routing table holds at least `n` nodes, or `limit` passes.
    pub async fn wait_for_nodes(&self, n: usize, limit: Duration) -> Result<usize, DriverError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let s = self.snapshot().await?;
            if s.table_nodes >= n || tokio::time::Instant::now() >= deadline {
                return Ok(s.table_nodes);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the state file (if any) and stops the node.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

async fn resolve(names: &[String]) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for n in names {
        match tokio::net::lookup_host(n.as_str()).await {
            Ok(addrs) => {
                for a in addrs {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
            Err(e) => tracing::warn!("cannot resolve bootstrap {n}: {e}"),
        }
    }
    out
}

fn snapshot(stacks: &[Stack], addr: SocketAddr, started: Instant) -> Snapshot {
    let mut snap = snapshot_of(&stacks[0].node, addr, started);
    if let Some(st) = stacks.get(1) {
        let a6 = st.socket.local_addr().unwrap_or(addr);
        snap.second = Some(Box::new(snapshot_of(&st.node, a6, started)));
    }
    snap
}

fn snapshot_of(node: &Node, addr: SocketAddr, started: Instant) -> Snapshot {
    let now = Instant::now();
    let table = node.table();
    Snapshot {
        id: node.id(),
        addr,
        external: node.external_address(),
        uptime_s: (now - started).as_secs_f64(),
        table_nodes: table.len(),
        table_good: table.good_len(now),
        cached: table.cached_len(),
        buckets: table
            .bucket_stats(now)
            .iter()
            .map(|b: &BucketStats| (b.index, b.nodes(), b.good))
            .collect(),
        peers_stored: node.peer_store().peer_count(),
        info_hashes_stored: node.peer_store().info_hash_count(),
        lookups_running: node.lookups_running(),
        stats: node.stats(),
        second: None,
    }
}

/// One socket and the node that owns it: the IPv4 stack, and the IPv6 one when bound.
struct Stack {
    socket: UdpSocket,
    node: Node,
    rx: RxState,
}

impl Stack {
    fn wake(&self) -> tokio::time::Instant {
        self.node
            .poll_timeout()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(1))
    }

    fn serves(&self, a: &SocketAddr) -> bool {
        self.socket
            .local_addr()
            .is_ok_and(|l| l.is_ipv4() == a.is_ipv4())
    }
}

/// A lookup running on every stack, answered once all have finished.
struct Merge {
    remaining: usize,
    acc: Option<LookupResult>,
    reply: oneshot::Sender<Result<LookupResult, DriverError>>,
}

/// Adds the result of the same lookup on another address family.
fn merge_into(acc: &mut LookupResult, r: LookupResult, k: usize) {
    for p in r.peers {
        if !acc.peers.contains(&p) {
            acc.peers.push(p);
        }
    }
    acc.closest.extend(r.closest);
    let target = acc.target;
    acc.closest.sort_by_key(|(id, _)| id.distance(&target));
    acc.closest.truncate(2 * k);
    acc.announced += r.announced;
    acc.hops = acc.hops.max(r.hops);
    acc.messages += r.messages;
    acc.responses += r.responses;
    acc.timeouts += r.timeouts;
    acc.elapsed_ms = acc.elapsed_ms.max(r.elapsed_ms);
    acc.trace.extend(r.trace);
}

async fn readable(stacks: &[Stack], i: usize) -> usize {
    match stacks.get(i) {
        Some(s) => {
            let _ = s.socket.readable().await;
            i
        }
        None => std::future::pending().await,
    }
}

async fn run(
    mut stacks: Vec<Stack>,
    cfg: DriverConfig,
    mut rx: mpsc::UnboundedReceiver<Command>,
    started: Instant,
) {
    let addr = stacks[0].socket.local_addr().unwrap_or(cfg.bind);
    let mut waiting: HashMap<(usize, LookupId), usize> = HashMap::new();
    let mut merges: HashMap<usize, Merge> = HashMap::new();
    let mut next_merge = 0usize;
    let mut bootstrapped = false;
    let mut next_resolve = tokio::time::Instant::now();
    let mut next_save = tokio::time::Instant::now() + cfg.save_interval;
    let save = |stacks: &[Stack]| {
        if let Some(path) = &cfg.state_file {
            let nodes: Vec<&Node> = stacks.iter().map(|s| &s.node).collect();
            if let Err(e) = State::of(&nodes, Instant::now()).save(path) {
                tracing::warn!("cannot save {}: {e}", path.display());
            }
        }
    };
    loop {
        if !bootstrapped && !cfg.bootstrap.is_empty() && tokio::time::Instant::now() >= next_resolve
        {
            let addrs = resolve(&cfg.bootstrap).await;
            if addrs.is_empty() {
                next_resolve = tokio::time::Instant::now() + Duration::from_secs(5);
            } else {
                for st in stacks.iter_mut() {
                    let mine: Vec<SocketAddr> =
                        addrs.iter().copied().filter(|a| st.serves(a)).collect();
                    if !mine.is_empty() {
                        st.node.bootstrap(Instant::now(), mine);
                    }
                }
                bootstrapped = true;
            }
        }
        let mut wake = stacks
            .iter()
            .map(Stack::wake)
            .min()
            .unwrap_or(next_save)
            .min(next_save);
        if !bootstrapped && !cfg.bootstrap.is_empty() {
            wake = wake.min(next_resolve);
        }
        tokio::select! {
            i = readable(&stacks, 0) => {
                let st = &mut stacks[i];
                receive(&st.socket, &mut st.node, &mut st.rx).await;
            }
            i = readable(&stacks, 1) => {
                let st = &mut stacks[i];
                receive(&st.socket, &mut st.node, &mut st.rx).await;
            }
            _ = tokio::time::sleep_until(wake) => {
                for st in stacks.iter_mut() {
                    st.node.handle_timeout(Instant::now());
                }
                if tokio::time::Instant::now() >= next_save {
                    next_save = tokio::time::Instant::now() + cfg.save_interval;
                    save(&stacks);
                }
            }
            cmd = rx.recv() => match cmd {
                Some(Command::Lookup(kind, target, reply)) => {
                    let m = next_merge;
                    next_merge += 1;
                    let mut started_on = 0;
                    let mut refused = None;
                    for (i, st) in stacks.iter_mut().enumerate() {
                        match st.node.start_lookup(Instant::now(), kind, target) {
                            Ok(lid) => {
                                waiting.insert((i, lid), m);
                                started_on += 1;
                            }
                            Err(e) => refused = Some(e),
                        }
                    }
                    match (started_on, refused) {
                        (0, Some(e)) => { let _ = reply.send(Err(e.into())); }
                        _ => { merges.insert(m, Merge { remaining: started_on, acc: None, reply }); }
                    }
                }
                Some(Command::Snapshot(reply)) => { let _ = reply.send(snapshot(&stacks, addr, started)); }
                Some(Command::Nodes(reply)) => {
                    let now = Instant::now();
                    let nodes = stacks
                        .iter()
                        .flat_map(|st| st.node.nodes(now))
                        .map(|n| (n.id, n.addr, n.last_response.is_some()))
                        .collect();
                    let _ = reply.send(nodes);
                }
                Some(Command::Shutdown(reply)) => {
                    save(&stacks);
                    let _ = reply.send(());
                    return;
                }
                None => {
                    save(&stacks);
                    return;
                }
            }
        }
        for (i, st) in stacks.iter_mut().enumerate() {
            flush(&st.socket, &mut st.node).await;
            while let Some(ev) = st.node.poll_event() {
                match ev {
                    Event::LookupDone(r) => {
                        let Some(m) = waiting.remove(&(i, r.id)) else {
                            continue;
                        };
                        let Some(merge) = merges.get_mut(&m) else {
                            continue;
                        };
                        match merge.acc.as_mut() {
                            Some(acc) => merge_into(acc, *r, cfg.node.k),
                            None => merge.acc = Some(*r),
                        }
                        merge.remaining -= 1;
                        if merge.remaining == 0 {
                            if let Some(done) = merges.remove(&m) {
                                if let Some(result) = done.acc {
                                    let _ = done.reply.send(Ok(result));
                                }
                            }
                        }
                    }
                    Event::ExternalAddress(a) => tracing::info!("external address: {a}"),
                    Event::IdChanged(id) => tracing::info!("new node id (BEP 42): {id}"),
                }
            }
        }
    }
}

/// Receive buffers: one batch of `mmsg::BATCH` (16) datagrams of [`RECV_BUF`] bytes,
/// 32 KiB per node. KRPC datagrams stay near 1,400 bytes (BEP 5 replies fit one MTU;
/// libtorrent sends nothing longer); a longer one is truncated to 2 KiB and then dropped
/// as garbage.
struct RxState {
    #[cfg(target_os = "linux")]
    batch: mmsg::RecvBatch,
    #[cfg(not(target_os = "linux"))]
    buf: Vec<u8>,
}

impl RxState {
    fn new() -> RxState {
        RxState {
            #[cfg(target_os = "linux")]
            batch: mmsg::RecvBatch::new(RECV_BUF),
            #[cfg(not(target_os = "linux"))]
            buf: vec![0u8; RECV_BUF],
        }
    }
}

/// Reads what is waiting (in batches on Linux), hands it to the node, and sends the
/// replies, a bounded number of rounds before returning to the event loop.
async fn receive(socket: &UdpSocket, node: &mut Node, rx: &mut RxState) {
    for _ in 0..64 {
        let now = Instant::now();
        #[cfg(target_os = "linux")]
        let got = {
            use std::os::fd::AsRawFd;
            let fd = socket.as_raw_fd();
            match socket.try_io(Interest::READABLE, || rx.batch.recv(fd)) {
                Ok(n) => {
                    for i in 0..n {
                        if let Some((from, data)) = rx.batch.get(i) {
                            node.handle(now, from, data);
                        }
                    }
                    n
                }
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        tracing::debug!("recv: {e}");
                    }
                    0
                }
            }
        };
        #[cfg(not(target_os = "linux"))]
        let got = match socket.try_recv_from(&mut rx.buf) {
            Ok((n, from)) => {
                node.handle(now, from, &rx.buf[..n]);
                1
            }
            Err(_) => 0,
        };
        flush(socket, node).await;
        if got == 0 {
            return;
        }
    }
}

/// Sends everything the node queued: in `sendmmsg` batches on Linux, then, for what the
/// socket buffer did not take, one awaited send at a time.
async fn flush(socket: &UdpSocket, node: &mut Node) {
    let mut out: Vec<swarmlab_dht::node::Transmit> = Vec::new();
    while let Some(t) = node.poll_transmit() {
        out.push(t);
    }
    if out.is_empty() {
        return;
    }
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        let msgs: Vec<(SocketAddr, &[u8])> =
            out.iter().map(|t| (t.to, t.payload.as_slice())).collect();
        match socket.try_io(Interest::WRITABLE, || mmsg::send_batch(fd, &msgs)) {
            Ok(n) => done = n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                // One bad destination fails the whole call: fall back to single sends.
                tracing::debug!("sendmmsg: {e}");
            }
        }
    }
    for t in &out[done..] {
        match socket.try_send_to(&t.payload, t.to) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = socket.send_to(&t.payload, t.to).await {
                    tracing::debug!("send to {}: {e}", t.to);
                }
            }
            Err(e) => tracing::debug!("send to {}: {e}", t.to),
        }
    }
}

/// Starts `n` nodes in this process, node `i` on 127.`base`+… addresses (each its own
/// IP: `127.B.x.y` counting up from `first`), every node bootstrapping from node 0.
pub async fn testnet(
    n: usize,
    first: std::net::Ipv4Addr,
    port: u16,
    node_cfg: NodeConfig,
) -> Result<Vec<Dht>, DriverError> {
    let mut nodes: Vec<Dht> = Vec::with_capacity(n);
    let base = u32::from(first);
    for i in 0..n {
        let ip = std::net::Ipv4Addr::from(base + i as u32);
        let mut cfg = DriverConfig::new(SocketAddr::from((ip, port)));
        cfg.node = NodeConfig {
            seed: rand::random(),
            ..node_cfg.clone()
        };
        if let Some(first) = nodes.first() {
            cfg.bootstrap = vec![first.local_addr().to_string()];
        }
        nodes.push(Dht::start(cfg).await?);
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_nodes_bootstrap_lookup_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = NodeConfig {
            limits: swarmlab_dht::limits::Limits::unlimited(),
            ..NodeConfig::default()
        };
        let net = testnet(20, "127.31.0.1".parse().unwrap(), 6881, cfg.clone())
            .await
            .unwrap();
        for n in &net[1..] {
            assert!(n.wait_for_nodes(1, Duration::from_secs(10)).await.unwrap() >= 1);
        }
        let ih = Id([0x5a; 20]);
        let r = net[3].announce(ih, Some(4444)).await.unwrap();
        assert!(r.announced > 0, "{r:?}");
        let r = net[15].get_peers(ih).await.unwrap();
        assert_eq!(r.peers, vec!["127.31.0.4:4444".parse().unwrap()]);

        // A node with a state file: restart it, it answers lookups without bootstrap.
        let state = dir.path().join("state.json");
        let mut c = DriverConfig::new("127.31.1.1:0".parse().unwrap());
        c.node = cfg.clone();
        c.bootstrap = vec![net[0].local_addr().to_string()];
        c.state_file = Some(state.clone());
        let a = Dht::start(c.clone()).await.unwrap();
        assert!(a.wait_for_nodes(8, Duration::from_secs(10)).await.unwrap() >= 8);
        let id = a.id();
        a.shutdown().await;
        let saved = State::load(&state).unwrap().unwrap();
        assert_eq!(saved.id, id.to_hex());
        assert!(saved.nodes.len() >= 8);
        c.bootstrap.clear();
        let b = Dht::start(c).await.unwrap();
        assert_eq!(b.id(), id);
        let r = b.get_peers(ih).await.unwrap();
        assert_eq!(r.peers.len(), 1);
        for n in &net {
            n.shutdown().await;
        }
    }

    /// Waits until both stacks of `d` hold at least one node.
    async fn both_tables(d: &Dht) {
        for _ in 0..200 {
            let s = d.snapshot().await.unwrap();
            if s.table_nodes > 0 && s.second.as_ref().is_some_and(|x| x.table_nodes > 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("tables did not fill: {:?}", d.snapshot().await.unwrap());
    }

    #[tokio::test]
    async fn dual_stack_lookups_cover_both_families() {
        let cfg = NodeConfig {
            limits: swarmlab_dht::limits::Limits::unlimited(),
            ..NodeConfig::default()
        };
        let start = |v4: &str, boot: Vec<String>| {
            let mut c = DriverConfig::new(v4.parse().unwrap());
            c.bind6 = Some("[::1]:0".parse().unwrap());
            c.node = NodeConfig {
                seed: rand::random(),
                ..cfg.clone()
            };
            c.bootstrap = boot;
            Dht::start(c)
        };
        let a = start("127.32.0.1:6881", vec![]).await.unwrap();
        let a6 = a.snapshot().await.unwrap().second.unwrap().addr;
        assert!(a6.is_ipv6());
        let boot = vec![a.local_addr().to_string(), a6.to_string()];
        let b = start("127.32.0.2:6881", boot.clone()).await.unwrap();
        let c = start("127.32.0.3:6881", boot).await.unwrap();
        both_tables(&b).await;
        both_tables(&c).await;
        let ih = Id([0x66; 20]);
        let r = b.announce(ih, Some(7000)).await.unwrap();
        assert!(r.announced >= 2, "announced on one family only: {r:?}");
        let r = c.get_peers(ih).await.unwrap();
        let v4: SocketAddr = "127.32.0.2:7000".parse().unwrap();
        let v6: SocketAddr = "[::1]:7000".parse().unwrap();
        assert!(
            r.peers.contains(&v4) && r.peers.contains(&v6),
            "{:?}",
            r.peers
        );
        assert!(
            r.trace.iter().any(|t| t.node.is_ipv6()) && r.trace.iter().any(|t| t.node.is_ipv4())
        );
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(&p, b"{not json").unwrap();
        assert!(State::load(&p).is_err());
        std::fs::write(&p, br#"{"version":1,"id":"zz","nodes":[]}"#).unwrap();
        assert!(State::load(&p).is_err());
        assert!(State::load(&dir.path().join("missing")).unwrap().is_none());
    }
}
