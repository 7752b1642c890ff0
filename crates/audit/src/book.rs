//! A round's address book: every address once, the sources that named it, in order
//! of discovery, capped at `--max-peers`, with the queue of those still to connect.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

#[derive(Debug)]
pub(crate) struct AddressBook {
    sources: HashMap<SocketAddr, Vec<String>>,
    order: Vec<SocketAddr>,
    queue: VecDeque<SocketAddr>,
    max: usize,
}

impl AddressBook {
    pub(crate) fn new(max: usize) -> AddressBook {
        AddressBook {
            sources: HashMap::new(),
            order: Vec::new(),
            queue: VecDeque::new(),
            max,
        }
    }

    /// Note that `src` named `addr`; a new address is queued for a connection when
    /// `connect`. Returns true when the address was new and queued.
    pub(crate) fn add(&mut self, addr: SocketAddr, src: &str, connect: bool) -> bool {
        if !swarmlab_net::is_valid_peer(&addr) {
            return false;
        }
        if let Some(s) = self.sources.get_mut(&addr) {
            if !s.iter().any(|x| x == src) {
                s.push(src.to_string());
            }
            return false;
        }
        if self.sources.len() >= self.max {
            return false;
        }
        self.sources.insert(addr, vec![src.to_string()]);
        self.order.push(addr);
        if connect {
            self.queue.push_back(addr);
        }
        connect
    }

    pub(crate) fn len(&self) -> usize {
        self.sources.len()
    }

    /// The next address to connect to, without taking it.
    pub(crate) fn peek_queued(&self) -> Option<SocketAddr> {
        self.queue.front().copied()
    }

    pub(crate) fn pop_queued(&mut self) -> Option<SocketAddr> {
        self.queue.pop_front()
    }

    pub(crate) fn queue_is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn sources(&self, addr: &SocketAddr) -> Vec<String> {
        self.sources.get(addr).cloned().unwrap_or_default()
    }

    /// Every address, in order of discovery.
    pub(crate) fn order(&self) -> &[SocketAddr] {
        &self.order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_once_with_its_sources_and_a_cap() {
        let a: SocketAddr = "127.0.0.2:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.3:1".parse().unwrap();
        let mut book = AddressBook::new(2);
        assert!(book.add(a, "http_tracker", true));
        assert!(!book.add(a, "dht", true));
        assert!(!book.add(a, "dht", true));
        assert!(!book.add(b, "pex", false), "recorded, not queued");
        assert!(
            !book.add("127.0.0.4:1".parse().unwrap(), "pex", true),
            "over the cap"
        );
        assert!(
            !book.add("0.0.0.0:1".parse().unwrap(), "pex", true),
            "not a peer"
        );
        assert_eq!(book.sources(&a), vec!["http_tracker", "dht"]);
        assert_eq!(book.order(), &[a, b]);
        assert_eq!(book.pop_queued(), Some(a));
        assert!(book.queue_is_empty());
    }
}
