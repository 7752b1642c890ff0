//! The file's description from any peer: BEP 9's ut_metadata over a BitTorrent visit,
//! when Charlie knows only the file id (a magnet, `--file-id`).
//!
//! The session checks the info dictionary against the file id before giving it; it is
//! then read as a course file (one file, pieces of at most 64 MiB). The peers visited
//! for it also announce their pieces, so they become holders of exactly those.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::discovery::visits::{visit_all, Tally};
use crate::discovery::{Cost, Found, PeerSource, Query, VisitConfig};
use crate::error::DiscoveryError;

/// ut_metadata from the known peers, a few at a time, until one gives it.
pub struct MetadataSource {
    /// How each peer is visited (`metadata` is set).
    pub visit: VisitConfig,
    /// Most visits in one run.
    pub max_visits: usize,
    /// Visits at once.
    pub parallel: usize,
    visited: HashSet<SocketAddr>,
    cost: Cost,
}

impl MetadataSource {
    /// Visits of at most `wait` each, at most 32 a run, 8 at once.
    pub fn new(wait: Duration) -> MetadataSource {
        let mut visit = VisitConfig::new(wait);
        visit.metadata = true;
        MetadataSource {
            visit,
            max_visits: 32,
            parallel: 8,
            visited: HashSet::new(),
            cost: Cost::default(),
        }
    }
}

impl PeerSource for MetadataSource {
    fn name(&self) -> &str {
        "metadata"
    }

    fn discover<'a>(&'a mut self, q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let swarm = q.swarm;
            if swarm.manifest.is_some() {
                return Ok(Found::nothing("the description is already known"));
            }
            let file_id = swarm.file_id.ok_or(DiscoveryError::NoFileId("metadata"))?;
            let mut candidates: Vec<SocketAddr> = swarm
                .live_peers()
                .into_iter()
                .filter(|p| !self.visited.contains(p))
                .take(self.max_visits)
                .collect();
            if candidates.is_empty() {
                return Err(DiscoveryError::NoPeers);
            }
            let mut tally = Tally::default();
            while tally.torrent.is_none() && !candidates.is_empty() {
                let n = candidates.len().min(self.parallel.max(1));
                let batch: Vec<SocketAddr> = candidates.drain(..n).collect();
                self.visited.extend(batch.iter().copied());
                self.cost.connections += batch.len() as u64;
                for v in visit_all(&batch, file_id, None, &self.visit, self.parallel).await {
                    tally.add(v, file_id);
                }
            }
            let Some(m) = tally.manifest() else {
                return Err(tally
                    .bad_metadata
                    .take()
                    .unwrap_or(DiscoveryError::NoMetadata {
                        asked: tally.visited,
                    }));
            };
            let detail = format!(
                "{} chunks of {} from the info dictionary of a peer (visited {}, {} answered)",
                m.chunks.len(),
                m.filename,
                tally.visited,
                tally.answered
            );
            Ok(tally.found(None, detail))
        })
    }

    fn cost(&self) -> Cost {
        self.cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{Phase, Swarm};

    #[tokio::test]
    async fn at_most_max_visits_peers_are_asked_for_the_metadata() {
        let mut swarm = Swarm::default();
        swarm.add(Found {
            file_id: Some(swarmlab_bt_wire::InfoHash([4; 20])),
            file_peers: (1..=40u8)
                .map(|i| SocketAddr::from(([127, 169, 210, i], 9)))
                .collect(),
            ..Found::default()
        });
        let mut m = MetadataSource::new(Duration::from_secs(5));
        let e = m
            .discover(Query::new(&swarm, Phase::Start))
            .await
            .unwrap_err();
        assert!(matches!(e, DiscoveryError::NoMetadata { asked: 32 }), "{e}");
        assert_eq!(m.cost().connections, 32);
        // A second run asks the 8 left.
        let _ = m.discover(Query::new(&swarm, Phase::Start)).await;
        assert_eq!(m.cost().connections, 40);
    }
}
