//! Lookups run by the node: starting one from the table (or the bootstrap
//! addresses), sending what it plans, finishing it (and the bootstrap bookkeeping).

use std::time::{Duration, Instant};

use swarmlab_krpc::{Id, Method, Want};

use crate::error::LookupError;
use crate::lookup::{Lookup, LookupId, LookupKind, Planned};

use super::items::ItemLookup;
use super::{Event, Node, Purpose};

impl Node {
    pub(super) fn new_lookup(&mut self, now: Instant, kind: LookupKind, target: Id) -> Lookup {
        let lid = LookupId(self.next_lookup);
        self.next_lookup += 1;
        let mut l = Lookup::new(lid, kind, target, now, self.cfg.k, self.cfg.alpha);
        let seeds = self.table.closest(now, &target, self.cfg.k * 2);
        let seeds = if seeds.len() < self.cfg.k {
            self.table.closest_any(now, &target, self.cfg.k * 2)
        } else {
            seeds
        };
        for n in seeds {
            l.add_candidate(Some(n.id), n.addr, 1, &self.id);
        }
        l
    }

    /// Starts a lookup of `target`; its result comes as [`Event::LookupDone`]. A BEP 44
    /// get of an immutable (or unsalted mutable) item may start here; a put needs its
    /// item: [`Node::start_put`].
    pub fn start_lookup(
        &mut self,
        now: Instant,
        kind: LookupKind,
        target: Id,
    ) -> Result<LookupId, LookupError> {
        match kind {
            LookupKind::PutItem => Err(LookupError::PutWithoutItem),
            LookupKind::GetItem => self.start_get(now, target, Vec::new()),
            _ => self.start(now, kind, target, None),
        }
    }

    pub(super) fn start(
        &mut self,
        now: Instant,
        kind: LookupKind,
        target: Id,
        side: Option<ItemLookup>,
    ) -> Result<LookupId, LookupError> {
        if self.lookups.len() >= self.cfg.max_lookups {
            return Err(LookupError::TooMany(self.cfg.max_lookups));
        }
        let mut l = self.new_lookup(now, kind, target);
        if let Some(side) = side {
            self.item_lookups.insert(l.id, side);
        }
        if self.table.is_empty() {
            for a in self.bootstrap.clone() {
                l.add_candidate(None, a, 1, &self.id);
            }
        }
        let lid = l.id;
        self.stats.lookups_started += 1;
        self.run_lookup(now, l);
        Ok(lid)
    }

    /// Sends what the lookup plans, then keeps it, or finishes it.
    pub(super) fn run_lookup(&mut self, now: Instant, mut l: Lookup) {
        for p in l.plan() {
            match self.send_lookup_query(now, &l, &p) {
                Some(tid) => l.sent(&p, tid, now),
                None => break, // capped: the rest is planned again at retry_at
            }
        }
        if l.is_finished() {
            self.finish_lookup(now, l);
        } else {
            self.lookups.insert(l.id, l);
        }
    }

    fn send_lookup_query(&mut self, now: Instant, l: &Lookup, p: &Planned) -> Option<u32> {
        let method = match (&p.announce_token, l.kind) {
            (Some(token), LookupKind::Announce { port }) => Method::AnnouncePeer {
                info_hash: l.target,
                port: port.unwrap_or(0),
                implied_port: port.is_none(),
                token: token.clone(),
            },
            // A put lookup always has its item (start_put); without it, nothing to send.
            (Some(token), LookupKind::PutItem) => self.put_method(l.id, token)?,
            (_, LookupKind::FindNode) => Method::FindNode {
                target: l.target,
                want: Want::default(),
            },
            (_, LookupKind::GetItem | LookupKind::PutItem) => Method::Get {
                target: l.target,
                seq: None,
                want: Want::default(),
            },
            _ => Method::GetPeers {
                info_hash: l.target,
                want: Want::default(),
            },
        };
        self.send_query(now, p.addr, p.id, method, Purpose::Lookup(l.id))
    }

    fn finish_lookup(&mut self, now: Instant, l: Lookup) {
        for tid in l.pending_tids() {
            self.requests.remove(&tid);
        }
        let internal = l.internal;
        let lid = l.id;
        let mut result = l.result(now);
        result.item = self.item_lookups.remove(&lid).and_then(|s| s.found);
        self.stats.lookup_ms.record(result.elapsed_ms);
        if self.bootstrap_lookup == Some(lid) {
            self.bootstrap_lookup = None;
            // Joined once the table holds k verified nodes. With fewer (the network
            // is tiny, or replies were lost and the self-lookup met only the bootstrap
            // node), nobody knows us yet and we know nobody: look ourselves up again,
            // with the same backoff as for an empty table, instead of staying cut off
            // until the first bucket refresh 15 minutes later.
            let k = self.table.config().k;
            if self.table.closest(now, &self.id, k).len() < k {
                self.next_bootstrap = Some(now + self.bootstrap_backoff);
                self.bootstrap_backoff =
                    (self.bootstrap_backoff * 2).min(self.cfg.bootstrap_backoff_max);
            } else {
                self.bootstrap_backoff = Duration::from_secs(1);
            }
            if !self.table.is_empty() {
                self.refresh_far_buckets(now);
            }
        }
        if !internal {
            self.stats.lookups_done += 1;
            self.events.push_back(Event::LookupDone(Box::new(result)));
        }
    }
}
