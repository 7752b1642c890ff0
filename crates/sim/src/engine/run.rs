//! Running: the next item of the queue, delivering datagrams through the network
//! model, waking nodes, and moving what a node wants sent onto the network.

use std::time::Duration;

use swarmlab_dht::Event;

use super::queue::{InFlight, Item};
use super::Sim;
use crate::addr::sim_index;

/// `Sim::timers` of a node with no wake-up in the queue.
pub const NO_TIMER: u64 = u64::MAX;

impl Sim {
    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now.saturating_add(d.as_nanos() as u64);
        self.run_until_ns(until);
    }

    pub(crate) fn run_until_ns(&mut self, until: u64) {
        while self.step(until) {}
        self.now = self.now.max(until);
    }

    /// Processes the next item due no later than `until`; false when there is none.
    pub(crate) fn step(&mut self, until: u64) -> bool {
        while let Some(i) = self.touched.pop() {
            self.flush(i as usize);
        }
        let Some((t, item)) = self.queue.pop_until(until) else {
            return false;
        };
        self.now = self.now.max(t);
        match item {
            Item::Datagram(slot) => {
                if let Some(d) = self.queue.take(slot) {
                    self.deliver(d);
                }
            }
            Item::Timer(i) => {
                let i = i as usize;
                if self.timers[i] != t {
                    return true; // superseded by an earlier wake-up
                }
                self.timers[i] = super::NO_TIMER;
                let now = self.now();
                if let Some(node) = self.nodes[i].as_mut() {
                    if node.poll_timeout().is_some_and(|w| w <= now) {
                        node.handle_timeout(now);
                    }
                    self.flush(i);
                }
            }
            Item::Depart(i) => self.on_depart(i as usize),
            Item::Lookup(j) => self.on_workload_lookup(j as usize),
        }
        true
    }

    fn deliver(&mut self, d: InFlight) {
        let (to, from) = (d.to as usize, d.from);
        if self.place[to].nat && !self.nat.admits(d.to, from, self.now) {
            self.stats.filtered += 1;
            return;
        }
        let now = self.now();
        let Some(node) = self.nodes[to].as_mut() else {
            self.stats.to_nobody += 1;
            return;
        };
        self.stats.delivered += 1;
        node.handle(now, crate::addr::sim_addr(from as usize), &d.payload);
        self.flush(to);
    }

    fn schedule_timer(&mut self, i: usize) {
        let Some(node) = self.nodes[i].as_ref() else {
            return;
        };
        if let Some(t) = node.poll_timeout() {
            let t = (t.saturating_duration_since(self.start).as_nanos() as u64).max(self.now);
            if t < self.timers[i] {
                self.timers[i] = t;
                self.queue.push(t, Item::Timer(i as u32));
            }
        }
    }

    /// Moves node `i`'s datagrams onto the network, collects its events and
    /// schedules its next wake-up.
    pub(crate) fn flush(&mut self, i: usize) {
        loop {
            let Some(node) = self.nodes[i].as_mut() else {
                return;
            };
            let Some(tx) = node.poll_transmit() else {
                break;
            };
            self.stats.sent += 1;
            let Some(to) = sim_index(tx.to).filter(|&j| j < self.nodes.len()) else {
                self.stats.to_nobody += 1;
                continue;
            };
            if self.place[i].nat {
                self.nat.opened(i as u32, to as u32, self.now);
            }
            if self.cfg.network.lost(&mut self.rng) {
                self.stats.lost += 1;
                continue;
            }
            let delay = self
                .cfg
                .network
                .delay_ns(&self.place[i], &self.place[to], &mut self.rng);
            self.queue.send(
                self.now.saturating_add(delay),
                InFlight {
                    to: to as u32,
                    from: i as u32,
                    payload: tx.payload,
                },
            );
        }
        while let Some(ev) = self.nodes[i].as_mut().and_then(|n| n.poll_event()) {
            if let Event::LookupDone(r) = ev {
                self.on_lookup_done(i, *r);
            }
        }
        self.schedule_timer(i);
    }

    fn on_lookup_done(&mut self, i: usize, r: swarmlab_dht::LookupResult) {
        if let Some(w) = self.workload.as_mut() {
            if let Some(j) = w.started.remove(&(i as u32, r.id)) {
                w.finish(j, r, self.now);
                return;
            }
        }
        self.done.insert((i as u32, r.id), r);
    }
}
