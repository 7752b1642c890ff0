//! [`Dht`]: the handle of a running node, and the commands it sends to the node's task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use swarmlab_dht::bep44::Item;
use swarmlab_dht::lookup::{LookupKind, LookupResult, Outcome};
use swarmlab_dht::node::{Node, NodeConfig};
use swarmlab_dht::routing::NodeInfo;
use swarmlab_krpc::{Id, Method, Response};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::error::with_sources;
use crate::event_loop::run;
use crate::stack::{RxState, Stack};
use crate::{DriverConfig, DriverError, Snapshot, State};

/// A lookup to run on every stack.
#[derive(Debug, Clone)]
pub(crate) enum LookupRequest {
    /// find_node, get_peers or announce.
    Plain(LookupKind, Id),
    /// BEP 44 get, mutable items checked with the salt.
    Get(Id, Vec<u8>),
    /// BEP 44 put, with compare-and-swap.
    Put(Box<Item>, Option<i64>),
}

/// The answer to one query sent with [`Dht::query`]: the response, or what became of
/// the query.
pub type QueryReply = Result<Box<Response>, Outcome>;

/// What the handle asks the node's task; each carries the channel for the answer.
pub(crate) enum Command {
    /// Run a lookup on every stack and answer with the merged result.
    Lookup(
        LookupRequest,
        oneshot::Sender<Result<LookupResult, DriverError>>,
    ),
    /// Send one query to one node (on the stack of its family).
    Query(
        SocketAddr,
        Method,
        oneshot::Sender<Result<QueryReply, DriverError>>,
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
                // The id follows the first node's external address (a BEP 42 id fits
                // one address); the event loop hands its new id to this node.
                let cfg6 = NodeConfig {
                    id: Some(id),
                    seed: cfg.node.seed.wrapping_add(1),
                    secure_id: false,
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
    /// its result with the trace. A BEP 44 put needs its item: [`Dht::put`].
    pub async fn lookup(&self, kind: LookupKind, target: Id) -> Result<LookupResult, DriverError> {
        let req = match kind {
            LookupKind::GetItem => LookupRequest::Get(target, Vec::new()),
            _ => LookupRequest::Plain(kind, target),
        };
        self.ask(|tx| Command::Lookup(req, tx)).await?
    }

    /// BEP 44 get of `target`: the result's `item` is the item found (checked; for a
    /// mutable item, against `salt`, and the highest `seq` of all answers).
    pub async fn get(&self, target: Id, salt: Vec<u8>) -> Result<LookupResult, DriverError> {
        self.ask(|tx| Command::Lookup(LookupRequest::Get(target, salt), tx))
            .await?
    }

    /// BEP 44 put of `item` (compare-and-swap on `cas` for a mutable item): the
    /// result's `announced` counts the nodes that stored it.
    pub async fn put(&self, item: Item, cas: Option<i64>) -> Result<LookupResult, DriverError> {
        self.ask(|tx| Command::Lookup(LookupRequest::Put(Box::new(item), cas), tx))
            .await?
    }

    /// Sends one query to `to` (a `sample_infohashes` of the crawl, a probe) and waits
    /// for its answer, a timeout or an error reply.
    pub async fn query(&self, to: SocketAddr, method: Method) -> Result<QueryReply, DriverError> {
        self.ask(|tx| Command::Query(to, method, tx)).await?
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
