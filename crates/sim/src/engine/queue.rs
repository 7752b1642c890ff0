//! What is due when: one priority queue of small items ordered by (time, sequence),
//! and the datagrams in flight in a slab (the queue moves 24-byte entries, the
//! payloads stay put).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Something due at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Item {
    /// Deliver the datagram in this slot of the flight slab.
    Datagram(u32),
    /// Node `i` asked to be woken.
    Timer(u32),
    /// Node `i` leaves (churn).
    Depart(u32),
    /// Start lookup `j` of the workload.
    Lookup(u32),
}

/// A datagram on its way from node `from` to node `to`.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub(crate) to: u32,
    pub(crate) from: u32,
    pub(crate) payload: Vec<u8>,
}

/// The event queue and the flight slab.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    heap: BinaryHeap<Reverse<(u64, u64, Item)>>,
    seq: u64,
    flight: Vec<Option<InFlight>>,
    free: Vec<u32>,
}

impl Queue {
    /// Schedules `item` at `at` (ns); items due at the same time come in push order.
    pub(crate) fn push(&mut self, at: u64, item: Item) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, item)));
    }

    /// When the next item is due.
    pub(crate) fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The next item, if it is due no later than `until`.
    pub(crate) fn pop_until(&mut self, until: u64) -> Option<(u64, Item)> {
        if self.next_at()? > until {
            return None;
        }
        self.heap.pop().map(|Reverse((t, _, item))| (t, item))
    }

    /// Puts a datagram in flight, due at `at`.
    pub(crate) fn send(&mut self, at: u64, d: InFlight) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.flight[s as usize] = Some(d);
                s
            }
            None => {
                self.flight.push(Some(d));
                (self.flight.len() - 1) as u32
            }
        };
        self.push(at, Item::Datagram(slot));
    }

    /// Takes the datagram of a slot whose time has come.
    pub(crate) fn take(&mut self, slot: u32) -> Option<InFlight> {
        let d = self.flight.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(d)
    }

    /// Items waiting.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}
