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

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::ConfigError;

/// A token-bucket rate: `per_sec` tokens per second, at most `burst` saved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Refill rate in events per second (finite, > 0).
    pub per_sec: f64,
    /// Bucket capacity (finite, >= 1): how many events may come at once.
    pub burst: f64,
}

impl Rate {
    /// `per_sec` per second with a burst of `burst`.
    pub const fn new(per_sec: f64, burst: f64) -> Self {
        Rate { per_sec, burst }
    }

    fn validate(&self, what: &'static str) -> Result<(), ConfigError> {
        let ok = self.per_sec.is_finite()
            && self.per_sec > 0.0
            && self.burst.is_finite()
            && self.burst >= 1.0;
        if ok {
            Ok(())
        } else {
            Err(ConfigError::BadRate(what))
        }
    }
}

/// Limit settings. `None` disables a limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Per-IP rate of incoming queries. Default 5/s, burst 20.
    pub per_ip: Option<Rate>,
    /// How long an IP that exceeded `per_ip` stays blocked. Default 60 s.
    pub block_duration: Duration,
    /// Maximum number of IPs tracked for `per_ip`. Default 10,000.
    pub max_tracked_ips: usize,
    /// Global rate of replies we send. Default 1000/s, burst 1000.
    pub replies: Option<Rate>,
    /// Global rate of queries we send. Default 500/s, burst 100.
    pub outgoing_queries: Option<Rate>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_ip: Some(Rate::new(5.0, 20.0)),
            block_duration: Duration::from_secs(60),
            max_tracked_ips: 10_000,
            replies: Some(Rate::new(1000.0, 1000.0)),
            outgoing_queries: Some(Rate::new(500.0, 100.0)),
        }
    }
}

impl Limits {
    /// No limit at all (for benchmarks and simulations). Nothing is tracked
    /// per IP; decisions are still counted.
    pub fn unlimited() -> Self {
        Limits {
            per_ip: None,
            block_duration: Duration::ZERO,
            max_tracked_ips: 1,
            replies: None,
            outgoing_queries: None,
        }
    }

    /// Checks rates are finite and positive, bursts >= 1, and the IP cap >= 1.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(r) = &self.per_ip {
            r.validate("per_ip")?;
        }
        if let Some(r) = &self.replies {
            r.validate("replies")?;
        }
        if let Some(r) = &self.outgoing_queries {
            r.validate("outgoing_queries")?;
        }
        if self.max_tracked_ips == 0 {
            return Err(ConfigError::Zero("max_tracked_ips"));
        }
        crate::error::check_len("block_duration", self.block_duration)
    }
}

/// Decision on one incoming query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryVerdict {
    /// Process it.
    Allowed,
    /// Drop it: this query exceeded the IP's rate and the IP is now blocked.
    RateLimited,
    /// Drop it: the IP is blocked.
    Blocked,
}

impl QueryVerdict {
    /// True for [`QueryVerdict::Allowed`].
    pub fn is_allowed(self) -> bool {
        self == QueryVerdict::Allowed
    }
}

/// Every decision, counted since creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitCounters {
    /// Incoming queries allowed.
    pub queries_allowed: u64,
    /// Incoming queries that exceeded their IP's rate (each one blocks it).
    pub queries_rate_limited: u64,
    /// Incoming queries dropped because their IP was blocked.
    pub queries_blocked: u64,
    /// Times an IP got blocked (equals `queries_rate_limited`).
    pub ips_blocked: u64,
    /// Per-IP entries evicted to stay under `max_tracked_ips` (idle ones
    /// dropped for free are not counted).
    pub ip_entries_evicted: u64,
    /// Replies allowed by the global reply cap.
    pub replies_allowed: u64,
    /// Replies refused by the global reply cap.
    pub replies_dropped: u64,
    /// Outgoing queries allowed.
    pub outgoing_allowed: u64,
    /// Outgoing queries refused (the caller should defer them).
    pub outgoing_denied: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(now: Instant, rate: &Rate) -> Self {
        Bucket {
            tokens: rate.burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant, rate: &Rate) {
        if now > self.last {
            let dt = (now - self.last).as_secs_f64();
            self.tokens = (self.tokens + dt * rate.per_sec).min(rate.burst);
            self.last = now;
        }
    }

    fn try_take(&mut self, now: Instant, rate: &Rate) -> bool {
        self.refill(now, rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When one token will be available (now if already).
    fn ready_at(&self, now: Instant, rate: &Rate) -> Instant {
        let mut b = *self;
        b.refill(now, rate);
        if b.tokens >= 1.0 {
            return now;
        }
        // Round up (plus a nanosecond) so the token is really there then.
        let nanos = ((1.0 - b.tokens) / rate.per_sec * 1e9).ceil();
        let nanos = if nanos.is_finite() && nanos < 3.6e12 {
            nanos as u64 + 1
        } else {
            3_600_000_000_000
        };
        now.checked_add(Duration::from_nanos(nanos)).unwrap_or(now)
    }

    /// True when the bucket would be full at `now` (no state worth keeping).
    fn is_idle(&self, now: Instant, rate: &Rate) -> bool {
        let mut b = *self;
        b.refill(now, rate);
        b.tokens >= rate.burst
    }
}

#[derive(Debug, Clone, Copy)]
struct IpState {
    bucket: Bucket,
    blocked_until: Option<Instant>,
    last_seen: Instant,
}

impl IpState {
    fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|t| now < t)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn polite_ip_is_never_limited() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(t0, Limits::default()).unwrap();
        // 4 queries/s for 5 minutes, under the 5/s rate.
        for i in 0..1200u64 {
            let v = l.check_query(t0 + 250 * MS * i as u32, ip(1));
            assert_eq!(v, QueryVerdict::Allowed, "query {i}");
        }
        assert_eq!(l.counters().queries_rate_limited, 0);
    }

    #[test]
    fn flooding_ip_is_blocked_then_released() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(t0, Limits::default()).unwrap();
        let flood = ip(0x0102_0304);
        let polite = ip(0x0506_0708);
        let mut verdicts = Vec::new();
        // Flood: 100 queries within 100 ms; a polite IP queries alongside.
        for i in 0..100u32 {
            verdicts.push(l.check_query(t0 + MS * i, flood));
            if i % 50 == 0 {
                assert!(l.check_query(t0 + MS * i, polite).is_allowed());
            }
        }
        let allowed = verdicts.iter().filter(|v| v.is_allowed()).count();
        assert_eq!(allowed, 20, "burst passes, then blocked");
        assert_eq!(verdicts[20], QueryVerdict::RateLimited);
        assert!(verdicts[21..].iter().all(|v| *v == QueryVerdict::Blocked));
        assert!(l.is_blocked(t0 + 59 * 1000 * MS, flood));
        assert!(!l.is_blocked(t0, polite));
        assert_eq!(l.blocked_ips(t0 + MS * 100), 1);
        // Still blocked just before 60 s after the offending query.
        assert_eq!(
            l.check_query(t0 + 60_019 * MS, flood),
            QueryVerdict::Blocked
        );
        // Released afterwards, with a refilled bucket.
        assert_eq!(
            l.check_query(t0 + 60_021 * MS, flood),
            QueryVerdict::Allowed
        );
        let c = l.counters();
        assert_eq!(c.ips_blocked, 1);
        assert_eq!(c.queries_rate_limited, 1);
        assert_eq!(c.queries_blocked, 80);
        assert_eq!(c.queries_allowed, 20 + 2 + 1);
    }

    #[test]
    fn per_ip_table_bounded_under_spoofed_flood() {
        let t0 = Instant::now();
        let cfg = Limits {
            max_tracked_ips: 10_000,
            ..Limits::default()
        };
        let mut l = RateLimiter::new(t0, cfg).unwrap();
        // A bad actor gets blocked first.
        let bad = ip(7);
        for _ in 0..30 {
            l.check_query(t0, bad);
        }
        assert!(l.is_blocked(t0, bad));
        for i in 0..100_000u32 {
            let now = t0 + Duration::from_micros(i as u64 * 10);
            assert!(l.check_query(now, ip(0x2000_0000 + i)).is_allowed());
            assert!(l.tracked_ips() <= 10_000);
        }
        // The blocked IP was kept over unblocked idle-ish ones.
        assert!(l.is_blocked(t0 + Duration::from_secs(1), bad));
        assert!(l.counters().ip_entries_evicted > 0);
    }

    #[test]
    fn idle_entries_dropped_for_free() {
        let t0 = Instant::now();
        let cfg = Limits {
            max_tracked_ips: 100,
            ..Limits::default()
        };
        let mut l = RateLimiter::new(t0, cfg).unwrap();
        for i in 0..100 {
            l.check_query(t0, ip(i));
        }
        assert_eq!(l.tracked_ips(), 100);
        // After 1 s every bucket (burst 20, 5/s, 1 token used) is full again.
        l.check_query(t0 + Duration::from_secs(1), ip(1000));
        assert_eq!(l.tracked_ips(), 1);
        assert_eq!(l.counters().ip_entries_evicted, 0);
        l.cleanup(t0 + Duration::from_secs(10));
        assert_eq!(l.tracked_ips(), 0);
    }

    #[test]
    fn global_reply_cap() {
        let t0 = Instant::now();
        let cfg = Limits {
            replies: Some(Rate::new(100.0, 10.0)),
            ..Limits::default()
        };
        let mut l = RateLimiter::new(t0, cfg).unwrap();
        let ok = (0..50).filter(|_| l.allow_reply(t0)).count();
        assert_eq!(ok, 10);
        // Over one second at 100/s: 100 more.
        let mut ok = 0;
        for i in 1..=1000u32 {
            if l.allow_reply(t0 + MS * i) {
                ok += 1;
            }
        }
        assert!((99..=101).contains(&ok), "{ok}");
        assert_eq!(l.counters().replies_dropped, 40 + (1000 - ok));
    }

    #[test]
    fn outgoing_cap_and_ready_time() {
        let t0 = Instant::now();
        let cfg = Limits {
            outgoing_queries: Some(Rate::new(10.0, 2.0)),
            ..Limits::default()
        };
        let mut l = RateLimiter::new(t0, cfg).unwrap();
        assert!(l.allow_outgoing(t0));
        assert!(l.allow_outgoing(t0));
        assert!(!l.allow_outgoing(t0));
        let ready = l.outgoing_ready_at(t0);
        assert!(ready > t0 && ready <= t0 + 101 * MS, "{:?}", ready - t0);
        assert!(l.allow_outgoing(ready));
        let c = l.counters();
        assert_eq!((c.outgoing_allowed, c.outgoing_denied), (3, 1));
    }

    #[test]
    fn unlimited_allows_everything_and_tracks_nothing() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(t0, Limits::unlimited()).unwrap();
        for i in 0..10_000u32 {
            assert!(l.check_query(t0, ip(i % 3)).is_allowed());
            assert!(l.allow_reply(t0));
            assert!(l.allow_outgoing(t0));
        }
        assert_eq!(l.tracked_ips(), 0);
        assert_eq!(l.outgoing_ready_at(t0), t0);
        let c = l.counters();
        assert_eq!(c.queries_allowed, 10_000);
        assert_eq!(c.replies_allowed, 10_000);
        assert_eq!(c.outgoing_allowed, 10_000);
    }

    #[test]
    fn config_validation() {
        let t0 = Instant::now();
        for bad in [
            Rate::new(0.0, 1.0),
            Rate::new(f64::NAN, 1.0),
            Rate::new(1.0, 0.5),
            Rate::new(f64::INFINITY, 1.0),
        ] {
            let cfg = Limits {
                per_ip: Some(bad),
                ..Limits::default()
            };
            assert!(RateLimiter::new(t0, cfg).is_err());
        }
        let cfg = Limits {
            max_tracked_ips: 0,
            ..Limits::default()
        };
        assert!(RateLimiter::new(t0, cfg).is_err());
        // A cap of 1 works.
        let cfg = Limits {
            max_tracked_ips: 1,
            ..Limits::default()
        };
        let mut l = RateLimiter::new(t0, cfg).unwrap();
        for i in 0..10 {
            l.check_query(t0, ip(i));
            assert_eq!(l.tracked_ips(), 1);
        }
    }

    #[test]
    fn ipv4_mapped_counts_as_ipv4() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(t0, Limits::default()).unwrap();
        let v4: IpAddr = "1.2.3.4".parse().unwrap();
        let mapped: IpAddr = "::ffff:1.2.3.4".parse().unwrap();
        for _ in 0..10 {
            l.check_query(t0, v4);
            l.check_query(t0, mapped);
        }
        assert_eq!(l.tracked_ips(), 1);
        assert_eq!(l.check_query(t0, mapped), QueryVerdict::RateLimited);
    }
}
