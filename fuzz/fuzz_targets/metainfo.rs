//! `.torrent` files and info dictionaries (a user's file, or metadata from a peer) on
//! arbitrary bytes; and magnet links from the same bytes read as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::metainfo::{Info, Metainfo};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Metainfo::from_bytes(data) {
        let _ = m.info_hash();
        let _ = m.info.total_length();
        for i in 0..m.info.num_pieces().min(4) {
            let _ = m.info.piece_size(i);
        }
    }
    if let Ok(i) = Info::from_bytes(data) {
        let _ = i.num_pieces();
    }
    let _ = Magnet::parse(&String::from_utf8_lossy(data));
});
