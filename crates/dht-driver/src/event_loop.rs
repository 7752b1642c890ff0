//! The node's task: one loop that waits for a readable socket, a timer or a command,
//! hands it to the node(s), sends what they queued and reports finished lookups.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmlab_dht::lookup::{LookupId, LookupResult};
use swarmlab_dht::node::Event;
use swarmlab_dht::Node;
use tokio::sync::{mpsc, oneshot};

use crate::error::with_sources;
use crate::handle::Command;
use crate::stack::{flush, receive, Stack};
use crate::{DriverConfig, DriverError, Snapshot, State};

/// A lookup running on every stack, answered once all have finished.
struct Merge {
    remaining: usize,
    acc: Option<LookupResult>,
    reply: oneshot::Sender<Result<LookupResult, DriverError>>,
}

/// Resolves the bootstrap names (each may give several addresses), without repeats.
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

fn save(cfg: &DriverConfig, stacks: &[Stack]) {
    if let Some(path) = &cfg.state_file {
        let nodes: Vec<&Node> = stacks.iter().map(|s| &s.node).collect();
        if let Err(e) = State::of(&nodes, Instant::now()).save(path) {
            tracing::warn!("{}", with_sources(&e));
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
    let mut next_merge = 0usize;
    let mut bootstrapped = false;
    let mut next_resolve = tokio::time::Instant::now();
    let mut next_save = tokio::time::Instant::now() + cfg.save_interval;
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
                    save(&cfg, &stacks);
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
                    Event::ExternalAddress(a) => tracing::info!("external address: {a}"),
                    Event::IdChanged(id) => tracing::info!("new node id (BEP 42): {id}"),
                }
            }
        }
    }
}
