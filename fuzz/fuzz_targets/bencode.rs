//! bt-wire's bencode reader on arbitrary bytes: whatever decodes re-encodes to
//! canonical bencode that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_bt_wire::bencode;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = bencode::decode(data) {
        let wire = v.encode();
        assert_eq!(bencode::decode(&wire).ok(), Some(v));
    }
    let _ = bencode::decode_prefix(data);
});
