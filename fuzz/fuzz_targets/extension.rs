//! The extension protocol's messages (BEP 10 handshake, BEP 9 ut_metadata, BEP 11
//! ut_pex) on arbitrary payloads; a decoded PEX message re-encodes to one that
//! decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_bt_wire::ext::{ExtHandshake, MetadataMsg, PexMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = ExtHandshake::decode(data) {
        let _ = ExtHandshake::decode(&h.encode());
    }
    if let Ok(m) = MetadataMsg::decode(data) {
        let _ = MetadataMsg::decode(&m.encode());
    }
    if let Ok(p) = PexMessage::decode(data) {
        assert_eq!(PexMessage::decode(&p.encode()).ok(), Some(p));
    }
});
