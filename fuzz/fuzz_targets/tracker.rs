//! Tracker responses on arbitrary bytes: an HTTP announce body (BEP 3, BEP 23), and
//! the UDP tracker protocol (BEP 15) read as a client (connect and announce replies,
//! IPv4 and IPv6) and as a server (requests).
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_bt_wire::tracker;

fuzz_target!(|data: &[u8]| {
    let _ = tracker::parse_http_response(data);
    let tid = data
        .get(4..8)
        .map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap()));
    let _ = tracker::udp_parse_connect(data, tid);
    let _ = tracker::udp_parse_announce(data, tid, false);
    let _ = tracker::udp_parse_announce(data, tid, true);
    let _ = tracker::udp_parse_request(data);
});
