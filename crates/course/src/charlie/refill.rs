//! The download's refill is Charlie's discovery chain run again: what the engine
//! says it lacks (chunks, peers given up, peers that failed for a chunk) is written
//! into the swarm, the chain runs in [`Phase::Refill`] from its first source, and the
//! usable holders of the chunks asked for, with the peers presumed to hold every
//! chunk, go back to the engine.

use std::collections::HashMap;

use futures::future::BoxFuture;
use swarmlab_course_wire::ChunkHash;

use crate::discovery::{Chain, Phase, StepReport, Swarm};
use crate::engine::{Lacking, Refill, Refilled};

/// A chain, the swarm it fills, and the reports of every refill.
pub(crate) struct ChainRefill<'a> {
    pub chain: &'a mut Chain,
    pub swarm: &'a mut Swarm,
    pub reports: Vec<StepReport>,
}

impl Refill for ChainRefill<'_> {
    fn refill<'a>(&'a mut self, lacking: &'a Lacking) -> BoxFuture<'a, Refilled> {
        Box::pin(async move {
            for p in &lacking.dead {
                self.swarm.mark_dead(*p);
            }
            let chunks = self
                .swarm
                .manifest
                .as_ref()
                .map(|m| m.chunks.clone())
                .unwrap_or_default();
            let mut at: HashMap<ChunkHash, Vec<usize>> = HashMap::new();
            for (i, h) in chunks.iter().enumerate() {
                at.entry(*h).or_default().push(i);
            }
            for (hash, peer, _) in &lacking.failed {
                for &i in at.get(hash).map(Vec::as_slice).unwrap_or_default() {
                    self.swarm.mark_failed(i, *peer);
                }
            }
            let r = self.chain.run(self.swarm, Phase::Refill).await;
            self.reports.extend(r);
            // The holders of the chunks asked for, and the peers presumed to hold all.
            let holders = self.swarm.live_holders();
            let mut out = Refilled {
                holders: Vec::new(),
                presumed: self.swarm.live_file_peers(),
            };
            for hash in &lacking.chunks {
                for &i in at.get(hash).map(Vec::as_slice).unwrap_or_default() {
                    out.holders.extend(holders[i].iter().map(|p| (*hash, *p)));
                }
            }
            out
        })
    }
}
