//! [`Window`]: the recent pieces a node knows of, announced and (once fetched and
//! checked) held. It keeps the `size` newest numbers and forgets everything older,
//! so a node's memory is bounded by `size` pieces of at most
//! [`crate::MAX_PIECE_SIZE`] bytes, whatever its peers send.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crate::announce::Announce;

/// One piece number in the window.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its verified announcement.
    pub announce: Announce,
    /// Its bytes, once fetched and checked against the announcement.
    pub data: Option<Arc<[u8]>>,
    /// When its announcement first arrived.
    pub seen: Instant,
}

/// What [`Window::note`] made of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noted {
    /// Older than the window: ignored.
    Old,
    /// The same announcement as the one already known.
    Known,
    /// Another announcement for a number already known (only a source that signs
    /// two pieces under one number can make one): ignored.
    Conflict,
    /// New: now in the window.
    New,
}

/// The bounded window of recent pieces.
#[derive(Debug)]
pub struct Window {
    size: u64,
    newest: Option<u64>,
    entries: BTreeMap<u64, Entry>,
}

impl Window {
    /// A window of the `size` newest pieces (at least 1).
    pub fn new(size: usize) -> Window {
        Window {
            size: size.max(1) as u64,
            newest: None,
            entries: BTreeMap::new(),
        }
    }

    /// The newest number known.
    pub fn newest(&self) -> Option<u64> {
        self.newest
    }

    /// The oldest number the window keeps (0 before any).
    pub fn low(&self) -> u64 {
        self.newest.map_or(0, |n| n.saturating_sub(self.size - 1))
    }

    /// How many numbers the window keeps.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The entry of `n`, if known.
    pub fn get(&self, n: u64) -> Option<&Entry> {
        self.entries.get(&n)
    }

    /// The bytes of `n`, if held.
    pub fn data(&self, n: u64) -> Option<&Arc<[u8]>> {
        self.entries.get(&n).and_then(|e| e.data.as_ref())
    }

    /// Whether `n`'s announcement is known and equal to `a` (a known announcement
    /// needs no second signature check).
    pub fn is_known(&self, a: &Announce) -> bool {
        self.entries
            .get(&a.number)
            .is_some_and(|e| e.announce == *a)
    }

    /// Record a verified announcement; a newer number moves the window on.
    pub fn note(&mut self, a: Announce, now: Instant) -> Noted {
        let n = a.number;
        if self.newest.is_some() && n < self.low() {
            return Noted::Old;
        }
        if let Some(e) = self.entries.get(&n) {
            return if e.announce == a {
                Noted::Known
            } else {
                Noted::Conflict
            };
        }
        self.entries.insert(
            n,
            Entry {
                announce: a,
                data: None,
                seen: now,
            },
        );
        if self.newest.is_none_or(|m| n > m) {
            self.newest = Some(n);
            let low = self.low();
            self.entries = self.entries.split_off(&low);
        }
        Noted::New
    }

    /// Keep the checked bytes of a known piece; false if `n` is not in the window
    /// or already held.
    pub fn store(&mut self, n: u64, data: Arc<[u8]>) -> bool {
        match self.entries.get_mut(&n) {
            Some(e) if e.data.is_none() => {
                e.data = Some(data);
                true
            }
            _ => false,
        }
    }

    /// The held pieces' announcements, oldest first.
    pub fn held(&self) -> impl Iterator<Item = &Announce> {
        self.entries
            .values()
            .filter(|e| e.data.is_some())
            .map(|e| &e.announce)
    }

    /// Known pieces not held yet, oldest first, from `from` on.
    pub fn missing_from(&self, from: u64) -> impl Iterator<Item = &Entry> {
        self.entries
            .range(from..)
            .map(|(_, e)| e)
            .filter(|e| e.data.is_none())
    }

    /// Bytes held.
    pub fn held_bytes(&self) -> usize {
        self.entries
            .values()
            .filter_map(|e| e.data.as_ref())
            .map(|d| d.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn the_window_keeps_the_newest_pieces_only() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let now = Instant::now();
        let mut w = Window::new(4);
        for n in 0..10u64 {
            let a = Announce::sign(&key, n, &[n as u8; 10], false);
            assert_eq!(w.note(a, now), Noted::New);
            assert!(w.store(n, Arc::from(vec![n as u8; 10])));
            assert_eq!(w.note(a, now), Noted::Known);
        }
        assert_eq!((w.low(), w.newest()), (6, Some(9)));
        assert_eq!(w.held().count(), 4, "memory bounded by the window");
        assert_eq!(w.held_bytes(), 40);
        let old = Announce::sign(&key, 2, b"x", false);
        assert_eq!(w.note(old, now), Noted::Old);
        let other = Announce::sign(&key, 8, b"other", false);
        assert_eq!(w.note(other, now), Noted::Conflict);
        assert!(!w.store(8, Arc::from(vec![0u8; 1])), "already held");
        assert!(!w.store(20, Arc::from(vec![0u8; 1])), "not announced");
    }
}
