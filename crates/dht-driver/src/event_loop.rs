//! The node's task: one loop that waits for a readable socket, a timer, resolved
//! bootstrap addresses or a command, hands it to the node(s), sends what they queued
//! and reports finished lookups and query answers.
//!
//! With two stacks, each node answers `want` for the other family from the other's
//! table (`Node::handle_with`), and the first node's new BEP 42 id is given to the
//! second (`Node::set_id`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_dht::lookup::{LookupId, LookupResult};
use swarmlab_dht::node::{Event, QueryId};
use swarmlab_dht::{LookupError, Node};
use tokio::sync::{mpsc, oneshot};

use crate::bootstrap;
use crate::error::with_sources;
use crate::handle::{Command, LookupRequest, QueryReply};
use crate::stack::{flush, receive, Stack};
use crate::{DriverConfig, DriverError, Snapshot, State};

/// A lookup running on every stack, answered once all have finished.
struct Merge {
    remaining: usize,
    acc: Option<LookupResult>,
    reply: oneshot::Sender<Result<LookupResult, DriverError>>,
}

/// Resolves when stack `i`'s socket is readable; never when there is no stack `i`.
async fn readable(stacks: &[Stack], i: usize) -> usize {
    match stacks.get(i) {
        Some(s) => {
            let _ = s.socket.readable().await;
            i
        }
        None => std::future::pending().await,
    }
}

/// The next resolved bootstrap addresses; never once the resolver is done.
async fn resolved(rx: &mut Option<mpsc::UnboundedReceiver<Vec<SocketAddr>>>) -> Vec<SocketAddr> {
    match rx {
        Some(r) => match r.recv().await {
            Some(a) => a,
            None => {
                *rx = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

fn save(cfg: &DriverConfig, stacks: &[Stack]) {
    if let Some(path) = &cfg.state_file {
        let nodes: Vec<&Node> = stacks.iter().map(|s| &s.node).collect();
        if let Err(e) = State::of(&nodes, Instant::now()).save(path) {
            tracing::warn!("{}", with_sources(&e));
        }
    }
}

fn start(node: &mut Node, req: &LookupRequest) -> Result<LookupId, LookupError> {
    let now = Instant::now();
    match req {
        LookupRequest::Plain(kind, target) => node.start_lookup(now, *kind, *target),
        LookupRequest::Get(target, salt) => node.start_get(now, *target, salt.clone()),
        LookupRequest::Put(item, cas) => node.start_put(now, (**item).clone(), *cas),
    }
}

/// Aborts the resolver task when the loop ends.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }
}

/// The task: runs until [`Command::Shutdown`] or until every handle is dropped.
pub(crate) async fn run(
    mut stacks: Vec<Stack>,
    cfg: DriverConfig,
    mut rx: mpsc::UnboundedReceiver<Command>,
    started: Instant,
) {
    let addr = stacks[0].socket.local_addr().unwrap_or(cfg.bind);
    let mut waiting: HashMap<(usize, LookupId), usize> = HashMap::new();
    let mut merges: HashMap<usize, Merge> = HashMap::new();
    let mut queries: HashMap<(usize, QueryId), oneshot::Sender<Result<QueryReply, DriverError>>> =
        HashMap::new();
    let mut next_merge = 0usize;
    let mut next_save = tokio::time::Instant::now() + cfg.save_interval;
    let (mut boot_rx, _resolver) = if cfg.bootstrap.is_empty() {
        (None, AbortOnDrop(None))
    } else {
        let (r, t) = bootstrap::spawn(
            cfg.bootstrap.clone(),
            cfg.resolver.clone(),
            cfg.resolve_backoff,
        );
        (Some(r), AbortOnDrop(Some(t)))
    };
    let mut boot_addrs: Vec<SocketAddr> = Vec::new();
    loop {
        let wake = stacks
            .iter()
            .map(Stack::wake)
            .min()
            .unwrap_or(next_save)
            .min(next_save);
        tokio::select! {
            _ = readable(&stacks, 0) => {
                let (first, rest) = stacks.split_at_mut(1);
                receive(&mut first[0], rest.first().map(|s| s.node.table())).await;
            }
            _ = readable(&stacks, 1) => {
                let (first, rest) = stacks.split_at_mut(1);
                if let Some(second) = rest.first_mut() {
                    receive(second, Some(first[0].node.table())).await;
                }
            }
            addrs = resolved(&mut boot_rx) => {
                for a in addrs {
                    if !boot_addrs.contains(&a) {
                        boot_addrs.push(a);
                    }
                }
                for st in stacks.iter_mut() {
                    let mine: Vec<SocketAddr> =
                        boot_addrs.iter().copied().filter(|a| st.serves(a)).collect();
                    if !mine.is_empty() {
                        st.node.bootstrap(Instant::now(), mine);
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                for st in stacks.iter_mut() {
                    st.node.handle_timeout(Instant::now());
                }
                if tokio::time::Instant::now() >= next_save {
                    next_save = tokio::time::Instant::now() + cfg.save_interval;
                    save(&cfg, &stacks);
                }
            }
            cmd = rx.recv() => match cmd {
                Some(Command::Lookup(req, reply)) => {
                    let m = next_merge;
                    next_merge += 1;
                    let mut started_on = 0;
                    let mut refused = None;
                    for (i, st) in stacks.iter_mut().enumerate() {
                        match start(&mut st.node, &req) {
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
                Some(Command::Query(to, method, reply)) => {
                    match stacks.iter().position(|st| st.serves(&to)) {
                        None => { let _ = reply.send(Err(DriverError::NoStack(to))); }
                        Some(i) => match stacks[i].node.query(Instant::now(), to, method) {
                            Some(q) => { queries.insert((i, q), reply); }
                            None => { let _ = reply.send(Err(DriverError::Capped)); }
                        },
                    }
                }
                Some(Command::Snapshot(reply)) => {
                    let _ = reply.send(Snapshot::of(&stacks, addr, started));
                }
                Some(Command::Nodes(reply)) => {
                    let now = Instant::now();
                    let _ = reply.send(stacks.iter().flat_map(|st| st.node.nodes(now)).collect());
                }
                Some(Command::Shutdown(reply)) => {
                    save(&cfg, &stacks);
                    let _ = reply.send(());
                    return;
                }
                None => {
                    save(&cfg, &stacks);
                    return;
                }
            }
        }
        for i in 0..stacks.len() {
            let st = &mut stacks[i];
            flush(&st.socket, &mut st.node).await;
            while let Some(ev) = stacks[i].node.poll_event() {
                match ev {
                    Event::LookupDone(r) => {
                        let Some(m) = waiting.remove(&(i, r.id)) else {
                            continue;
                        };
                        let Some(merge) = merges.get_mut(&m) else {
                            continue;
                        };
                        match merge.acc.as_mut() {
                            // Both families' closest nodes can be among the best: keep 2k.
                            Some(acc) => acc.merge(*r, 2 * cfg.node.k),
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
                    Event::QueryReply { id, reply, .. } => {
                        if let Some(tx) = queries.remove(&(i, id)) {
                            let _ = tx.send(Ok(reply));
                        }
                    }
                    Event::ExternalAddress(a) => tracing::info!("external address: {a}"),
                    Event::IdChanged(id) => {
                        tracing::info!("new node id (BEP 42): {id}");
                        // The second stack follows the first one's id.
                        if i == 0 {
                            if let Some(second) = stacks.get_mut(1) {
                                second.node.set_id(Instant::now(), id);
                                flush(&second.socket, &mut second.node).await;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
