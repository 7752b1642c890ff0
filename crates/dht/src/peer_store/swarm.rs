//! One info-hash's peers, indexed by address, and the uniform sampling of a list.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::Rng;

use super::Peer;

#[derive(Debug, Clone)]
pub(super) struct Swarm {
    pub(super) peers: Vec<Peer>,
    pub(super) index: HashMap<SocketAddr, usize>,
    pub(super) last_announce: Instant,
    pub(super) seeds: usize,
}

impl Swarm {
    pub(super) fn new(now: Instant) -> Self {
        Swarm {
            peers: Vec::new(),
            index: HashMap::new(),
            last_announce: now,
            seeds: 0,
        }
    }

    pub(super) fn remove(&mut self, addr: &SocketAddr) -> Option<Peer> {
        let i = self.index.remove(addr)?;
        let p = self.peers.swap_remove(i);
        if let Some(moved) = self.peers.get(i) {
            self.index.insert(moved.addr, i);
        }
        if p.seed {
            self.seeds -= 1;
        }
        Some(p)
    }
}

/// Up to `max` of `items`, chosen uniformly at random and in random order.
pub(super) fn sample_of<T: Copy, R: Rng + ?Sized>(
    mut items: Vec<T>,
    max: usize,
    rng: &mut R,
) -> Vec<T> {
    if items.len() > max {
        // Partial Fisher-Yates: the first `max` become a uniform sample.
        let (chosen, _) = items.partial_shuffle(rng, max);
        chosen.to_vec()
    } else {
        items.shuffle(rng);
        items
    }
}
