//! The two forms of a UDP reply (rule 4.5), with the vectors of A2 and A7.

use super::*;

const A2: &str = "01010000000000067f0000011f400007747261636b657200";

#[test]
fn a2_tracker_info_goes_out_as_header_then_body() {
    let msg = h(A2);
    let parts: Vec<String> = udp_datagrams(&msg).map(hex::encode).collect();
    assert_eq!(
        parts,
        ["0101000000000006", "7f0000011f400007747261636b657200"]
    );
}

#[test]
fn a7_udp_errors_go_out_as_header_then_body() {
    for (code, body) in [
        (ErrorCode::InvalidRequest, "00010000"),
        (ErrorCode::InvalidMessageFormat, "00000000"),
    ] {
        let msg = error_message(code);
        let parts: Vec<String> = udp_datagrams(&msg).map(hex::encode).collect();
        assert_eq!(parts, ["0106000000000003", body]);
    }
    // A message without a body stays one datagram.
    let probe = Message::DiscoverTracker.encode().unwrap();
    assert_eq!(udp_datagrams(&probe).count(), 1);
}

fn tracker_a2() -> Message {
    Message::TrackerInfo(TrackerInfo {
        addr: addr("127.0.0.1:8000"),
        name: "tracker".into(),
    })
}

#[test]
fn both_forms_are_assembled() {
    let msg = h(A2);
    let mut a = UdpAssembler::new(16, 65536);
    // One datagram.
    assert_eq!(a.push(1, &msg), Some(Ok(tracker_a2())));
    // Two datagrams, interleaved with another source's two.
    assert_eq!(a.push(1, &msg[..8]), None);
    assert_eq!(a.push(2, &msg[..8]), None);
    assert_eq!(a.pending(), 2);
    assert_eq!(a.push(2, &msg[8..]), Some(Ok(tracker_a2())));
    assert_eq!(a.push(1, &msg[8..]), Some(Ok(tracker_a2())));
    assert_eq!(a.pending(), 0);
    // A header whose body never came: the next whole datagram stands on its own.
    assert_eq!(a.push(3, &msg[..8]), None);
    assert_eq!(a.push(3, &msg), Some(Ok(tracker_a2())));
    assert_eq!(a.pending(), 1);
    // A whole message of the waiting body's length: taken alone, since the two
    // together are no message.
    let empty_name = Message::TrackerInfo(TrackerInfo {
        addr: addr("127.0.0.1:1"),
        name: String::new(),
    });
    let e = empty_name.encode().unwrap();
    assert_eq!(e.len(), 16);
    assert_eq!(a.push(3, &e), Some(Ok(empty_name)));
    assert_eq!(a.pending(), 0);
    // An ERROR in two datagrams.
    let e = error_message(ErrorCode::InvalidRequest);
    assert_eq!(a.push(4, &e[..8]), None);
    assert_eq!(
        a.push(4, &e[8..]),
        Some(Ok(Message::Error(ErrorCode::InvalidRequest)))
    );
}

#[test]
fn two_trackers_behind_one_source_interleave_their_halves() {
    // Two trackers sharing 0.0.0.0:9000 answer from the same address: header A,
    // header B, body A, body B. Both come out, whatever the names' lengths.
    let a = Message::TrackerInfo(TrackerInfo {
        addr: addr("127.0.0.1:8000"),
        name: "tracker".into(),
    })
    .encode()
    .unwrap();
    let b_info = TrackerInfo {
        addr: addr("127.0.0.4:8000"),
        name: "a-much-longer-name".into(),
    };
    let b = Message::TrackerInfo(b_info.clone()).encode().unwrap();
    let mut asm = UdpAssembler::new(16, 65536);
    assert_eq!(asm.push("same", &a[..8]), None);
    assert_eq!(asm.push("same", &b[..8]), None);
    assert_eq!(asm.push("same", &a[8..]), Some(Ok(tracker_a2())));
    assert_eq!(
        asm.push("same", &b[8..]),
        Some(Ok(Message::TrackerInfo(b_info)))
    );
    assert_eq!(asm.pending(), 0);
}

#[test]
fn a_flood_of_headers_is_bounded() {
    let msg = h(A2);
    let mut a = UdpAssembler::new(4, 65536);
    for src in 0..1000 {
        assert_eq!(a.push(src, &msg[..8]), None);
    }
    assert_eq!(a.pending(), 4);
    // A dropped header's body is then a message of its own: invalid, not a panic.
    assert!(matches!(a.push(999, &msg[8..]), Some(Err(_))));
    // Headers from one source count against the same bound.
    for _ in 0..1000 {
        assert_eq!(a.push(1, &msg[..8]), None);
    }
    assert_eq!(a.pending(), 4);
    // The kept ones still complete.
    assert_eq!(a.push(0, &msg[8..]), Some(Ok(tracker_a2())));
}
