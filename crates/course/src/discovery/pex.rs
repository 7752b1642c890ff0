//! Peer exchange: a BitTorrent visit (handshake for the file id + ut_pex, BEP 11) to
//! each known peer on its course port, merging the peers they list.
//!
//! A listed peer is added only once a visit of its own shows that it serves the file
//! id (its bitfield then says which chunks it holds), so a PEX message naming
//! thousands of addresses costs at most [`PexSource::max_visits`] connections per run
//! and adds nothing that does not answer. Listed peers not visited yet wait (at most
//! [`MAX_PENDING`]) for the next run, a refill during the download. When the file's
//! description is unknown, the visits ask for it too (ut_metadata).

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::discovery::visits::{visit_all, Tally};
use crate::discovery::{Cost, Found, PeerSource, Query, VisitConfig};
use crate::error::DiscoveryError;

/// Most listed peers kept for later runs.
pub const MAX_PENDING: usize = 1024;

/// PEX with the known peers, then with the peers they list.
pub struct PexSource {
    /// How each peer is visited (`pex` is set; `metadata` while the description is
    /// unknown).
    pub visit: VisitConfig,
    /// Most visits in one run.
    pub max_visits: usize,
    /// Visits at once.
    pub parallel: usize,
    visited: HashSet<SocketAddr>,
    pending: VecDeque<SocketAddr>,
    cost: Cost,
}

impl PexSource {
    /// Visits of at most `wait` each (3 s is enough for a peer that sends its PEX
    /// message after the extension handshake), at most 64 a run, 16 at once.
    pub fn new(wait: Duration) -> PexSource {
        let mut visit = VisitConfig::new(wait);
        visit.pex = true;
        PexSource {
            visit,
            max_visits: 64,
            parallel: 16,
            visited: HashSet::new(),
            pending: VecDeque::new(),
            cost: Cost::default(),
        }
    }
}

impl PeerSource for PexSource {
    fn name(&self) -> &str {
        "pex"
    }

    fn discover<'a>(&'a mut self, q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let swarm = q.swarm;
            let file_id = swarm.file_id.ok_or(DiscoveryError::NoFileId("pex"))?;
            let mut frontier: Vec<SocketAddr> = swarm
                .live_peers()
                .into_iter()
                .filter(|p| !self.visited.contains(p))
                .collect();
            if frontier.is_empty() && self.pending.is_empty() && self.visited.is_empty() {
                return Err(DiscoveryError::NoPeers);
            }
            frontier.extend(self.pending.drain(..).filter(|p| swarm.is_live(p)));
            let mut tally = Tally::default();
            let mut listed = 0usize;
            let mut budget = self.max_visits;
            while !frontier.is_empty() && budget > 0 {
                let take = frontier.len().min(budget);
                let batch: Vec<SocketAddr> = frontier.drain(..take).collect();
                budget -= batch.len();
                self.visited.extend(batch.iter().copied());
                self.cost.connections += batch.len() as u64;
                let mut cfg = self.visit.clone();
                cfg.metadata = swarm.manifest.is_none() && tally.torrent.is_none();
                let visits = visit_all(&batch, file_id, None, &cfg, self.parallel).await;
                for v in visits {
                    for p in tally.add(v, file_id) {
                        if !swarm.knows(&p) && !self.visited.contains(&p) && !frontier.contains(&p)
                        {
                            listed += 1;
                            frontier.push(p);
                        }
                    }
                }
            }
            // Listed, not visited: kept for the next run (bounded).
            for p in frontier {
                if self.pending.len() < MAX_PENDING {
                    self.pending.push_back(p);
                }
            }
            let detail = format!(
                "visited {} peer(s), {} answered; they listed {listed} new peer(s){}; \
                 {} PEX message(s) taken, {} ignored (too often), {} entries over the caps",
                tally.visited,
                tally.answered,
                match self.pending.len() {
                    0 => String::new(),
                    n => format!(" ({n} left for later)"),
                },
                tally.pex_messages,
                tally.pex_ignored,
                tally.pex_truncated,
            );
            Ok(tally.found(swarm.manifest.as_ref(), detail))
        })
    }

    fn cost(&self) -> Cost {
        self.cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::test_peer::{self, info_of, Script};
    use crate::discovery::{Phase, Swarm};

    /// `n` addresses of 127.168.`k`.x where nothing listens.
    fn nobody(k: u8, n: u32) -> Vec<SocketAddr> {
        (0..n)
            .map(|i| {
                SocketAddr::from(([127, 168, k, (i % 250) as u8 + 1], 7000 + (i / 250) as u16))
            })
            .collect()
    }

    #[tokio::test]
    async fn a_pex_flood_costs_at_most_the_visit_budget_and_adds_only_peers_that_answer() {
        let d = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let info = info_of("f.bin", &data, 1000);
        // Three flooders, each listing 500 addresses of its own where nothing listens.
        let mut flooders = Vec::new();
        for k in 0..3u8 {
            flooders.push(
                test_peer::start(
                    &format!("127.168.10.{}:0", k + 1),
                    d.path().to_path_buf(),
                    Script {
                        info: Some(info.clone()),
                        pieces: Some(vec![0]),
                        pex: nobody(k, 500),
                        pex_messages: 1,
                        ..Script::default()
                    },
                )
                .await,
            );
        }
        let mut swarm = Swarm::default();
        swarm.add(Found {
            file_id: Some(info.info_hash),
            manifest: Some(crate::discovery::Manifest {
                filename: "f.bin".into(),
                chunks: info.pieces.clone(),
            }),
            file_peers: flooders.iter().map(|f| f.addr).collect(),
            ..Found::default()
        });
        let mut pex = PexSource::new(Duration::from_secs(10));
        let found = pex
            .discover(Query::new(&swarm, Phase::Start))
            .await
            .unwrap();
        // 3 flooders and 61 of the 1,500 addresses they listed: the budget.
        assert_eq!(pex.cost().connections, 64);
        // Only the flooders answered: nothing else is added.
        assert_eq!(found.resolved.len(), 3);
        assert!(found.file_peers.is_empty());
        assert_eq!(found.peers.len(), 3);
        // The addresses not visited wait for a later run, at most MAX_PENDING of them.
        assert_eq!(pex.pending.len(), MAX_PENDING);
        let added = swarm.add(found);
        assert_eq!(added.new_peers, 0);
    }
}
