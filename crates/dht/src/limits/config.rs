//! What the limits are ([`Rate`], [`Limits`]), the verdict on one query
//! ([`QueryVerdict`]) and the counters ([`LimitCounters`]).

use std::time::Duration;

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
