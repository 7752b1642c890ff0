//! BEP 51 in the node: answering `sample_infohashes` with a sample of the info-hashes
//! of the peer store, the same sample for [`NodeConfig::sample_interval`] (the
//! `interval` we announce, so that a crawler asking again sooner learns nothing new).
//!
//! [`NodeConfig::sample_interval`]: super::NodeConfig::sample_interval

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::{Body, Id, Response, Want};

use super::Node;

impl Node {
    /// Serves `sample_infohashes`: `interval`, `num` (info-hashes stored), `samples`
    /// (at most [`NodeConfig::max_samples`](super::NodeConfig::max_samples)) and the
    /// nodes closest to `target`.
    pub(super) fn serve_samples(
        &mut self,
        now: Instant,
        from: SocketAddr,
        target: &Id,
        want: Want,
        other: Option<&crate::routing::RoutingTable>,
    ) -> Body {
        let interval = self.cfg.sample_interval;
        let stale = self
            .sample
            .as_ref()
            .is_none_or(|(at, _)| now.saturating_duration_since(*at) >= interval);
        if stale {
            let s = self
                .store
                .sample_info_hashes(now, self.cfg.max_samples, &mut self.rng);
            self.sample = Some((now, s));
        }
        let mut r = Response::new(self.id);
        let (at, samples) = self
            .sample
            .as_ref()
            .map_or((now, &[][..]), |(a, s)| (*a, s));
        let left = interval.saturating_sub(now.saturating_duration_since(at));
        r.interval = Some(i64::try_from(left.as_secs()).unwrap_or(i64::MAX));
        r.num = Some(i64::try_from(self.store.info_hash_count()).unwrap_or(i64::MAX));
        r.samples = Some(samples.to_vec());
        self.fill_nodes(now, &mut r, target, want, from, other);
        Body::Response(r)
    }
}
