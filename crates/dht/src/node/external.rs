//! Our external address (BEP 42): the `ip` field of replies to our queries votes; once
//! voters from [`VOTES_NEEDED`] distinct networks agree, the address is reported and,
//! with `secure_id`, a BEP 42 id adopted. [`Node::set_id`] gives the node an id chosen
//! elsewhere (the driver passes the IPv4 node's new id to the IPv6 node).
//!
//! A vote counts once per voter address and once per network: a /24 for IPv4 voters,
//! a /48 for IPv6 ones. One node that answers many queries, or many nodes of one
//! network, count as one vote, so that changing our address (and our id) takes nodes
//! in four networks, not one node that answers four times. Memory is bounded: at most
//! [`MAX_CANDIDATES`] addresses are being voted for, each remembering at most
//! [`VOTES_NEEDED`] networks.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use swarmlab_krpc::Id;

use crate::lookup::LookupKind;

use super::{Event, Node};

/// Distinct voter networks that must agree on an address.
pub const VOTES_NEEDED: usize = 4;

/// Addresses being voted for at most; when more arrive the tally starts over.
pub const MAX_CANDIDATES: usize = 64;

/// The network a voter belongs to: the first 3 bytes of an IPv4 address, the first 6
/// of an IPv6 one (IPv4-mapped addresses count as IPv4).
fn network(ip: IpAddr) -> [u8; 7] {
    let mut n = [0u8; 7];
    match ip.to_canonical() {
        IpAddr::V4(v4) => n[1..4].copy_from_slice(&v4.octets()[..3]),
        IpAddr::V6(v6) => {
            n[0] = 6;
            n[1..7].copy_from_slice(&v6.octets()[..6]);
        }
    }
    n
}

/// The tally of the `ip` fields of replies.
#[derive(Debug, Default)]
pub(super) struct Votes {
    /// Address voted for → the networks that voted for it.
    tally: HashMap<SocketAddr, Vec<[u8; 7]>>,
}

impl Votes {
    /// Records that `voter` says our address is `ours`; returns true when it is the vote
    /// that makes [`VOTES_NEEDED`] networks agree.
    fn vote(&mut self, voter: IpAddr, ours: SocketAddr) -> bool {
        if !self.tally.contains_key(&ours) && self.tally.len() >= MAX_CANDIDATES {
            self.tally.clear();
        }
        let nets = self.tally.entry(ours).or_default();
        let net = network(voter);
        if nets.len() >= VOTES_NEEDED || nets.contains(&net) {
            return false;
        }
        nets.push(net);
        nets.len() == VOTES_NEEDED
    }
}

impl Node {
    /// `voter` answered one of our queries with `ip` = `ours`.
    pub(super) fn vote_external(&mut self, now: Instant, voter: IpAddr, ours: SocketAddr) {
        if !self.votes.vote(voter, ours) || self.external == Some(ours) {
            return;
        }
        self.external = Some(ours);
        self.events.push_back(Event::ExternalAddress(ours));
        if self.cfg.secure_id && !crate::bep42::is_valid(&self.id, ours.ip()) {
            let id = crate::bep42::derive_id(ours.ip(), &mut self.rng);
            self.set_id(now, id);
        }
    }

    /// Takes `id` as our id (a BEP 42 id derived here or by the other family's node):
    /// the routing table is rebuilt around it, [`Event::IdChanged`] is reported, and the
    /// node looks itself up to fill its new neighbourhood. Nothing happens if `id` is
    /// already ours.
    pub fn set_id(&mut self, now: Instant, id: Id) {
        if id == self.id {
            return;
        }
        self.id = id;
        self.table.set_our_id(now, id);
        self.events.push_back(Event::IdChanged(id));
        let mut l = self.new_lookup(now, LookupKind::FindNode, id);
        l.internal = true;
        self.run_lookup(now, l);
    }
}
