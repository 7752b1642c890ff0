//! The output buffer: encoded messages waiting for the driver to write them.
//!
//! It is bounded: a command that would take it over [`super::Limits::max_output`]
//! fails with [`crate::CommandError::OutputFull`], and the session stops asking for
//! input ([`super::Session::wants_read`]) while it is over half the limit (and
//! serves no metadata then), so what the peer makes us answer (rejects, keep-alives,
//! metadata) cannot pile up either: it is bounded by the input already read.

use crate::error::CommandError;
use crate::wire::Message;

#[derive(Debug)]
pub(super) struct Outbox {
    buf: Vec<u8>,
    max: usize,
}

impl Outbox {
    pub(super) fn new(max: usize) -> Outbox {
        Outbox {
            buf: Vec::new(),
            max,
        }
    }
    pub(super) fn len(&self) -> usize {
        self.buf.len()
    }
    /// Over half the limit: stop reading until the driver drains it.
    pub(super) fn is_high(&self) -> bool {
        self.buf.len() >= self.max / 2
    }
    /// Room for `n` more bytes within the limit (commands check this first).
    pub(super) fn reserve(&self, n: usize) -> Result<(), CommandError> {
        if self.buf.len() + n > self.max {
            return Err(CommandError::OutputFull(self.buf.len()));
        }
        Ok(())
    }
    /// Queue a message (the session's own answers are queued even when full: they
    /// are bounded by the input that asked for them, see the module doc).
    pub(super) fn push(&mut self, msg: &Message) {
        msg.encode_into(&mut self.buf);
    }
    /// Queue raw bytes (the handshake, a piece message's header and data).
    pub(super) fn push_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    pub(super) fn take(&mut self) -> Option<Vec<u8>> {
        if self.buf.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.buf))
        }
    }
}
