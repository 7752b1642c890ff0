//! What a storage node keeps: items by key, bounded, expiring, with BEP 44's rules for
//! replacing a mutable item.
//!
//! * At most [`ItemStoreConfig::max_items`] items (default 1,000, each at most about
//!   1.2 KB: 1.2 MB in all); a new item when full evicts the one stored or refreshed
//!   longest ago.
//! * An item expires [`ItemStoreConfig::ttl`] (default 2 hours, as libtorrent) after its
//!   last put: the putter must put it again to keep it (BEP 44 asks for a refresh at
//!   least every 2 hours). Expiry happens on every call that reads or writes, so the
//!   store needs no timer.
//! * A mutable item is replaced only by a higher `seq` (equal `seq` with the same value
//!   refreshes it; a lower one, or an equal one with another value, is error 302), and
//!   a put with `cas` only if `cas` is the stored `seq` (else 301).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use swarmlab_krpc::Id;

use super::Item;
use crate::error::{check_len, ItemError};
use crate::ConfigError;

/// Bounds and lifetime of the item store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemStoreConfig {
    /// Most items kept. Default 1,000.
    pub max_items: usize,
    /// How long an item stays after its last put. Default 2 hours.
    pub ttl: Duration,
}

impl Default for ItemStoreConfig {
    fn default() -> Self {
        ItemStoreConfig {
            max_items: 1000,
            ttl: Duration::from_secs(2 * 3600),
        }
    }
}

impl ItemStoreConfig {
    /// Checks that `max_items` is at least 1 and `ttl` positive and bounded.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_items == 0 {
            return Err(ConfigError::Zero("max_items"));
        }
        if self.ttl.is_zero() {
            return Err(ConfigError::ZeroDuration("item ttl"));
        }
        check_len("item ttl", self.ttl)
    }
}

/// What [`ItemStore::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new item.
    Stored,
    /// The same item again: its lifetime starts over.
    Refreshed,
    /// A mutable item replaced by one with a higher `seq`.
    Replaced,
}

#[derive(Debug, Clone)]
struct Stored {
    item: Item,
    at: Instant,
}

/// Items by key, bounded and expiring. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct ItemStore {
    cfg: ItemStoreConfig,
    items: HashMap<Id, Stored>,
    /// Every item by the time of its last put, for expiry and eviction.
    by_time: BTreeSet<(Instant, Id)>,
    evicted: u64,
}

impl ItemStore {
    /// An empty store with `cfg` (validated).
    pub fn new(cfg: ItemStoreConfig) -> Result<ItemStore, ConfigError> {
        cfg.validate()?;
        Ok(ItemStore {
            cfg,
            ..ItemStore::default()
        })
    }

    /// Items stored (expired ones are gone after the last call that read or wrote).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no item is stored.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items evicted to make room since the store was created.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Removes every item whose last put is older than the ttl.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.by_time.first() {
            if now.saturating_duration_since(at) < self.cfg.ttl {
                break;
            }
            self.by_time.pop_first();
            self.items.remove(&id);
        }
    }

    /// The item stored under `target`, if any.
    pub fn get(&mut self, now: Instant, target: &Id) -> Option<&Item> {
        self.expire(now);
        self.items.get(target).map(|s| &s.item)
    }

    /// Stores `item`, which the caller has verified ([`Item::verify`]), with
    /// compare-and-swap on `cas` for a mutable item.
    pub fn put(
        &mut self,
        now: Instant,
        item: Item,
        cas: Option<i64>,
    ) -> Result<PutOutcome, ItemError> {
        self.expire(now);
        let target = item.target();
        let outcome = match self.items.get(&target) {
            Some(old) => match (&old.item.mutable, &item.mutable) {
                (Some(o), Some(n)) => {
                    if let Some(cas) = cas {
                        if cas != o.seq {
                            return Err(ItemError::CasMismatch { stored: o.seq, cas });
                        }
                    }
                    if n.seq < o.seq || (n.seq == o.seq && old.item.v != item.v) {
                        return Err(ItemError::SequenceTooOld {
                            stored: o.seq,
                            seq: n.seq,
                        });
                    }
                    if n.seq == o.seq {
                        PutOutcome::Refreshed
                    } else {
                        PutOutcome::Replaced
                    }
                }
                // Same key: the same immutable value (its key is its hash).
                _ => PutOutcome::Refreshed,
            },
            None => {
                if self.items.len() >= self.cfg.max_items {
                    if let Some((_, oldest)) = self.by_time.pop_first() {
                        self.items.remove(&oldest);
                        self.evicted += 1;
                    }
                }
                PutOutcome::Stored
            }
        };
        if let Some(old) = self.items.get(&target) {
            self.by_time.remove(&(old.at, target));
        }
        // Keep each entry's time monotonic so that the index stays exact.
        let at = self.items.get(&target).map_or(now, |o| o.at.max(now));
        self.by_time.insert((at, target));
        self.items.insert(target, Stored { item, at });
        Ok(outcome)
    }
}
