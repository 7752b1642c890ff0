//! The session's clocks: the handshake deadline, the idle timeout and keep-alives.
//!
//! The session reads no clock: it remembers the `now` of the latest call that gave
//! one, and the driver calls [`Session::handle_timeout`] at [`Session::poll_timeout`].

use std::time::{Duration, Instant};

use super::{Phase, Session};
use crate::error::SessionError;
use crate::wire::Message;

#[derive(Debug)]
pub(super) struct Timers {
    /// The latest time a call gave us (never goes back).
    now: Instant,
    started: Instant,
    last_recv: Instant,
    last_sent: Instant,
}

impl Timers {
    pub(super) fn new(now: Instant) -> Timers {
        Timers {
            now,
            started: now,
            last_recv: now,
            last_sent: now,
        }
    }
    pub(super) fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }
    pub(super) fn received(&mut self, now: Instant) {
        self.tick(now);
        self.last_recv = self.now;
    }
    pub(super) fn sent(&mut self) {
        self.last_sent = self.now;
    }
    pub(super) fn established(&mut self, now: Instant) {
        self.tick(now);
        self.last_recv = self.now;
    }
}

fn after(t: Instant, d: Duration) -> Option<Instant> {
    t.checked_add(d)
}

impl Session {
    /// When [`Session::handle_timeout`] should next be called (`None` once closed).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = &self.cfg.timeouts;
        match self.phase {
            Phase::Closed => None,
            Phase::Handshake | Phase::AwaitAccept => after(self.timers.started, t.handshake),
            Phase::Established => {
                let idle = after(self.timers.last_recv, t.idle);
                let keepalive = after(self.timers.last_sent, t.keepalive);
                match (idle, keepalive) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// Handle the clock: end a handshake that took too long or a peer silent for
    /// the idle time, and send a keep-alive when we have been silent.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), SessionError> {
        self.check_open()?;
        self.timers.tick(now);
        let t = self.cfg.timeouts.clone();
        let due = |from: Instant, d: Duration| after(from, d).is_some_and(|at| now >= at);
        let res = match self.phase {
            Phase::Handshake | Phase::AwaitAccept if due(self.timers.started, t.handshake) => {
                Err(SessionError::HandshakeTimeout(t.handshake))
            }
            Phase::Established if due(self.timers.last_recv, t.idle) => {
                Err(SessionError::IdleTimeout(t.idle))
            }
            Phase::Established if due(self.timers.last_sent, t.keepalive) => {
                self.send(&Message::KeepAlive);
                self.stats.keepalives_sent += 1;
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = &res {
            self.fail(e.clone());
        }
        res
    }
}
