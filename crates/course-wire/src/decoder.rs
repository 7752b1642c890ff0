//! Incremental decoding from a byte stream.

use crate::{DecodeError, Header, Message, MsgType, DEFAULT_MAX_MESSAGE, HEADER_LEN};

enum State {
    /// Collecting the 8 header bytes into `buf`.
    Header,
    /// Collecting `total` bytes of a validated message into `buf`.
    Body {
        header: Header,
        t: MsgType,
        total: usize,
    },
    /// Discarding the rest of an invalid message whose length is known, then
    /// reporting `err`.
    Skip { remaining: u64, err: DecodeError },
}

/// An incremental decoder: feed it whatever a read returned, get whole messages.
///
/// It buffers at most one message, never more than `max` bytes: a header that
/// announces more is a [`DecodeError::TooLarge`] (fatal: the stream cannot be
/// resynchronised). An invalid message whose length is sane (bad version, unknown
/// type, wrong length for its type, bad body) is consumed whole — its body is
/// discarded as it arrives, without buffering — and reported once, and decoding goes
/// on with the next message. A header announcing less than 8 bytes is reported and
/// only those 8 bytes are consumed.
pub struct Decoder {
    max: usize,
    buf: Vec<u8>,
    state: State,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_MESSAGE)
    }
}

impl Decoder {
    /// A decoder accepting messages of at most `max` bytes.
    pub fn new(max: usize) -> Decoder {
        Decoder {
            max,
            buf: Vec::new(),
            state: State::Header,
        }
    }

    /// Bytes of an unfinished message held so far (for tests and memory accounting).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True when no partial message is pending.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Header) && self.buf.is_empty()
    }

    /// Consumes bytes from the front of `input` and returns the next whole message, or
    /// `Ok(None)` once `input` is exhausted without completing one. Call it in a loop
    /// until it returns `Ok(None)`; after a non-fatal error, calling again goes on with
    /// the bytes after the invalid message.
    pub fn decode_from(&mut self, input: &mut &[u8]) -> Result<Option<Message>, DecodeError> {
        loop {
            match &mut self.state {
                State::Header => {
                    // Fast path: a whole message at the front of the input, nothing
                    // buffered: decode it in place without copying.
                    if self.buf.is_empty() && input.len() >= HEADER_LEN {
                        let head: [u8; HEADER_LEN] =
                            input[..HEADER_LEN].try_into().unwrap_or_default();
                        let header = Header::parse(&head);
                        if let Ok(t) = header.validate(self.max) {
                            let total = header.total_len() as usize;
                            if input.len() >= total {
                                let (msg, rest) = input.split_at(total);
                                *input = rest;
                                return Message::decode_body(t, &header, &msg[HEADER_LEN..])
                                    .map(Some);
                            }
                        }
                    }
                    let want = HEADER_LEN - self.buf.len();
                    let n = want.min(input.len());
                    self.buf.extend_from_slice(&input[..n]);
                    *input = &input[n..];
                    if self.buf.len() < HEADER_LEN {
                        return Ok(None);
                    }
                    let head: [u8; HEADER_LEN] =
                        self.buf[..HEADER_LEN].try_into().unwrap_or_default();
                    let header = Header::parse(&head);
                    match header.validate(self.max) {
                        Ok(t) => {
                            let total = header.total_len() as usize;
                            self.buf.reserve_exact(total - HEADER_LEN);
                            self.state = State::Body { header, t, total };
                        }
                        Err(err) => {
                            self.buf.clear();
                            if header.words < 2 {
                                // Cannot be skipped by its own length: drop the header.
                                return Err(err);
                            }
                            if header.total_len() > self.max as u64 {
                                return Err(DecodeError::TooLarge {
                                    len: header.total_len(),
                                    max: self.max,
                                });
                            }
                            self.state = State::Skip {
                                remaining: header.body_len(),
                                err,
                            };
                        }
                    }
                }
                State::Body { header, t, total } => {
                    let want = *total - self.buf.len();
                    let n = want.min(input.len());
                    self.buf.extend_from_slice(&input[..n]);
                    *input = &input[n..];
                    if self.buf.len() < *total {
                        return Ok(None);
                    }
                    let result = Message::decode_body(*t, header, &self.buf[HEADER_LEN..]);
                    self.state = State::Header;
                    self.buf = Vec::new();
                    return result.map(Some);
                }
                State::Skip { remaining, err } => {
                    let n = (*remaining).min(input.len() as u64) as usize;
                    *input = &input[n..];
                    *remaining -= n as u64;
                    if *remaining > 0 {
                        return Ok(None);
                    }
                    let err = err.clone();
                    self.state = State::Header;
                    return Err(err);
                }
            }
        }
    }
}
