//! A token bucket, and the state kept for one source IP.

use std::time::{Duration, Instant};

use super::Rate;

#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    pub(super) tokens: f64,
    pub(super) last: Instant,
}

impl Bucket {
    pub(super) fn full(now: Instant, rate: &Rate) -> Self {
        Bucket {
            tokens: rate.burst,
            last: now,
        }
    }

    pub(super) fn refill(&mut self, now: Instant, rate: &Rate) {
        if now > self.last {
            let dt = (now - self.last).as_secs_f64();
            self.tokens = (self.tokens + dt * rate.per_sec).min(rate.burst);
            self.last = now;
        }
    }

    pub(super) fn try_take(&mut self, now: Instant, rate: &Rate) -> bool {
        self.refill(now, rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When one token will be available (now if already).
    pub(super) fn ready_at(&self, now: Instant, rate: &Rate) -> Instant {
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
    pub(super) fn is_idle(&self, now: Instant, rate: &Rate) -> bool {
        let mut b = *self;
        b.refill(now, rate);
        b.tokens >= rate.burst
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct IpState {
    pub(super) bucket: Bucket,
    pub(super) blocked_until: Option<Instant>,
    pub(super) last_seen: Instant,
}

impl IpState {
    pub(super) fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|t| now < t)
    }
}
