//! Filtering NATs: a node behind one receives a datagram only from a node it sent
//! to within the NAT's timeout (endpoint-dependent filtering, RFC 4787 §5). Each such
//! node keeps its open mappings, at most [`MAX_MAPPINGS`], only once it has sent
//! something.

use std::collections::HashMap;

/// Most mappings one NAT keeps (the oldest goes first).
pub const MAX_MAPPINGS: usize = 256;

/// The open mappings of every node behind a NAT: (peer, open until, in ns).
#[derive(Debug, Default)]
pub(crate) struct Nat {
    holes: HashMap<u32, Vec<(u32, u64)>>,
    timeout_ns: u64,
}

impl Nat {
    pub(crate) fn new(timeout_ns: u64) -> Nat {
        Nat {
            holes: HashMap::new(),
            timeout_ns,
        }
    }

    /// Node `node` (behind a NAT) sent to `peer` at `now`.
    pub(crate) fn opened(&mut self, node: u32, peer: u32, now: u64) {
        let until = now.saturating_add(self.timeout_ns);
        let v = self.holes.entry(node).or_default();
        if let Some(h) = v.iter_mut().find(|h| h.0 == peer) {
            h.1 = until;
            return;
        }
        if v.len() >= MAX_MAPPINGS {
            v.retain(|h| h.1 > now);
            if v.len() >= MAX_MAPPINGS {
                if let Some(i) = v
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, h)| h.1)
                    .map(|(i, _)| i)
                {
                    v.swap_remove(i);
                }
            }
        }
        v.push((peer, until));
    }

    /// Whether a datagram from `peer` reaches `node` (behind a NAT) at `now`.
    pub(crate) fn admits(&self, node: u32, peer: u32, now: u64) -> bool {
        self.holes
            .get(&node)
            .is_some_and(|v| v.iter().any(|h| h.0 == peer && h.1 > now))
    }

    /// Node `node` left: its NAT is gone.
    pub(crate) fn forget(&mut self, node: u32) {
        self.holes.remove(&node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_peers_sent_to_get_in_and_only_for_the_timeout() {
        let mut n = Nat::new(100);
        assert!(!n.admits(1, 2, 0));
        n.opened(1, 2, 10);
        assert!(n.admits(1, 2, 50));
        assert!(!n.admits(1, 3, 50));
        assert!(!n.admits(1, 2, 110));
        n.opened(1, 2, 100);
        assert!(n.admits(1, 2, 150));
        for p in 0..MAX_MAPPINGS as u32 + 10 {
            n.opened(7, p, u64::from(p));
        }
        assert!(n.holes[&7].len() <= MAX_MAPPINGS);
        assert!(n.admits(7, MAX_MAPPINGS as u32 + 9, 300));
        n.forget(7);
        assert!(!n.admits(7, MAX_MAPPINGS as u32 + 9, 300));
    }
}
