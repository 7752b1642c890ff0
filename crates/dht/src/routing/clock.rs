//! The table's clock: instants stored as 4-byte offsets from the table's epoch.
//!
//! Every time an entry or a bucket keeps (added, last response, last query, ping sent,
//! last change, last refresh) is a [`Stamp`]: milliseconds since the table's epoch,
//! plus one, in a `NonZeroU32`, so that an `Option<Stamp>` takes 4 bytes where an
//! `Option<Instant>` takes 16. Comparisons with `now` are made in milliseconds
//! ([`Clock::ms`]); every duration the table compares against (good window, refresh
//! interval, ping retry) is a whole number of milliseconds in practice, so a state
//! changes at the same instant as with full `Instant`s.
//!
//! A `u32` of milliseconds covers 49 days. Before an offset can overflow, the table
//! moves its epoch forward ([`Clock::rebase`], about every 18 days on a node that
//! runs that long): stamps older than the new epoch then read as the epoch itself,
//! that is, as at least 6 days old, which no default window (15 minutes) can tell
//! apart from older.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// A time kept by the table: milliseconds since the epoch, plus one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Stamp(NonZeroU32);

impl Stamp {
    /// Milliseconds since the epoch.
    pub(super) fn ms(self) -> u64 {
        u64::from(self.0.get() - 1)
    }

    fn from_ms(ms: u64) -> Stamp {
        let v = ms.min(u64::from(u32::MAX - 1)) as u32 + 1;
        Stamp(NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN))
    }
}

/// Offsets past this many milliseconds (24.8 days) make the table rebase.
const REBASE_AT: u64 = 1 << 31;
/// Where `now` lands after a rebase (6.2 days after the new epoch).
const REBASE_TO: u64 = 1 << 29;

/// Converts between instants and stamps for one table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    epoch: Instant,
}

impl Clock {
    pub(super) fn new(epoch: Instant) -> Clock {
        Clock { epoch }
    }

    /// Milliseconds from the epoch to `t` (0 for an instant before the epoch).
    pub(super) fn ms(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.epoch);
        d.as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(d.subsec_millis()))
    }

    /// The stamp of `t`.
    pub(super) fn stamp(&self, t: Instant) -> Stamp {
        Stamp::from_ms(self.ms(t))
    }

    /// The instant a stamp stands for.
    pub(super) fn instant(&self, s: Stamp) -> Instant {
        self.at_ms(s.ms())
    }

    /// The instant `ms` milliseconds after the epoch (saturating far in the future).
    pub(super) fn at_ms(&self, ms: u64) -> Instant {
        let d = Duration::from_millis(ms);
        self.epoch
            .checked_add(d)
            .unwrap_or_else(|| self.epoch + Duration::from_secs(100 * 365 * 86_400))
    }

    /// Whether stamps taken at `now` are about to overflow: then call
    /// [`Clock::rebase`] and shift every stamp with [`Clock::shift`].
    pub(super) fn needs_rebase(&self, now: Instant) -> bool {
        self.ms(now) >= REBASE_AT
    }

    /// Moves the epoch forward so that `now` is [`REBASE_TO`] after it; returns the
    /// shift in milliseconds, to apply to every stamp with [`Clock::shift`].
    pub(super) fn rebase(&mut self, now: Instant) -> u64 {
        let shift = self.ms(now).saturating_sub(REBASE_TO);
        self.epoch += Duration::from_millis(shift);
        shift
    }

    /// A stamp taken before a rebase of `shift` ms, read against the new epoch
    /// (stamps older than the new epoch become the epoch).
    pub(super) fn shift(s: Stamp, shift: u64) -> Stamp {
        Stamp::from_ms(s.ms().saturating_sub(shift))
    }
}

/// A duration in whole milliseconds (rounded up, so a window is never shortened).
pub(super) fn ms_of(d: Duration) -> u64 {
    let ms = d.as_millis();
    let up = u128::from(d.subsec_nanos() % 1_000_000 != 0);
    u64::try_from(ms + up).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_whole_milliseconds() {
        let t0 = Instant::now();
        let c = Clock::new(t0);
        for ms in [0u64, 1, 999, 60_000, 15 * 60_000, 40 * 86_400_000] {
            let t = t0 + Duration::from_millis(ms);
            assert_eq!(c.ms(t), ms);
            assert_eq!(c.instant(c.stamp(t)), t);
        }
        // Before the epoch reads as the epoch.
        if let Some(before) = t0.checked_sub(Duration::from_secs(1)) {
            assert_eq!(c.ms(before), 0);
        }
    }

    #[test]
    fn a_rebase_keeps_recent_stamps_and_clamps_old_ones() {
        let t0 = Instant::now();
        let mut c = Clock::new(t0);
        let old = c.stamp(t0 + Duration::from_secs(60));
        let now = t0 + Duration::from_millis(REBASE_AT + 5_000);
        let recent = c.stamp(now - Duration::from_secs(30));
        assert!(c.needs_rebase(now));
        let shift = c.rebase(now);
        assert!(!c.needs_rebase(now));
        assert_eq!(c.ms(now), REBASE_TO);
        let recent = Clock::shift(recent, shift);
        assert_eq!(c.instant(recent), now - Duration::from_secs(30));
        assert_eq!(Clock::shift(old, shift).ms(), 0);
    }

    #[test]
    fn an_option_of_a_stamp_takes_four_bytes() {
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 4);
    }
}
