//! The interface every peer source implements, and the chain that runs them.

use std::time::Instant;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::discovery::{Added, Cost, Found, Swarm};
use crate::error::DiscoveryError;

/// When a chain runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the download: the description, or peers for some chunks, are unknown.
    Start,
    /// During the download: peers were given up and some chunks have no live holder
    /// left ([`Swarm::lacking`]).
    Refill,
}

/// What a source is asked.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Query<'a> {
    /// What the chain knows so far: what is lacking is [`Swarm::lacking`].
    pub swarm: &'a Swarm,
    /// Why the chain runs.
    pub phase: Phase,
}

impl<'a> Query<'a> {
    /// A query on `swarm` in `phase`.
    pub fn new(swarm: &'a Swarm, phase: Phase) -> Query<'a> {
        Query { swarm, phase }
    }
}

/// One way of learning the file's description and its peers.
///
/// A source may be asked more than once: first in [`Phase::Start`], then in
/// [`Phase::Refill`] each time the download is left with chunks no live peer holds. A
/// source that has nothing new to say returns an empty [`Found`].
pub trait PeerSource: Send {
    /// A short name for reports (`config`, `tracker`, `broadcast`, …).
    fn name(&self) -> &str;

    /// Looks for the description and peers, given what is known so far.
    fn discover<'a>(&'a mut self, query: Query<'a>)
        -> BoxFuture<'a, Result<Found, DiscoveryError>>;

    /// What this source has spent so far, over all its calls (the chain reports the
    /// difference per call).
    fn cost(&self) -> Cost {
        Cost::default()
    }

    /// Releases what the source holds (a DHT node saves its state file and stops);
    /// called once, when the download is over.
    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// One source's outcome in one run of the chain.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// The source's name.
    pub source: String,
    /// Why the chain ran.
    pub phase: Phase,
    /// False when the source failed (`detail` says why).
    pub ok: bool,
    /// What it found, or why it failed.
    pub detail: String,
    /// New (chunk, peer) pairs it added.
    pub peers_added: usize,
    /// Peers it named that no earlier source had named, in any role.
    pub new_peers: usize,
    /// UDP datagrams it sent.
    pub datagrams: u64,
    /// TCP connections it opened.
    pub connections: u64,
    /// Time it took, in milliseconds.
    pub elapsed_ms: f64,
}

/// Peer sources in the order they are tried.
pub struct Chain {
    sources: Vec<Box<dyn PeerSource>>,
}

impl Chain {
    /// A chain of `sources`, tried in this order.
    pub fn new(sources: Vec<Box<dyn PeerSource>>) -> Chain {
        Chain { sources }
    }

    /// The sources' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.sources.iter().map(|s| s.name()).collect()
    }

    /// Asks the sources in order until `swarm` is complete (every chunk has a live
    /// peer); returns one report per source asked.
    pub async fn run(&mut self, swarm: &mut Swarm, phase: Phase) -> Vec<StepReport> {
        let mut reports = Vec::new();
        for source in self.sources.iter_mut() {
            if swarm.is_complete() {
                break;
            }
            let before = source.cost();
            let t0 = Instant::now();
            let result = source.discover(Query::new(swarm, phase)).await;
            let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;
            let after = source.cost();
            let (ok, detail, added) = match result {
                Ok(mut found) => {
                    let detail = std::mem::take(&mut found.detail);
                    (true, detail, swarm.add(found))
                }
                Err(e) => (false, e.to_string(), Added::default()),
            };
            let report = StepReport {
                source: source.name().to_owned(),
                phase,
                ok,
                detail,
                peers_added: added.pairs,
                new_peers: added.new_peers,
                datagrams: after.datagrams.saturating_sub(before.datagrams),
                connections: after.connections.saturating_sub(before.connections),
                elapsed_ms,
            };
            tracing::info!(source = %report.source, ok = report.ok, "{}", report.detail);
            reports.push(report);
        }
        reports
    }

    /// Closes every source (see [`PeerSource::close`]).
    pub async fn close(&mut self) {
        for s in self.sources.iter_mut() {
            s.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::discovery::Manifest;

    /// What a source was asked: the phase and the chunks lacking.
    type Asked = Arc<Mutex<Vec<(Phase, Vec<usize>)>>>;

    /// Gives the manifest and the first peer at Start, another peer at Refill, and
    /// records the lacking chunks it was asked for.
    struct Scripted {
        asked: Asked,
        calls: u64,
    }

    impl PeerSource for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }

        fn discover<'a>(
            &'a mut self,
            query: Query<'a>,
        ) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
            Box::pin(async move {
                self.calls += 1;
                let lacking = query.swarm.lacking();
                self.asked.lock().unwrap().push((query.phase, lacking));
                let peer: SocketAddr = match query.phase {
                    Phase::Start => "127.0.0.1:1".parse().unwrap(),
                    Phase::Refill => "127.0.0.1:2".parse().unwrap(),
                };
                Ok(Found {
                    manifest: Some(Manifest {
                        filename: "f".into(),
                        chunks: vec![[1; 20]],
                    }),
                    peers: vec![([1; 20], peer)],
                    detail: format!("{peer}"),
                    ..Found::default()
                })
            })
        }

        fn cost(&self) -> Cost {
            Cost {
                datagrams: self.calls * 2,
                connections: self.calls,
            }
        }
    }

    #[tokio::test]
    async fn a_chain_runs_again_during_the_download_for_what_is_lacking() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut chain = Chain::new(vec![Box::new(Scripted {
            asked: asked.clone(),
            calls: 0,
        })]);
        let mut swarm = Swarm::default();
        let r = chain.run(&mut swarm, Phase::Start).await;
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].peers_added, r[0].datagrams, r[0].connections),
            (1, 2, 1)
        );
        // Complete: a second run asks nobody.
        assert!(chain.run(&mut swarm, Phase::Start).await.is_empty());
        // The only peer is given up: the refill asks again, for chunk 0.
        swarm.mark_dead("127.0.0.1:1".parse().unwrap());
        let r = chain.run(&mut swarm, Phase::Refill).await;
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].phase, Phase::Refill);
        assert_eq!(
            (r[0].peers_added, r[0].datagrams, r[0].connections),
            (1, 2, 1)
        );
        assert!(swarm.is_complete());
        assert_eq!(
            swarm.live_holders(),
            vec![vec!["127.0.0.1:2".parse().unwrap()]]
        );
        assert_eq!(
            *asked.lock().unwrap(),
            [(Phase::Start, vec![]), (Phase::Refill, vec![0])]
        );
    }
}
