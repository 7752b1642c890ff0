//! Rate limits: per-IP on incoming queries (with a temporary block), a
//! global cap on our replies, and a cap on our own outgoing queries.
//!
//! All limits are token buckets (`per_sec` refill, `burst` capacity) driven
//! by the `now` passed in. An IP whose bucket is empty when a query arrives
//! is blocked for [`Limits::block_duration`]; during the block all its
//! queries are dropped (and counted) without refilling anything.
//!
//! Memory is bounded: at most [`Limits::max_tracked_ips`] IPs are tracked.
//! When a new IP arrives and the table is full, first every *idle* entry
//! (not blocked, bucket already refilled to `burst` — i.e. identical to a
//! fresh entry, so dropping it loses nothing) is dropped; if that does not
//! bring the table down to 90% of the cap, the least recently seen entries
//! are evicted, unblocked ones before blocked ones. Eviction is therefore
//! amortised O(1) per new IP even under a flood of spoofed sources.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`RateLimiter`]: queries in, replies out, our queries out, the IP table |
//! | `config.rs` | [`Rate`], [`Limits`], [`QueryVerdict`], [`LimitCounters`] |
//! | `bucket.rs` | the token bucket and one IP's state |

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use crate::ConfigError;

mod bucket;
mod config;
#[cfg(test)]
mod tests;

use bucket::{Bucket, IpState};
pub use config::{LimitCounters, Limits, QueryVerdict, Rate};

/// The limiter. See the module docs.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    cfg: Limits,
    ips: HashMap<IpAddr, IpState>,
    replies: Option<Bucket>,
    outgoing: Option<Bucket>,
    counters: LimitCounters,
}

impl RateLimiter {
    /// A limiter with `cfg` (validated); all buckets start full.
    pub fn new(now: Instant, cfg: Limits) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(RateLimiter {
            cfg,
            ips: HashMap::new(),
            replies: cfg.replies.as_ref().map(|r| Bucket::full(now, r)),
            outgoing: cfg.outgoing_queries.as_ref().map(|r| Bucket::full(now, r)),
            counters: LimitCounters::default(),
        })
    }

    /// The configuration in use.
    pub fn limits(&self) -> &Limits {
        &self.cfg
    }

    /// Decides on an incoming query from `ip` (call before parsing work).
    pub fn check_query(&mut self, now: Instant, ip: IpAddr) -> QueryVerdict {
        let Some(rate) = self.cfg.per_ip else {
            self.counters.queries_allowed += 1;
            return QueryVerdict::Allowed;
        };
        let ip = ip.to_canonical();
        if !self.ips.contains_key(&ip) && self.ips.len() >= self.cfg.max_tracked_ips {
            self.make_room(now, &rate);
        }
        let st = self.ips.entry(ip).or_insert_with(|| IpState {
            bucket: Bucket::full(now, &rate),
            blocked_until: None,
            last_seen: now,
        });
        st.last_seen = st.last_seen.max(now);
        if st.blocked(now) {
            self.counters.queries_blocked += 1;
            return QueryVerdict::Blocked;
        }
        if st.blocked_until.take().is_some() {
            // Block over: a fresh start with a full bucket.
            st.bucket = Bucket::full(now, &rate);
        }
        if st.bucket.try_take(now, &rate) {
            self.counters.queries_allowed += 1;
            QueryVerdict::Allowed
        } else {
            st.blocked_until = Some(now.checked_add(self.cfg.block_duration).unwrap_or(now));
            self.counters.queries_rate_limited += 1;
            self.counters.ips_blocked += 1;
            QueryVerdict::RateLimited
        }
    }

    /// True when `ip` is blocked at `now`.
    pub fn is_blocked(&self, now: Instant, ip: IpAddr) -> bool {
        self.ips
            .get(&ip.to_canonical())
            .is_some_and(|s| s.blocked(now))
    }

    /// May we send a reply now? Consumes one unit of the global reply rate.
    pub fn allow_reply(&mut self, now: Instant) -> bool {
        let ok = match (&mut self.replies, &self.cfg.replies) {
            (Some(b), Some(r)) => b.try_take(now, r),
            _ => true,
        };
        if ok {
            self.counters.replies_allowed += 1;
        } else {
            self.counters.replies_dropped += 1;
        }
        ok
    }

    /// May we send one of our own queries now? Consumes one unit if so;
    /// if not, defer the query until [`outgoing_ready_at`](Self::outgoing_ready_at).
    pub fn allow_outgoing(&mut self, now: Instant) -> bool {
        let ok = match (&mut self.outgoing, &self.cfg.outgoing_queries) {
            (Some(b), Some(r)) => b.try_take(now, r),
            _ => true,
        };
        if ok {
            self.counters.outgoing_allowed += 1;
        } else {
            self.counters.outgoing_denied += 1;
        }
        ok
    }

    /// When the next outgoing query will be allowed (`now` if already).
    pub fn outgoing_ready_at(&self, now: Instant) -> Instant {
        match (&self.outgoing, &self.cfg.outgoing_queries) {
            (Some(b), Some(r)) => b.ready_at(now, r),
            _ => now,
        }
    }

    /// Drops idle per-IP entries and expired blocks (optional housekeeping,
    /// e.g. once a minute; the table is bounded without it).
    pub fn cleanup(&mut self, now: Instant) {
        if let Some(rate) = self.cfg.per_ip {
            self.drop_idle(now, &rate);
        }
    }

    /// Number of IPs tracked now.
    pub fn tracked_ips(&self) -> usize {
        self.ips.len()
    }

    /// Number of IPs blocked at `now`.
    pub fn blocked_ips(&self, now: Instant) -> usize {
        self.ips.values().filter(|s| s.blocked(now)).count()
    }

    /// All decisions so far.
    pub fn counters(&self) -> LimitCounters {
        self.counters
    }

    fn drop_idle(&mut self, now: Instant, rate: &Rate) {
        self.ips
            .retain(|_, s| s.blocked(now) || !s.bucket.is_idle(now, rate));
    }

    fn make_room(&mut self, now: Instant, rate: &Rate) {
        self.drop_idle(now, rate);
        let cap = self.cfg.max_tracked_ips;
        // Leave 10% headroom so the next sweep is far away.
        let target = cap - cap / 10;
        let target = if target >= cap { cap - 1 } else { target };
        if self.ips.len() <= target {
            return;
        }
        let excess = self.ips.len() - target;
        // Deterministic order: unblocked first, then least recently seen,
        // then by address.
        let mut keys: Vec<(bool, Instant, IpAddr)> = self
            .ips
            .iter()
            .map(|(ip, s)| (s.blocked(now), s.last_seen, *ip))
            .collect();
        keys.select_nth_unstable(excess - 1);
        for (_, _, ip) in &keys[..excess] {
            self.ips.remove(ip);
        }
        self.counters.ip_entries_evicted += excess as u64;
    }
}
