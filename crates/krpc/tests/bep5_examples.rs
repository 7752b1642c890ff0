//! Byte-exact checks against the example messages of BEP 5 (and BEP 32/42/43 variants).

mod common;

use common::addr;
use swarmlab_krpc::{
    Body, ErrorCode, Id, Message, Method, Node4, Query, Response, TransactionId, Want,
};

fn idb(s: &[u8; 20]) -> Id {
    Id(*s)
}

fn aa() -> TransactionId {
    TransactionId::new(b"aa".to_vec())
}

/// `wire` decodes to `msg`, and `msg` encodes to exactly `wire`.
fn exact(wire: &[u8], msg: Message) {
    let decoded = Message::decode(wire).unwrap_or_else(|e| {
        panic!("{} failed: {e}", String::from_utf8_lossy(wire));
    });
    assert_eq!(decoded, msg);
    let encoded = msg.encode();
    assert_eq!(
        String::from_utf8_lossy(&encoded),
        String::from_utf8_lossy(wire)
    );
    assert_eq!(encoded, wire);
    assert_eq!(msg.encoded_len(), wire.len());
}

#[test]
fn ping() {
    exact(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        Message::query(aa(), idb(b"abcdefghij0123456789"), Method::Ping),
    );
    exact(
        b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
        Message::response(aa(), Response::new(idb(b"mnopqrstuvwxyz123456"))),
    );
}

#[test]
fn find_node() {
    exact(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
        Message::query(
            aa(),
            idb(b"abcdefghij0123456789"),
            Method::FindNode {
                target: idb(b"mnopqrstuvwxyz123456"),
                want: Want::default(),
            },
        ),
    );
    // One real 26-byte node: id "abcdefghij0123456789", 127.0.0.1:6881 ("\x7f\0\0\x01\x1a\xe1").
    exact(
        b"d1:rd2:id20:0123456789abcdefghij5:nodes26:abcdefghij0123456789\x7f\x00\x00\x01\x1a\xe1e1:t2:aa1:y1:re",
        Message::response(
            aa(),
            Response {
                nodes: Some(vec![Node4 {
                    id: idb(b"abcdefghij0123456789"),
                    addr: "127.0.0.1:6881".parse().unwrap(),
                }]),
                ..Response::new(idb(b"0123456789abcdefghij"))
            },
        ),
    );
}

#[test]
fn find_node_response_literal_from_bep5_truncates_partial_nodes() {
    // BEP 5 abbreviates `nodes` as the 9 bytes "def456...": not a whole 26-byte entry.
    // Documented decision: partial trailing entries are ignored, the response is kept.
    let m = Message::decode(b"d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re")
        .unwrap();
    assert_eq!(
        m,
        Message::response(
            aa(),
            Response {
                nodes: Some(vec![]),
                ..Response::new(idb(b"0123456789abcdefghij"))
            }
        )
    );
    let m = Message::decode(
        b"d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re",
    )
    .unwrap();
    let Body::Response(r) = m.body else {
        panic!("not a response")
    };
    assert_eq!(r.token.as_deref(), Some(&b"aoeusnth"[..]));
    assert_eq!(r.nodes, Some(vec![]));
}

#[test]
fn get_peers() {
    exact(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
        Message::query(
            aa(),
            idb(b"abcdefghij0123456789"),
            Method::GetPeers {
                info_hash: idb(b"mnopqrstuvwxyz123456"),
                want: Want::default(),
            },
        ),
    );
    // "axje.u" = 97.120.106.101:11893, "idhtnm" = 105.100.104.116:28269.
    exact(
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
        Message::response(
            aa(),
            Response {
                token: Some(b"aoeusnth".to_vec()),
                values: Some(vec![addr("97.120.106.101:11893"), addr("105.100.104.116:28269")]),
                ..Response::new(idb(b"abcdefghij0123456789"))
            },
        ),
    );
}

#[test]
fn announce_peer() {
    exact(
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        Message::query(
            aa(),
            idb(b"abcdefghij0123456789"),
            Method::AnnouncePeer {
                info_hash: idb(b"mnopqrstuvwxyz123456"),
                port: 6881,
                implied_port: true,
                token: b"aoeusnth".to_vec(),
            },
        ),
    );
    exact(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        Message::query(
            aa(),
            idb(b"abcdefghij0123456789"),
            Method::AnnouncePeer {
                info_hash: idb(b"mnopqrstuvwxyz123456"),
                port: 6881,
                implied_port: false,
                token: b"aoeusnth".to_vec(),
            },
        ),
    );
    exact(
        b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
        Message::response(aa(), Response::new(idb(b"mnopqrstuvwxyz123456"))),
    );
}

#[test]
fn error() {
    exact(
        b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        Message::error(aa(), ErrorCode::Generic, "A Generic Error Ocurred"),
    );
    // A mangled copy of that example ("Ormsg" is 21 bytes, not 23, so the string swallows
    // "1:" and the dict continues with 't'): not bencode, dropped.
    assert!(matches!(
        Message::decode(b"d1:eli201e23:A Generic Error Ormsg1:t2:aa1:y1:ee"),
        Err(swarmlab_krpc::DecodeError::Garbage {
            tid: None,
            reason: swarmlab_krpc::Reason::NotBencode
        })
    ));
    for (code, n) in [
        (ErrorCode::Server, 202),
        (ErrorCode::Protocol, 203),
        (ErrorCode::MethodUnknown, 204),
    ] {
        let msg = Message::error(aa(), code, code.default_message());
        let text = code.default_message();
        let wire = format!("d1:eli{n}e{}:{text}e1:t2:aa1:y1:ee", text.len());
        exact(wire.as_bytes(), msg);
    }
}

#[test]
fn libtorrent_style_response_with_ip_and_version_is_sorted() {
    // Top-level keys in byte order: ip < r < t < v < y.
    exact(
        b"d2:ip6:\x01\x02\x03\x04\x1a\xe11:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:v4:LT\x01\x021:y1:re",
        Message::response(aa(), Response::new(idb(b"mnopqrstuvwxyz123456")))
            .with_ip(addr("1.2.3.4:6881"))
            .with_version(b"LT\x01\x02".to_vec()),
    );
    exact(
        // e < ip.
        b"d1:eli203e14:Protocol Errore2:ip18:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x501:t2:aa1:y1:ee",
        Message::error(aa(), ErrorCode::Protocol, "Protocol Error").with_ip(addr("[2001:db8::1]:80")),
    );
}

#[test]
fn bep32_and_bep43_fields() {
    // want list (BEP 32) and ro (BEP 43): "ro" sorts between "q" and "t".
    let mut q = Message::query(
        aa(),
        idb(b"abcdefghij0123456789"),
        Method::FindNode {
            target: idb(b"mnopqrstuvwxyz123456"),
            want: Want { n4: true, n6: true },
        },
    );
    if let Body::Query(Query { read_only, .. }) = &mut q.body {
        *read_only = true;
    }
    exact(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node2:roi1e1:t2:aa1:y1:qe",
        q,
    );
    // nodes6 (BEP 32): 38 bytes per node; "nodes" < "nodes6" < "token" < "values".
    let n6 = b"abcdefghij0123456789\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x1a\xe1";
    let mut wire = b"d1:rd2:id20:0123456789abcdefghij6:nodes638:".to_vec();
    wire.extend_from_slice(n6);
    wire.extend_from_slice(b"5:token2:tk6:valuesl18:");
    wire.extend_from_slice(&n6[20..]);
    wire.extend_from_slice(b"ee1:t2:aa1:y1:re");
    exact(
        &wire,
        Message::response(
            aa(),
            Response {
                nodes6: Some(vec![swarmlab_krpc::Node6 {
                    id: idb(b"abcdefghij0123456789"),
                    addr: "[2001:db8::2]:6881".parse().unwrap(),
                }]),
                token: Some(b"tk".to_vec()),
                values: Some(vec![addr("[2001:db8::2]:6881")]),
                ..Response::new(idb(b"0123456789abcdefghij"))
            },
        ),
    );
}
