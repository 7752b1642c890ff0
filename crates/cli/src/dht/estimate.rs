//! `swarmlab estimate`: how many nodes a live DHT has, from the distances of the
//! closest nodes that lookups for random ids find (`swarmlab_dht::estimate`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use swarmlab_dht::estimate::{SizeEstimate, SizeEstimator};
use swarmlab_dht::{Id, LookupKind};
use swarmlab_dht_driver::Dht;

use super::DhtOpts;
use crate::output::emit;

/// Arguments of `swarmlab estimate`.
#[derive(Args)]
pub struct EstimateArgs {
    /// Options shared by the DHT commands.
    #[command(flatten)]
    pub dht: DhtOpts,
    /// Lookups to run (16: about ±9% standard error; 64: ±4.5%).
    #[arg(long, default_value_t = 16)]
    pub lookups: usize,
    /// Lookups running at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Print the estimate and every lookup as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One lookup of the estimate.
#[derive(Serialize)]
struct Sample {
    target: Id,
    closest: usize,
    /// Distance of the farthest of the closest, as a fraction of the id space.
    farthest: f64,
    messages: usize,
    elapsed_ms: f64,
}

#[derive(Serialize)]
struct Out {
    estimate: Option<SizeEstimate>,
    samples: Vec<Sample>,
}

/// Runs `swarmlab estimate`.
pub async fn run(a: EstimateArgs) -> Result<ExitCode> {
    // With no --bootstrap and no saved table, the public routers (as `lookup`).
    let mut cfg = a.dht.driver();
    // A client that goes away: read-only (BEP 43), on any port unless told.
    cfg.node.read_only = true;
    if a.dht.bind.port() == 6881 {
        cfg.bind.set_port(0);
    }
    let dht = Dht::start(cfg).await?;
    dht.wait_for_nodes(1, Duration::from_millis(500)).await?;
    let mut est = SizeEstimator::new();
    let mut samples = Vec::new();
    let mut left = a.lookups;
    while left > 0 {
        let batch = left.min(a.parallel.max(1));
        left -= batch;
        let runs = (0..batch).map(|_| {
            let target = Id::random(&mut rand::thread_rng());
            let dht = &dht;
            async move { (target, dht.lookup(LookupKind::FindNode, target).await) }
        });
        for (target, r) in futures::future::join_all(runs).await {
            let r = r?;
            let farthest = r
                .closest
                .iter()
                .map(|(id, _)| swarmlab_dht::estimate::distance_fraction(&target, id))
                .fold(0.0, f64::max);
            est.add_result(&r);
            samples.push(Sample {
                target,
                closest: r.closest.len(),
                farthest,
                messages: r.messages,
                elapsed_ms: r.elapsed_ms,
            });
        }
    }
    dht.shutdown().await;
    let out = Out {
        estimate: est.estimate(),
        samples,
    };
    if a.json {
        emit(&(serde_json::to_string_pretty(&out)? + "\n"));
    } else {
        match out.estimate {
            Some(e) => emit(&format!(
                "about {:.0} nodes (±{:.1}%, one standard error), from {} lookups and the {} closest nodes they found\n",
                e.nodes,
                e.rel_std_error * 100.0,
                e.lookups,
                e.points
            )),
            None => emit("no estimate: the lookups found no node\n"),
        }
    }
    Ok(if out.estimate.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
