//! The DHT as a peer source: Charlie runs a read-only DHT node (BEP 43: it asks, it is
//! not added to others' tables) and looks up
//! - the **file id**, when known: the peers announced for it become peers of the
//!   file (presumed to hold every chunk until their bitfield or a CHUNK_NOT_FOUND says
//!   otherwise);
//! - the **hash of each chunk still lacking** after that (a chunk's DHT key is its own
//!   SHA-1): the peers announced for it become its holders. A file whose peers answer
//!   for the file id costs one lookup; a chunk nobody offers costs one lookup more,
//!   also during the download, when a refill asks for the chunks left without a
//!   holder.
//!
//! The node starts at the first call and bootstraps from, in this order of
//! preference: `--dht-bootstrap`, the state file (`--dht-state`, also saved when the
//! run ends), the DHT nodes peers announced with BEP 5's `port` message (learned by an
//! earlier visit, or by visiting up to 8 known peers now). The report counts the
//! datagrams the node sent during the call (bootstrap included), the lookups and the
//! peers found.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use swarmlab_course_wire::ChunkHash;
use swarmlab_dht::{Id, NodeConfig};
use swarmlab_dht_driver::{Dht, DriverConfig, State};

use crate::discovery::visits::{visit_all, Tally};
use crate::discovery::{Cost, Found, PeerSource, Query, Swarm, VisitConfig};
use crate::error::DiscoveryError;

/// Most peers taken from one lookup.
pub const MAX_PEERS_PER_LOOKUP: usize = 200;

/// Most known peers visited to learn a DHT port when nothing else gives a bootstrap.
pub const MAX_PORT_VISITS: usize = 8;

/// How Charlie's DHT node runs.
#[derive(Debug, Clone)]
pub struct DhtOptions {
    /// The node's UDP address (`--dht-bind`, default `0.0.0.0:0`).
    pub bind: SocketAddr,
    /// `host:port` nodes to bootstrap from (`--dht-bootstrap`).
    pub bootstrap: Vec<String>,
    /// Node id and routing table, loaded at start and saved at the end (`--dht-state`).
    pub state_file: Option<PathBuf>,
    /// The node's configuration (read-only by default).
    pub node: NodeConfig,
    /// How long the node may take to get its first node.
    pub bootstrap_wait: Duration,
    /// Lookups at once (chunk lookups run in parallel).
    pub parallel_lookups: usize,
    /// How a known peer is visited to learn its DHT port.
    pub port_visit: VisitConfig,
}

impl DhtOptions {
    /// A read-only node on `bind`, bootstrapping from `bootstrap`, waiting at most
    /// 10 s for its first node, 16 lookups at once.
    pub fn new(bind: SocketAddr, bootstrap: Vec<String>) -> DhtOptions {
        let mut port_visit = VisitConfig::new(Duration::from_secs(3));
        port_visit.port = true;
        DhtOptions {
            bind,
            bootstrap,
            state_file: None,
            node: NodeConfig {
                read_only: true,
                ..NodeConfig::default()
            },
            bootstrap_wait: Duration::from_secs(10),
            parallel_lookups: 16,
            port_visit,
        }
    }
}

/// Lookups of the file id and of lacking chunks' hashes.
pub struct DhtSource {
    /// How the node runs.
    pub opts: DhtOptions,
    dht: Option<Dht>,
    cost: Cost,
}

impl DhtSource {
    /// A source whose node starts at the first call.
    pub fn new(opts: DhtOptions) -> DhtSource {
        DhtSource {
            opts,
            dht: None,
            cost: Cost::default(),
        }
    }

    /// The node, once started.
    pub fn node(&self) -> Option<&Dht> {
        self.dht.as_ref()
    }

    /// Where to bootstrap from: the options, the state file, the DHT nodes peers
    /// announced, or (visiting known peers) their `port` messages.
    async fn bootstrap(&mut self, swarm: &Swarm) -> Result<(Vec<String>, String), DiscoveryError> {
        let mut boot = self.opts.bootstrap.clone();
        if !boot.is_empty() {
            return Ok((boot, "--dht-bootstrap".into()));
        }
        if let Some(path) = &self.opts.state_file {
            if State::load(path).is_ok_and(|s| s.is_some_and(|s| !s.nodes.is_empty())) {
                return Ok((boot, format!("state file {}", path.display())));
            }
        }
        let mut nodes = swarm.dht_nodes.clone();
        let mut how = "peers' DHT ports";
        if nodes.is_empty() {
            let Some(file_id) = swarm.file_id else {
                return Err(DiscoveryError::NoDhtBootstrap);
            };
            let peers: Vec<SocketAddr> = swarm
                .live_peers()
                .into_iter()
                .take(MAX_PORT_VISITS)
                .collect();
            self.cost.connections += peers.len() as u64;
            let mut tally = Tally::default();
            for v in visit_all(&peers, file_id, None, &self.opts.port_visit, 8).await {
                tally.add(v, file_id);
            }
            nodes = tally.dht_nodes;
            how = "the DHT ports of peers visited now";
        }
        if nodes.is_empty() {
            return Err(DiscoveryError::NoDhtBootstrap);
        }
        boot.extend(nodes.iter().map(SocketAddr::to_string));
        Ok((boot, how.into()))
    }

    /// Starts the node and waits for its table to fill (or to stop growing).
    async fn start(&mut self, swarm: &Swarm) -> Result<String, DiscoveryError> {
        let (boot, how) = self.bootstrap(swarm).await?;
        let mut cfg = DriverConfig::new(self.opts.bind);
        cfg.node = NodeConfig {
            seed: rand::random(),
            ..self.opts.node.clone()
        };
        cfg.bootstrap = boot;
        cfg.state_file = self.opts.state_file.clone();
        let dht = Dht::start(cfg).await.map_err(DiscoveryError::Dht)?;
        let wait = self.opts.bootstrap_wait;
        let first = dht
            .wait_for_nodes(1, wait)
            .await
            .map_err(DiscoveryError::Dht)?;
        if first == 0 {
            dht.shutdown().await;
            return Err(DiscoveryError::NoDhtNodes(wait));
        }
        let nodes = settle(&dht, self.opts.node.k).await;
        let line = format!(
            "node {} bootstrapped from {how} ({nodes} in its table)",
            dht.local_addr()
        );
        self.dht = Some(dht);
        Ok(line)
    }
}

/// Waits until the table holds `k` nodes or stops growing for 200 ms (at most 2 s):
/// the bootstrap lookup has then run its course.
async fn settle(dht: &Dht, k: usize) -> usize {
    let mut last = 0;
    let mut still = 0;
    for _ in 0..40 {
        let n = dht.snapshot().await.map(|s| s.table_nodes).unwrap_or(0);
        if n >= k {
            return n;
        }
        still = if n == last { still + 1 } else { 0 };
        if still >= 4 {
            return n;
        }
        last = n;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last
}

/// Datagrams the node has sent so far.
async fn sent(dht: &Dht) -> u64 {
    dht.snapshot()
        .await
        .map(|s| s.stats.datagrams_out)
        .unwrap_or(0)
}

/// Valid peers of a lookup, at most [`MAX_PEERS_PER_LOOKUP`].
fn peers_of(found: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for p in found.into_iter().map(swarmlab_net::canonical) {
        if swarmlab_net::is_valid_peer(&p) && !out.contains(&p) {
            out.push(p);
            if out.len() == MAX_PEERS_PER_LOOKUP {
                break;
            }
        }
    }
    out
}

impl PeerSource for DhtSource {
    fn name(&self) -> &str {
        "dht"
    }

    fn discover<'a>(&'a mut self, q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let swarm = q.swarm;
            if swarm.file_id.is_none() && swarm.manifest.is_none() {
                return Err(DiscoveryError::NothingToLookUp);
            }
            let mut lines = Vec::new();
            let mut before = 0;
            if self.dht.is_none() {
                lines.push(self.start(swarm).await?);
            } else if let Some(d) = &self.dht {
                before = sent(d).await;
            }
            let Some(dht) = self.dht.clone() else {
                return Err(DiscoveryError::NoDhtBootstrap);
            };
            let mut found = Found::default();
            if let Some(id) = swarm.file_id {
                match dht.get_peers(Id(id.0)).await {
                    Ok(r) => {
                        found.file_peers = peers_of(r.peers);
                        lines.push(format!(
                            "file id: {} peer(s), {} messages",
                            found.file_peers.len(),
                            r.messages
                        ));
                    }
                    Err(e) => lines.push(format!("file id: lookup failed: {e}")),
                }
            }
            // The chunks no peer offers, once the file id's peers are counted.
            let mut after_file = swarm.clone();
            after_file.add(Found {
                file_peers: found.file_peers.clone(),
                ..Found::default()
            });
            let mut wanted: Vec<ChunkHash> = Vec::new();
            if let Some(m) = &swarm.manifest {
                for i in after_file.lacking() {
                    if !wanted.contains(&m.chunks[i]) {
                        wanted.push(m.chunks[i]);
                    }
                }
            }
            if !wanted.is_empty() {
                let results: Vec<_> = stream::iter(wanted.iter().copied())
                    .map(|h| {
                        let dht = dht.clone();
                        async move { (h, dht.get_peers(Id(h)).await) }
                    })
                    .buffer_unordered(self.opts.parallel_lookups.max(1))
                    .collect()
                    .await;
                let (mut messages, mut with_peers, mut failed) = (0, 0, 0);
                for (h, r) in results {
                    match r {
                        Ok(r) => {
                            messages += r.messages;
                            let peers = peers_of(r.peers);
                            with_peers += usize::from(!peers.is_empty());
                            found.peers.extend(peers.into_iter().map(|p| (h, p)));
                        }
                        Err(e) => {
                            failed += 1;
                            tracing::debug!("lookup of chunk {}: {e}", hex::encode(h));
                        }
                    }
                }
                lines.push(format!(
                    "{} chunk lookup(s): {with_peers} found peers, {} (chunk, peer) pairs, \
                     {messages} messages{}",
                    wanted.len(),
                    found.peers.len(),
                    if failed > 0 {
                        format!(", {failed} failed")
                    } else {
                        String::new()
                    }
                ));
            }
            self.cost.datagrams += sent(&dht).await.saturating_sub(before);
            found.detail = lines.join("; ");
            Ok(found)
        })
    }

    fn cost(&self) -> Cost {
        self.cost
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(d) = self.dht.take() {
                d.shutdown().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Phase;

    #[test]
    fn a_lookup_gives_at_most_max_peers_per_lookup_valid_peers() {
        let mut many: Vec<SocketAddr> = (0..1000u32)
            .map(|i| SocketAddr::from(([127, 169, (i >> 8) as u8, i as u8], 7000)))
            .collect();
        many.insert(0, "0.0.0.0:1".parse().unwrap());
        many.insert(1, "[::ffff:127.169.0.0]:7000".parse().unwrap());
        let kept = peers_of(many.clone());
        assert_eq!(kept.len(), MAX_PEERS_PER_LOOKUP);
        assert_eq!(
            kept[0], many[2],
            "invalid and duplicate (mapped) addresses dropped"
        );
    }

    #[tokio::test]
    async fn without_a_bootstrap_at_most_eight_known_peers_are_visited_for_a_dht_port() {
        // 20 known peers, none of which answers: 8 visits, then no bootstrap.
        let mut swarm = Swarm::default();
        swarm.add(Found {
            file_id: Some(swarmlab_bt_wire::InfoHash([3; 20])),
            file_peers: (1..=20u8)
                .map(|i| SocketAddr::from(([127, 169, 200, i], 9)))
                .collect(),
            ..Found::default()
        });
        let mut dht = DhtSource::new(DhtOptions::new("127.169.201.1:0".parse().unwrap(), vec![]));
        let e = dht
            .discover(Query::new(&swarm, Phase::Start))
            .await
            .unwrap_err();
        assert!(matches!(e, DiscoveryError::NoDhtBootstrap), "{e}");
        assert_eq!(dht.cost().connections, MAX_PORT_VISITS as u64);
        assert!(dht.node().is_none());
    }
}
