//! UDP messages in one datagram or two (course rule 4.5).
//!
//! A deployed tracker sends each reply as two datagrams, the 8-byte header then the
//! body, and a deployed client reads the reply with an 8-byte `recvfrom` and then waits
//! for the body: it hangs on a reply sent as one datagram. So a tracker sends the
//! two-datagram form ([`udp_datagrams`]) and a client accepts both ([`UdpAssembler`]).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use crate::{DecodeError, Header, Message, HEADER_LEN};

/// The datagrams that carry the encoded message `msg`, in the order to send them: the
/// 8-byte header, then the body. A message without a body (or shorter than a header)
/// is one datagram.
pub fn udp_datagrams(msg: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (head, body) = msg.split_at(HEADER_LEN.min(msg.len()));
    std::iter::once(head).chain((!body.is_empty()).then_some(body))
}

/// Puts UDP replies back together, from any number of sources at once.
///
/// Feed it every datagram with its source ([`UdpAssembler::push`]). A datagram of
/// exactly 8 bytes whose header announces a body waits for a later datagram from the
/// same source whose length is that body's (and if the two together are not a message
/// but that datagram alone is, it is taken alone); any other datagram is a whole
/// message (a header whose body was lost is then simply never completed). Several headers may wait
/// for one source, completed in order: trackers sharing a host and a port (SO_REUSEADDR)
/// answer from the same source address, and their halves may interleave. At most
/// `max_pending` headers wait at once, so a flood of header-only datagrams costs
/// bounded memory; their excess is dropped.
#[derive(Debug)]
pub struct UdpAssembler<K> {
    pending: HashMap<K, VecDeque<[u8; HEADER_LEN]>>,
    waiting: usize,
    max_pending: usize,
    max_message: usize,
}

impl<K: Eq + Hash> UdpAssembler<K> {
    /// An assembler holding at most `max_pending` waiting headers and decoding
    /// messages of at most `max_message` bytes.
    pub fn new(max_pending: usize, max_message: usize) -> UdpAssembler<K> {
        UdpAssembler {
            pending: HashMap::new(),
            waiting: 0,
            max_pending,
            max_message,
        }
    }

    /// Headers waiting for their body.
    pub fn pending(&self) -> usize {
        self.waiting
    }

    /// Takes one datagram from `from`: `None` while a header waits for its body (or
    /// was dropped), else the decoded message or why it is not one.
    pub fn push(&mut self, from: K, datagram: &[u8]) -> Option<Result<Message, DecodeError>> {
        if let Ok(head) = <[u8; HEADER_LEN]>::try_from(datagram) {
            if Header::parse(&head).body_len() > 0 {
                if self.waiting < self.max_pending {
                    self.pending.entry(from).or_default().push_back(head);
                    self.waiting += 1;
                }
                return None;
            }
        }
        if let Some(queue) = self.pending.get_mut(&from) {
            let fits = |h: &[u8; HEADER_LEN]| Header::parse(h).body_len() == datagram.len() as u64;
            if let Some(head) = queue.iter().position(fits).and_then(|i| queue.remove(i)) {
                self.waiting -= 1;
                if queue.is_empty() {
                    self.pending.remove(&from);
                }
                let whole = [&head[..], datagram].concat();
                return Some(
                    Message::decode_with_max(&whole, self.max_message).or_else(|e| {
                        // Not its body after all, but maybe a message of its own.
                        Message::decode_with_max(datagram, self.max_message).map_err(|_| e)
                    }),
                );
            }
        }
        Some(Message::decode_with_max(datagram, self.max_message))
    }
}
