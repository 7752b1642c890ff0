//! Datagram-size helpers and the documented "how many values fit" guidelines.

mod common;

use common::{addr, id, node4, node6, samples};
use std::net::SocketAddr;
use swarmlab_krpc::{
    value_len, Body, Message, Response, TransactionId, GET_PEERS_SAFE_VALUES_V4,
    GET_PEERS_SAFE_VALUES_V6, SAFE_PAYLOAD,
};

/// Worst case assumed by the guideline constants: 8-byte `t`, 4-byte `v`, IPv6 `ip`,
/// 20-byte token, plus 8 nodes of the values' family.
fn worst_case_get_peers(values: Vec<SocketAddr>, v6: bool) -> Message {
    let mut r = Response {
        token: Some(vec![0xab; 20]),
        values: Some(values),
        ..Response::new(id(1))
    };
    if v6 {
        r.nodes6 = Some((0..8).map(node6).collect());
    } else {
        r.nodes = Some((0..8).map(node4).collect());
    }
    Message::response(TransactionId::new(vec![7; 8]), r)
        .with_version(b"SL01".to_vec())
        .with_ip(addr("[2001:db8::1]:6881"))
}

fn v4s(n: usize) -> Vec<SocketAddr> {
    (0..n)
        .map(|i| SocketAddr::from(([10, 0, (i / 256) as u8, i as u8], 6881)))
        .collect()
}

fn v6s(n: usize) -> Vec<SocketAddr> {
    (0..n)
        .map(|i| SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16], 6881)))
        .collect()
}

#[test]
fn guideline_constants_are_exact() {
    let fits = worst_case_get_peers(v4s(GET_PEERS_SAFE_VALUES_V4), false);
    assert!(fits.encode().len() <= SAFE_PAYLOAD);
    let over = worst_case_get_peers(v4s(GET_PEERS_SAFE_VALUES_V4 + 1), false);
    assert!(over.encode().len() > SAFE_PAYLOAD);

    let fits = worst_case_get_peers(v6s(GET_PEERS_SAFE_VALUES_V6), true);
    assert!(fits.encode().len() <= SAFE_PAYLOAD);
    let over = worst_case_get_peers(v6s(GET_PEERS_SAFE_VALUES_V6 + 1), true);
    assert!(over.encode().len() > SAFE_PAYLOAD);

    assert_eq!(value_len(&addr("1.2.3.4:5")), 8);
    assert_eq!(value_len(&addr("[::1]:5")), 21);
}

#[test]
fn fit_values_trims_to_budget() {
    let mut m = worst_case_get_peers(v4s(1000), false);
    assert!(m.encoded_len() > SAFE_PAYLOAD);
    let dropped = m.fit_values(SAFE_PAYLOAD);
    assert_eq!(dropped, 1000 - GET_PEERS_SAFE_VALUES_V4);
    assert!(m.encode().len() <= SAFE_PAYLOAD);
    assert_eq!(m.encode().len(), m.encoded_len());
    // Already fitting: nothing dropped.
    assert_eq!(m.fit_values(SAFE_PAYLOAD), 0);
    // Keeps the first values (drops from the end).
    let Body::Response(r) = &m.body else { panic!() };
    assert_eq!(r.values.as_ref().unwrap()[0], v4s(1)[0]);

    // Budget too small for any value: `values` is removed entirely.
    let mut m = worst_case_get_peers(v6s(3), true);
    assert_eq!(m.fit_values(100), 3);
    let Body::Response(r) = &m.body else { panic!() };
    assert_eq!(r.values, None);

    // Mixed families and non-responses.
    let mut mixed = worst_case_get_peers([v4s(100), v6s(100)].concat(), false);
    mixed.fit_values(SAFE_PAYLOAD);
    assert!(mixed.encode().len() <= SAFE_PAYLOAD);
    for mut m in samples() {
        if !matches!(
            m.body,
            Body::Response(Response {
                values: Some(_),
                ..
            })
        ) {
            assert_eq!(m.fit_values(0), 0);
        }
    }
}

#[test]
fn encoded_len_matches_for_awkward_lengths() {
    // Length prefixes crossing digit boundaries (9/10, 99/100, 999/1000 bytes).
    for n in [0, 1, 9, 10, 99, 100, 999, 1000, 10_000] {
        let mut r = Response::new(id(2));
        r.token = Some(vec![1; n]);
        r.nodes = Some(vec![node4(1); n / 26]);
        let m = Message::response(TransactionId::new(vec![0; n]), r).with_version(vec![b'v'; n]);
        assert_eq!(m.encoded_len(), m.encode().len(), "n={n}");
        let e = Message::error(
            TransactionId::new(vec![0; n]),
            swarmlab_krpc::ErrorCode::Other(-(n as i64) * 1_000_000_007),
            "x".repeat(n),
        );
        assert_eq!(e.encoded_len(), e.encode().len(), "n={n}");
    }
}

#[test]
fn find_node_reply_with_both_families_is_small() {
    let r = Response {
        nodes: Some((0..8).map(node4).collect()),
        nodes6: Some((0..8).map(node6).collect()),
        ..Response::new(id(1))
    };
    let m = Message::response(TransactionId::new(vec![7; 8]), r)
        .with_version(b"SL01".to_vec())
        .with_ip(addr("[2001:db8::1]:6881"));
    // Documented in README.md.
    assert_eq!(m.encode().len(), 622);
}
