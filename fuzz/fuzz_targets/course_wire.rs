//! The course protocol's decoders on arbitrary bytes: one message, a byte stream cut
//! at every point the input chooses, and UDP datagrams from two sources. Whatever
//! decodes must re-encode to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_course_wire::{Decoder, Message, UdpAssembler};

const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::decode_with_max(data, MAX) {
        if let Ok(wire) = m.encode() {
            assert_eq!(Message::decode_with_max(&wire, MAX).ok(), Some(m));
        }
    }
    // The stream: the first byte says where to cut the rest into reads.
    let (step, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s).max(1), r),
        None => return,
    };
    let mut d = Decoder::new(MAX);
    for mut chunk in rest.chunks(step) {
        loop {
            match d.decode_from(&mut chunk) {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    // Datagrams: cut at the same step, alternating between two sources.
    let mut u = UdpAssembler::new(8, MAX);
    for (i, dgram) in rest.chunks(step).enumerate() {
        let _ = u.push(i % 2, dgram);
        assert!(u.pending() <= 8);
    }
});
