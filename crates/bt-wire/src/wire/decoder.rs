//! The incremental, length-capped decoder of a stream of messages.

use super::message::be32;
use super::{Message, DEFAULT_MAX_MESSAGE};
use crate::error::WireError;

/// Incremental decoder of length-prefixed messages.
///
/// Feed bytes with [`Decoder::extend`], then call [`Decoder::next_message`] until it
/// returns `Ok(None)`. The buffer never holds more than one message (at most the
/// cap) plus the bytes of the last `extend`.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
    max_len: u32,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_MESSAGE)
    }
}

impl Decoder {
    /// A decoder refusing any length prefix over `max_len` bytes.
    pub fn new(max_len: u32) -> Decoder {
        Decoder {
            buf: Vec::new(),
            pos: 0,
            max_len,
        }
    }
    /// Append received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }
    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Decode the next complete message, if one is buffered.
    ///
    /// An oversized length prefix is reported as soon as its 4 bytes arrive.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        let avail = &self.buf[self.pos..];
        if avail.len() < 4 {
            return Ok(None);
        }
        let len = be32(avail);
        if len > self.max_len {
            return Err(WireError::TooLong {
                len,
                max: self.max_len,
            });
        }
        let total = 4 + len as usize;
        if avail.len() < total {
            return Ok(None);
        }
        let msg = Message::decode_body(&avail[4..total])?;
        self.pos += total;
        Ok(Some(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::tests::all_messages;
    use super::*;

    #[test]
    fn messages_roundtrip_one_byte_at_a_time() {
        let msgs = all_messages();
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(m.encode());
        }
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for b in &stream {
            d.extend(std::slice::from_ref(b));
            while let Some(m) = d.next_message().unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out, msgs);
        assert_eq!(d.buffered(), 0);
        // All at once.
        let mut d = Decoder::default();
        d.extend(&stream);
        let mut n = 0;
        while d.next_message().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, msgs.len());
    }

    #[test]
    fn four_gib_prefix_is_an_error_before_any_body() {
        let mut d = Decoder::default();
        d.extend(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            d.next_message(),
            Err(WireError::TooLong {
                len: u32::MAX,
                max: DEFAULT_MAX_MESSAGE
            })
        );
        assert!(d.buffered() <= 4);
        let mut d = Decoder::new(100);
        d.extend(&101u32.to_be_bytes());
        assert!(matches!(d.next_message(), Err(WireError::TooLong { .. })));
    }

    #[test]
    fn wrong_lengths_are_errors() {
        for body in [
            vec![0u8, 1],
            vec![4, 0, 0, 1],
            vec![6, 0, 0, 0, 0],
            vec![7, 0, 0],
            vec![9, 1],
            vec![0x0E, 1],
            vec![20],
        ] {
            let mut framed = (body.len() as u32).to_be_bytes().to_vec();
            framed.extend(&body);
            let mut d = Decoder::default();
            d.extend(&framed);
            assert!(
                matches!(d.next_message(), Err(WireError::BadLength { .. })),
                "{body:?}"
            );
        }
    }
}
