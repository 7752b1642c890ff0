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
