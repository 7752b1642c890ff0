//! [`Dht`]: the handle of a running node, and the commands it sends to the node's task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use swarmlab_dht::lookup::{LookupKind, LookupResult};
use swarmlab_dht::node::{Node, NodeConfig};
use swarmlab_dht::routing::NodeInfo;
use swarmlab_krpc::Id;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::error::with_sources;
use crate::event_loop::run;
use crate::stack::{RxState, Stack};
use crate::{DriverConfig, DriverError, Snapshot, State};

/// What the handle asks the node's task; each carries the channel for the answer.
pub(crate) enum Command {
    /// Run a lookup on every stack and answer with the merged result.
    Lookup(
        LookupKind,
        Id,
        oneshot::Sender<Result<LookupResult, DriverError>>,
    ),
    /// A [`Snapshot`].
    Snapshot(oneshot::Sender<Snapshot>),
    /// Every routing-table entry of every stack.
    Nodes(oneshot::Sender<Vec<NodeInfo>>),
    /// Save the state file and stop.
    Shutdown(oneshot::Sender<()>),
}

/// A running node: a handle to its task. Clones share the node; the task ends with
/// [`Dht::shutdown`] or when the last handle is dropped.
#[derive(Clone)]
pub struct Dht {
    tx: mpsc::UnboundedSender<Command>,
    addr: SocketAddr,
    id: Id,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl Dht {
    /// Binds the socket(s), loads the state file (a corrupt one is logged and the node
    /// starts fresh), starts the node and its bootstrap.
    pub async fn start(mut cfg: DriverConfig) -> Result<Dht, DriverError> {
        let socket = bind(cfg.bind).await?;
        let addr = socket.local_addr().map_err(|source| DriverError::Bind {
            addr: cfg.bind,
            source,
        })?;
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
                Err(e) => tracing::warn!("{}: starting with a fresh table", with_sources(&e)),
            }
        }
        let mut node = Node::new(now, cfg.node.clone())?;
        let id = node.id();
        let mut second = match cfg.bind6 {
            Some(b6) => {
                let cfg6 = NodeConfig {
                    id: Some(id),
                    seed: cfg.node.seed.wrapping_add(1),
                    ..cfg.node.clone()
                };
                Some((bind(b6).await?, Node::new(now, cfg6)?))
            }
            None => None,
        };
        for n in saved_nodes {
            let Some(nid) = Id::from_hex(&n.id) else {
                continue;
            };
            match &mut second {
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
        let mut stacks = vec![Stack {
            socket,
            node,
            rx: RxState::new(),
        }];
        if let Some((socket, node)) = second {
            stacks.push(Stack {
                socket,
                node,
                rx: RxState::new(),
            });
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(stacks, cfg, rx, now));
        Ok(Dht {
            tx,
            addr,
            id,
            _task: Arc::new(task),
        })
    }

    /// The (first) socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Our id when the node started (a BEP 42 id change shows in [`Dht::snapshot`]).
    pub fn id(&self) -> Id {
        self.id
    }

    /// Asks the node's task and waits for its answer.
    async fn ask<T>(
        &self,
        cmd: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(cmd(tx)).map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    /// Runs a lookup (on both stacks when two are bound, results merged) and returns
    /// its result with the trace.
    pub async fn lookup(&self, kind: LookupKind, target: Id) -> Result<LookupResult, DriverError> {
        self.ask(|tx| Command::Lookup(kind, target, tx)).await?
    }

    /// Peers of `info_hash` (a get_peers lookup).
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

    /// A snapshot of the node: table, peer store, counters.
    pub async fn snapshot(&self) -> Result<Snapshot, DriverError> {
        self.ask(Command::Snapshot).await
    }

    /// Every routing-table entry of every stack, with its state and history.
    pub async fn table(&self) -> Result<Vec<NodeInfo>, DriverError> {
        self.ask(Command::Nodes).await
    }

    /// Waits until the routing table holds at least `n` nodes, or `limit` passes;
    /// returns the table size then.
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
        let _ = self.ask(Command::Shutdown).await;
    }
}

async fn bind(addr: SocketAddr) -> Result<UdpSocket, DriverError> {
    UdpSocket::bind(addr)
        .await
        .map_err(|source| DriverError::Bind { addr, source })
}
