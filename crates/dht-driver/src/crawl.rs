//! A BEP 51 crawl over a running node: the sans-IO [`Crawl`] decides whom to ask and
//! when (its politeness rules are in `swarmlab_dht::crawl`), this loop sends its
//! queries through [`Dht::query`] and feeds the answers back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use swarmlab_dht::crawl::{Crawl, CrawlConfig, CrawlReport};
use swarmlab_dht::lookup::Outcome;

use crate::{Dht, DriverError};

/// Crawls from `seeds` for at most `duration` (or until no node is left to ask before
/// then), calling `progress` with the report every `progress_every`. `seed` seeds the
/// walk's random targets. The node should be read-only (BEP 43): a crawler does not
/// belong in other nodes' tables.
pub async fn crawl(
    dht: &Dht,
    cfg: CrawlConfig,
    seeds: Vec<SocketAddr>,
    duration: Duration,
    seed: u64,
    progress_every: Duration,
    mut progress: impl FnMut(&CrawlReport),
) -> Result<CrawlReport, DriverError> {
    let t0 = Instant::now();
    let deadline = t0 + duration;
    let mut c = Crawl::new(t0, cfg, seed).map_err(DriverError::CrawlConfig)?;
    for s in seeds {
        c.add_node(t0, s);
    }
    let mut pending = FuturesUnordered::new();
    let mut next_progress = t0 + progress_every;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        while let Some(q) = c.poll_query(now) {
            let d = dht.clone();
            pending.push(async move { (q.to, d.query(q.to, q.method()).await) });
        }
        let next = c.poll_timeout();
        if pending.is_empty() && next.is_none_or(|t| t >= deadline) {
            break;
        }
        if now >= next_progress {
            progress(&c.report(now));
            next_progress = now + progress_every;
        }
        let wake = next.unwrap_or(deadline).min(deadline).min(next_progress);
        tokio::select! {
            Some((to, answer)) = pending.next(), if !pending.is_empty() => {
                let now = Instant::now();
                match answer {
                    Ok(Ok(r)) => c.on_reply(now, to, &r),
                    Ok(Err(Outcome::Error { code, .. })) => c.on_error(now, to, code),
                    // Timed out, or refused by our own outgoing cap: asked once more later.
                    Ok(Err(_)) | Err(DriverError::Capped) => c.on_timeout(now, to),
                    Err(e) => return Err(e),
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {}
        }
    }
    Ok(c.report(Instant::now()))
}
