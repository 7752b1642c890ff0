//! Decode-error classification: what a node must drop, answer (203/204), or count.

use swarmlab_krpc::{
    Body, DecodeError, ErrorCode, Message, Method, Reason, Response, TransactionId,
};

const ID: &str = "abcdefghij0123456789";
const IH: &str = "mnopqrstuvwxyz123456";

fn tid(s: &str) -> TransactionId {
    TransactionId::new(s.as_bytes().to_vec())
}

fn decode(s: &str) -> Result<Message, DecodeError> {
    Message::decode(s.as_bytes())
}

fn garbage(s: &[u8]) -> (Option<TransactionId>, Reason) {
    match Message::decode(s) {
        Err(DecodeError::Garbage { tid, reason }) => (tid, reason),
        other => panic!(
            "{:?}: expected Garbage, got {other:?}",
            String::from_utf8_lossy(s)
        ),
    }
}

fn bad_query(s: &str) -> Reason {
    match decode(s) {
        Err(e @ DecodeError::InvalidQuery { .. }) => {
            assert_eq!(e.transaction_id(), Some(&tid("aa")));
            assert_eq!(e.reply_code(), Some(ErrorCode::Protocol));
            e.reason().unwrap()
        }
        other => panic!("{s}: expected InvalidQuery, got {other:?}"),
    }
}

fn bad_response(s: &str) -> Reason {
    match decode(s) {
        Err(e @ DecodeError::InvalidResponse { .. }) => {
            assert_eq!(e.transaction_id(), Some(&tid("aa")));
            assert_eq!(e.error_reply(), None, "responses are never answered");
            e.reason().unwrap()
        }
        other => panic!("{s}: expected InvalidResponse, got {other:?}"),
    }
}

fn bad_error(s: &str) -> Reason {
    match decode(s) {
        Err(e @ DecodeError::InvalidError { .. }) => {
            assert_eq!(e.transaction_id(), Some(&tid("aa")));
            assert_eq!(e.error_reply(), None);
            e.reason().unwrap()
        }
        other => panic!("{s}: expected InvalidError, got {other:?}"),
    }
}

/// A query with the given method and raw `a` contents (without the surrounding d...e).
fn q(method: &str, args: &str) -> String {
    format!("d1:ad{args}e1:q{}:{method}1:t2:aa1:y1:qe", method.len())
}

#[test]
fn garbage_is_dropped_silently() {
    let cases: &[(&[u8], Option<&str>, Reason)] = &[
        (b"", None, Reason::NotBencode),
        (b"hello", None, Reason::NotBencode),
        (b"\x00\xff", None, Reason::NotBencode),
        (b"li1ee", None, Reason::NotADict),
        (b"i5e", None, Reason::NotADict),
        (b"4:spam", None, Reason::NotADict),
        (b"d", None, Reason::NotBencode),
        (b"d1:t2:aa", None, Reason::NotBencode),
        (b"d1:ti-x2e1:y1:qe", None, Reason::NotBencode),
        (b"d1:y1:qe", None, Reason::Missing("t")),
        (b"d1:ti5e1:y1:qe", None, Reason::Invalid("t")),
        (b"d1:tle1:y1:re", None, Reason::Invalid("t")),
        (b"d1:t2:aae", Some("aa"), Reason::Missing("y")),
        (b"d1:t2:aa1:y1:xe", Some("aa"), Reason::Invalid("y")),
        (b"d1:t2:aa1:yi1ee", Some("aa"), Reason::Invalid("y")),
        (b"d1:t2:aa1:y2:qqe", Some("aa"), Reason::Invalid("y")),
        // A whole ping query but for `y`: libtorrent 2.0 does not answer it either
        // ("don't respond to this obviously broken messages", node::incoming; checked
        // against a real libtorrent node in crates/cli/tests/dht_interop.rs).
        (
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aae",
            Some("aa"),
            Reason::Missing("y"),
        ),
    ];
    for (wire, want_tid, want_reason) in cases {
        let (t, reason) = garbage(wire);
        assert_eq!(reason, *want_reason, "{:?}", String::from_utf8_lossy(wire));
        assert_eq!(t, want_tid.map(tid));
        let e = Message::decode(wire).unwrap_err();
        assert_eq!(e.reply_code(), None);
        assert_eq!(e.error_reply(), None);
    }
    // Every proper prefix of a valid message is truncated bencode.
    let full = q("ping", &format!("2:id20:{ID}"));
    for n in 0..full.len() {
        let (_, reason) = garbage(&full.as_bytes()[..n]);
        assert_eq!(reason, Reason::NotBencode, "prefix {n}");
    }
    assert!(decode(&full).is_ok());
}

#[test]
fn unknown_method_keeps_tid_and_answers_204() {
    for (method, args) in [
        // Methods of BEPs not implemented (BEP 33's scrape, a misspelled BEP 44 get).
        ("get_item", format!("2:id20:{ID}6:target20:{IH}")),
        ("scrape", format!("2:id20:{ID}")),
        ("vote", String::new()),
        ("", "2:id3:bad".to_string()),
    ] {
        let wire = q(method, &args);
        let err = decode(&wire).unwrap_err();
        assert_eq!(
            err,
            DecodeError::UnknownMethod {
                tid: tid("aa"),
                method: method.as_bytes().to_vec()
            },
            "{wire}"
        );
        assert_eq!(err.reply_code(), Some(ErrorCode::MethodUnknown));
        assert_eq!(
            err.error_reply().unwrap().encode(),
            b"d1:eli204e14:Method Unknowne1:t2:aa1:y1:ee"
        );
    }
    // Unknown method wins over missing/garbage arguments.
    let err = decode("d1:ai1e1:q4:vote1:t2:aa1:y1:qe").unwrap_err();
    assert!(matches!(err, DecodeError::UnknownMethod { .. }));
    let err = decode("d1:q4:vote1:t2:aa1:y1:qe").unwrap_err();
    assert!(matches!(err, DecodeError::UnknownMethod { .. }));
}

#[test]
fn malformed_query_keeps_tid_and_answers_203() {
    let id = format!("2:id20:{ID}");
    assert_eq!(bad_query("d1:q4:ping1:t2:aa1:y1:qe"), Reason::Missing("a"));
    assert_eq!(
        bad_query("d1:ai5e1:q4:ping1:t2:aa1:y1:qe"),
        Reason::Invalid("a")
    );
    assert_eq!(
        bad_query("d1:ale1:q4:ping1:t2:aa1:y1:qe"),
        Reason::Invalid("a")
    );
    assert_eq!(
        bad_query(&format!("d1:ad{id}e1:t2:aa1:y1:qe")),
        Reason::Missing("q")
    );
    assert_eq!(
        bad_query(&format!("d1:ad{id}e1:qi1e1:t2:aa1:y1:qe")),
        Reason::Invalid("q")
    );
    assert_eq!(bad_query(&q("ping", "")), Reason::Missing("id"));
    assert_eq!(
        bad_query(&q("ping", "2:id19:abcdefghij012345678")),
        Reason::Invalid("id")
    );
    assert_eq!(
        bad_query(&q("ping", "2:id21:abcdefghij0123456789x")),
        Reason::Invalid("id")
    );
    assert_eq!(bad_query(&q("ping", "2:id0:")), Reason::Invalid("id"));
    assert_eq!(bad_query(&q("ping", "2:idi5e")), Reason::Invalid("id"));
    assert_eq!(bad_query(&q("find_node", &id)), Reason::Missing("target"));
    assert_eq!(
        bad_query(&q("find_node", &format!("{id}6:target4:abcd"))),
        Reason::Invalid("target")
    );
    assert_eq!(
        bad_query(&q("get_peers", &id)),
        Reason::Missing("info_hash")
    );
    assert_eq!(
        bad_query(&q("get_peers", &format!("{id}9:info_hashli1ee"))),
        Reason::Invalid("info_hash")
    );
    let ann = |rest: &str| q("announce_peer", &format!("{id}9:info_hash20:{IH}{rest}"));
    assert_eq!(bad_query(&ann("4:porti6881e")), Reason::Missing("token"));
    assert_eq!(
        bad_query(&ann("4:porti6881e5:tokeni3e")),
        Reason::Invalid("token")
    );
    assert_eq!(bad_query(&ann("5:token2:tk")), Reason::Missing("port"));
    assert_eq!(
        bad_query(&ann("4:porti65536e5:token2:tk")),
        Reason::Invalid("port")
    );
    assert_eq!(
        bad_query(&ann("4:porti-1e5:token2:tk")),
        Reason::Invalid("port")
    );
    assert_eq!(
        bad_query(&ann("4:port4:68815:token2:tk")),
        Reason::Invalid("port")
    );
    assert_eq!(
        bad_query(&q("announce_peer", &format!("{id}4:porti1e5:token2:tk"))),
        Reason::Missing("info_hash")
    );

    let err = decode(&ann("4:porti65536e5:token2:tk")).unwrap_err();
    assert_eq!(
        err.error_reply().unwrap().encode(),
        b"d1:eli203e14:Protocol Errore1:t2:aa1:y1:ee"
    );
}

#[test]
fn announce_port_edge_cases() {
    let id = format!("2:id20:{ID}9:info_hash20:{IH}");
    let port_of = |rest: &str| match decode(&q("announce_peer", &format!("{id}{rest}")))
        .unwrap()
        .body
    {
        Body::Query(swarmlab_krpc::Query {
            method: Method::AnnouncePeer {
                port, implied_port, ..
            },
            ..
        }) => (port, implied_port),
        other => panic!("{other:?}"),
    };
    assert_eq!(port_of("4:porti0e5:token0:"), (0, false));
    assert_eq!(port_of("4:porti65535e5:token0:"), (65535, false));
    // With implied_port the port is ignored by the receiver: absent/invalid decode as 0.
    assert_eq!(port_of("12:implied_porti1e5:token0:"), (0, true));
    assert_eq!(
        port_of("12:implied_porti1e4:porti99999e5:token0:"),
        (0, true)
    );
    assert_eq!(
        port_of("12:implied_porti1e4:porti443e5:token0:"),
        (443, true)
    );
    assert_eq!(
        port_of("12:implied_porti0e4:porti443e5:token0:"),
        (443, false)
    );
    // A non-integer implied_port is ignored (treated as 0).
    assert_eq!(
        port_of("12:implied_port1:14:porti443e5:token0:"),
        (443, false)
    );
}

#[test]
fn malformed_response_keeps_tid_and_is_not_answered() {
    assert_eq!(bad_response("d1:t2:aa1:y1:re"), Reason::Missing("r"));
    assert_eq!(bad_response("d1:ri1e1:t2:aa1:y1:re"), Reason::Invalid("r"));
    assert_eq!(bad_response("d1:rde1:t2:aa1:y1:re"), Reason::Missing("id"));
    assert_eq!(
        bad_response("d1:rd2:id3:abce1:t2:aa1:y1:re"),
        Reason::Invalid("id")
    );
    let r = |rest: &str| format!("d1:rd2:id20:{ID}{rest}e1:t2:aa1:y1:re");
    assert_eq!(bad_response(&r("5:nodesi1e")), Reason::Invalid("nodes"));
    assert_eq!(bad_response(&r("6:nodes6le")), Reason::Invalid("nodes6"));
    assert_eq!(bad_response(&r("5:tokenle")), Reason::Invalid("token"));
    assert_eq!(
        bad_response(&r("6:values6:abcdef")),
        Reason::Invalid("values")
    );
    assert_eq!(bad_response(&r("6:valuesde")), Reason::Invalid("values"));
}

#[test]
fn malformed_error_keeps_tid_and_is_not_answered() {
    assert_eq!(bad_error("d1:t2:aa1:y1:ee"), Reason::Missing("e"));
    assert_eq!(bad_error("d1:e3:abc1:t2:aa1:y1:ee"), Reason::Invalid("e"));
    assert_eq!(bad_error("d1:ele1:t2:aa1:y1:ee"), Reason::Invalid("e"));
    assert_eq!(
        bad_error("d1:el3:abci201ee1:t2:aa1:y1:ee"),
        Reason::Invalid("e")
    );
    assert_eq!(bad_error("d1:ede1:t2:aa1:y1:ee"), Reason::Invalid("e"));
    // Lenient: a missing or non-string message is empty; extra elements are ignored.
    for (wire, code, text) in [
        ("d1:eli202ee1:t2:aa1:y1:ee", ErrorCode::Server, ""),
        ("d1:eli203ei5ee1:t2:aa1:y1:ee", ErrorCode::Protocol, ""),
        (
            "d1:eli204e1:x5:extrae1:t2:aa1:y1:ee",
            ErrorCode::MethodUnknown,
            "x",
        ),
    ] {
        let m = decode(wire).unwrap();
        assert_eq!(m, Message::error(tid("aa"), code, text), "{wire}");
    }
    // Non-UTF-8 message text decodes lossily; negative codes are kept.
    let m = Message::decode(b"d1:eli-3e2:\xff\xfee1:t2:aa1:y1:ee").unwrap();
    assert_eq!(
        m,
        Message::error(tid("aa"), ErrorCode::Other(-3), "\u{fffd}\u{fffd}")
    );
}

#[test]
fn well_formed_response_decodes() {
    let m = decode(&format!("d1:rd2:id20:{ID}e1:t2:aa1:y1:re")).unwrap();
    assert_eq!(
        m,
        Message::response(
            tid("aa"),
            Response::new(swarmlab_krpc::Id(*b"abcdefghij0123456789"))
        )
    );
}
