//! The peer wire (BEP 3, BEP 6, the DHT port message) on arbitrary bytes: the
//! handshake, then a stream cut into reads at the step the first byte gives, through
//! the length-capped decoder; every message decoded must re-encode to a message that
//! decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_bt_wire::wire::{Decoder, Handshake, Message, HANDSHAKE_LEN};

fuzz_target!(|data: &[u8]| {
    if let Some(h) = data.get(..HANDSHAKE_LEN) {
        if let Ok(h) = Handshake::decode(h.try_into().unwrap()) {
            assert_eq!(Handshake::decode(&h.encode()).ok(), Some(h));
        }
    }
    let (step, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s).max(1), r),
        None => return,
    };
    let mut d = Decoder::new(1 << 16);
    for chunk in rest.chunks(step) {
        d.extend(chunk);
        loop {
            match d.next_message() {
                Ok(Some(m)) => {
                    let wire = m.encode();
                    let mut again = Decoder::new(1 << 17);
                    again.extend(&wire);
                    assert_eq!(again.next_message().ok().flatten(), Some(m));
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = Message::decode_body(rest);
});
