//! When each key is due: [`Schedule`], sans-IO (times are the caller's).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use super::Key;

/// When each key is due, sans-IO. Times are the caller's.
#[derive(Debug)]
pub struct Schedule {
    interval: Duration,
    retry: Duration,
    /// Keys announced and when each is next due.
    due: BTreeMap<Key, Instant>,
    in_flight: HashSet<Key>,
}

impl Schedule {
    /// A schedule re-announcing every `interval`, retrying failures after `retry`.
    pub fn new(interval: Duration, retry: Duration) -> Schedule {
        Schedule {
            interval,
            retry: retry.min(interval),
            due: BTreeMap::new(),
            in_flight: HashSet::new(),
        }
    }

    /// The keys to announce from now on: new ones are due at `now`, those gone are
    /// dropped (an announce of one in flight finishes, and is not repeated).
    pub fn set_keys(&mut self, keys: &BTreeSet<Key>, now: Instant) {
        self.due.retain(|k, _| keys.contains(k));
        for k in keys {
            self.due.entry(*k).or_insert(now);
        }
    }

    /// The keys announced now.
    pub fn keys(&self) -> impl Iterator<Item = &Key> + '_ {
        self.due.keys()
    }

    /// When the next key not in flight is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.due
            .iter()
            .filter(|(k, _)| !self.in_flight.contains(*k))
            .map(|(_, t)| *t)
            .min()
    }

    /// Up to `max` keys due at `now`, earliest first, marked in flight.
    pub fn take_due(&mut self, now: Instant, max: usize) -> Vec<Key> {
        let mut due: Vec<(Instant, Key)> = self
            .due
            .iter()
            .filter(|(k, t)| **t <= now && !self.in_flight.contains(*k))
            .map(|(k, t)| (*t, *k))
            .collect();
        due.sort();
        due.truncate(max);
        let keys: Vec<Key> = due.into_iter().map(|(_, k)| k).collect();
        self.in_flight.extend(keys.iter().copied());
        keys
    }

    /// The announce of `key` finished at `now`; `reached` whether any node took it.
    pub fn done(&mut self, key: Key, now: Instant, reached: bool) {
        self.in_flight.remove(&key);
        if let Some(t) = self.due.get_mut(&key) {
            *t = now + if reached { self.interval } else { self.retry };
        }
    }

    /// Announces running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn keys_are_due_at_once_then_every_interval_and_failures_sooner() {
        let t0 = Instant::now();
        let mut s = Schedule::new(15 * MIN, MIN / 2);
        s.set_keys(&BTreeSet::from([[1; 20], [2; 20]]), t0);
        assert_eq!(s.next_due(), Some(t0));
        assert_eq!(s.take_due(t0, 1), vec![[1; 20]]);
        assert_eq!(
            s.take_due(t0, 5),
            vec![[2; 20]],
            "one in flight is not taken twice"
        );
        assert_eq!(s.next_due(), None, "both in flight");
        s.done([1; 20], t0, true);
        s.done([2; 20], t0, false);
        assert_eq!(s.next_due(), Some(t0 + MIN / 2));
        assert!(s
            .take_due(t0 + MIN / 2 - Duration::from_millis(1), 5)
            .is_empty());
        assert_eq!(s.take_due(t0 + MIN / 2, 5), vec![[2; 20]]);
        s.done([2; 20], t0 + MIN / 2, true);
        assert_eq!(s.next_due(), Some(t0 + 15 * MIN));
    }

    #[test]
    fn a_key_gone_is_no_longer_announced() {
        let t0 = Instant::now();
        let mut s = Schedule::new(15 * MIN, MIN);
        s.set_keys(&BTreeSet::from([[1; 20], [2; 20]]), t0);
        let _ = s.take_due(t0, 5);
        s.done([1; 20], t0, true);
        // Key 2 disappears while its announce runs: it is not scheduled again.
        s.set_keys(&BTreeSet::from([[1; 20]]), t0);
        s.done([2; 20], t0, true);
        assert_eq!(s.keys().collect::<Vec<_>>(), vec![&[1; 20]]);
        assert_eq!(s.take_due(t0 + 15 * MIN, 5), vec![[1; 20]]);
        // Keeping a key does not move its time.
        s.done([1; 20], t0 + 15 * MIN, true);
        s.set_keys(&BTreeSet::from([[1; 20], [3; 20]]), t0 + 16 * MIN);
        assert_eq!(s.take_due(t0 + 16 * MIN, 5), vec![[3; 20]]);
    }
}
