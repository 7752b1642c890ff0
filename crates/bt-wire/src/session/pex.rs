//! ut_pex (BEP 11), both ways.
//!
//! Sending: [`Session::send_pex`] refuses a message sooner than
//! [`super::Limits::pex_interval`] (a minute) after the previous one and sends at
//! most [`super::Limits::pex_max_peers`] (50) added and 50 dropped peers.
//!
//! Receiving: each message is decoded with [`crate::ext::PexMessage::decode`]'s cap
//! (500 peers kept, the rest counted as `truncated`); within any `pex_interval`
//! only [`super::Limits::pex_burst`] messages are accepted, later ones are counted
//! ([`super::Stats::pex_ignored`]) and ignored. (libtorrent, stricter, disconnects
//! a peer that sends a seventh message within a minute.)

use std::net::SocketAddr;
use std::time::Instant;

use super::{Event, Misbehaviour, Session};
use crate::error::CommandError;
use crate::ext::PexMessage;
use crate::wire::Message;

#[derive(Debug, Default)]
pub(super) struct PexState {
    last_sent: Option<Instant>,
    /// When the messages accepted within the last interval arrived, oldest first.
    accepted: std::collections::VecDeque<Instant>,
}

/// What [`Session::send_pex`] sent, after BEP 11's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PexSent {
    /// Added peers sent.
    pub added: usize,
    /// Dropped peers sent.
    pub dropped: usize,
}

impl Session {
    /// Send a ut_pex message: peers we know (with their BEP 11 flags, see
    /// [`crate::ext::pex_flags`]) and peers we lost since the last message.
    pub fn send_pex(
        &mut self,
        now: Instant,
        added: &[(SocketAddr, u8)],
        dropped: &[SocketAddr],
    ) -> Result<PexSent, CommandError> {
        self.ready()?;
        let unsupported = CommandError::Unsupported("ut_pex (BEP 11)");
        if !self.extended || !self.cfg.extensions.ut_pex {
            return Err(unsupported);
        }
        let id = self.peer_ext_id("ut_pex").ok_or(unsupported)?;
        self.timers.tick(now);
        if let Some(next) = self
            .pex
            .last_sent
            .and_then(|t| t.checked_add(self.cfg.limits.pex_interval))
        {
            if now < next {
                return Err(CommandError::PexTooSoon(next - now));
            }
        }
        let max = self.cfg.limits.pex_max_peers;
        let added = &added[..added.len().min(max)];
        let dropped = &dropped[..dropped.len().min(max)];
        let msg = PexMessage {
            added: added.iter().map(|(a, _)| *a).collect(),
            // `added.f` runs parallel to the IPv4 peers of `added`.
            added_flags: added
                .iter()
                .filter(|(a, _)| a.is_ipv4())
                .map(|(_, f)| *f)
                .collect(),
            dropped: dropped.to_vec(),
            truncated: 0,
        };
        let payload = msg.encode();
        self.out.reserve(payload.len() + 6)?;
        self.send(&Message::Extended { id, payload });
        self.pex.last_sent = Some(now);
        self.stats.pex_sent += 1;
        Ok(PexSent {
            added: added.len(),
            dropped: dropped.len(),
        })
    }

    pub(super) fn on_pex(&mut self, now: Instant, payload: &[u8]) {
        self.stats.pex_received += 1;
        let window = self.cfg.limits.pex_interval;
        while let Some(&t) = self.pex.accepted.front() {
            if now.saturating_duration_since(t) >= window {
                self.pex.accepted.pop_front();
            } else {
                break;
            }
        }
        if self.pex.accepted.len() >= self.cfg.limits.pex_burst {
            self.stats.pex_ignored += 1;
            self.misbehaved(Misbehaviour::PexTooOften);
            return;
        }
        self.pex.accepted.push_back(now);
        match PexMessage::decode(payload) {
            Ok(m) => self.event(Event::Pex(m)),
            Err(error) => self.misbehaved(Misbehaviour::BadExtensionMessage {
                extension: "ut_pex",
                error,
            }),
        }
    }
}
