//! Our external address (BEP 42): the `ip` field of replies votes; once enough
//! agree, the address is reported and, with `secure_id`, a BEP 42 id adopted.

use std::net::SocketAddr;
use std::time::Instant;

use crate::lookup::LookupKind;

use super::{Event, Node};

impl Node {
    pub(super) fn vote_external(&mut self, now: Instant, ip: SocketAddr) {
        if self.votes.len() > 64 {
            self.votes.clear();
        }
        let n = self.votes.entry(ip).or_default();
        *n += 1;
        if *n >= 4 && self.external != Some(ip) {
            self.external = Some(ip);
            self.events.push_back(Event::ExternalAddress(ip));
            if self.cfg.secure_id && !crate::bep42::is_valid(&self.id, ip.ip()) {
                let id = crate::bep42::derive_id(ip.ip(), &mut self.rng);
                self.id = id;
                self.table.set_our_id(now, id);
                self.events.push_back(Event::IdChanged(id));
                let mut l = self.new_lookup(now, LookupKind::FindNode, id);
                l.internal = true;
                self.run_lookup(now, l);
            }
        }
    }
}
