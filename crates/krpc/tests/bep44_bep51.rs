//! BEP 44 (`get`, `put`, items, error codes) and BEP 51 (`sample_infohashes`) messages:
//! wire forms written out by hand, decoded and re-encoded byte for byte.

mod common;

use common::id;
use swarmlab_krpc::{
    Body, DecodeError, ErrorCode, Id, Message, Method, PutArgs, Reason, Response, TransactionId,
    Want,
};

const ID: &str = "abcdefghij0123456789";
const T: &str = "mnopqrstuvwxyz123456";

fn round_trip(wire: &[u8]) -> Message {
    let m = Message::decode(wire).unwrap();
    assert_eq!(m.encode(), wire, "re-encoding {m:?}");
    assert_eq!(m.encoded_len(), wire.len());
    m
}

fn query(m: &Message) -> &Method {
    match &m.body {
        Body::Query(q) => &q.method,
        other => panic!("not a query: {other:?}"),
    }
}

#[test]
fn get_queries() {
    let wire = format!("d1:ad2:id20:{ID}6:target20:{T}e1:q3:get1:t2:aa1:y1:qe");
    let m = round_trip(wire.as_bytes());
    assert_eq!(
        query(&m),
        &Method::Get {
            target: Id(*b"mnopqrstuvwxyz123456"),
            seq: None,
            want: Want::default()
        }
    );
    let wire =
        format!("d1:ad2:id20:{ID}3:seqi41e6:target20:{T}4:wantl2:n6ee1:q3:get1:t2:aa1:y1:qe");
    let m = round_trip(wire.as_bytes());
    assert!(matches!(
        query(&m),
        Method::Get {
            seq: Some(41),
            want: Want {
                n4: false,
                n6: true
            },
            ..
        }
    ));
    // No target: 203, with the transaction id.
    let wire = format!("d1:ad2:id20:{ID}e1:q3:get1:t2:aa1:y1:qe");
    assert_eq!(
        Message::decode(wire.as_bytes()).unwrap_err(),
        DecodeError::InvalidQuery {
            tid: TransactionId::new(b"aa".to_vec()),
            reason: Reason::Missing("target")
        }
    );
}

#[test]
fn immutable_put_keeps_the_value_byte_for_byte() {
    // BEP 44's example value, "Hello World!" as a bencoded string.
    let wire = format!("d1:ad2:id20:{ID}5:token3:tok1:v12:Hello World!e1:q3:put1:t2:aa1:y1:qe");
    let m = round_trip(wire.as_bytes());
    let Method::Put(p) = query(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(p.v, b"12:Hello World!");
    assert_eq!((p.k, p.sig, p.seq, p.cas), (None, None, None, None));
    assert!(p.salt.is_empty());
    // A dictionary value with its keys out of order is kept as sent (its hash is
    // the item's key), not re-sorted.
    let v = "d1:bi2e1:ai1ee";
    let wire = format!("d1:ad2:id20:{ID}5:token3:tok1:v{v}e1:q3:put1:t2:aa1:y1:qe");
    let m = Message::decode(wire.as_bytes()).unwrap();
    let Method::Put(p) = query(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(p.v, v.as_bytes());
    assert_eq!(m.encode(), wire.as_bytes());
    // No `v`: 203.
    let wire = format!("d1:ad2:id20:{ID}5:token3:toke1:q3:put1:t2:aa1:y1:qe");
    assert!(matches!(
        Message::decode(wire.as_bytes()),
        Err(DecodeError::InvalidQuery {
            reason: Reason::Missing("v"),
            ..
        })
    ));
}

#[test]
fn mutable_put_with_every_field() {
    let k = "k".repeat(32);
    let sig = "s".repeat(64);
    let wire = format!(
        "d1:ad3:casi4e2:id20:{ID}1:k32:{k}4:salt6:foobar3:seqi5e3:sig64:{sig}5:token3:tok1:vli1ei2eee1:q3:put1:t2:aa1:y1:qe"
    );
    let m = round_trip(wire.as_bytes());
    assert_eq!(
        query(&m),
        &Method::Put(Box::new(PutArgs {
            token: b"tok".to_vec(),
            v: b"li1ei2ee".to_vec(),
            k: Some([b'k'; 32]),
            sig: Some([b's'; 64]),
            seq: Some(5),
            cas: Some(4),
            salt: b"foobar".to_vec(),
        }))
    );
    // A mutable put (it has `k`) without its signature or sequence number: 203.
    for (missing, wire) in [
        (
            "sig",
            format!("d1:ad2:id20:{ID}1:k32:{k}3:seqi5e5:token3:tok1:vi1ee1:q3:put1:t2:aa1:y1:qe"),
        ),
        (
            "seq",
            format!(
                "d1:ad2:id20:{ID}1:k32:{k}3:sig64:{sig}5:token3:tok1:vi1ee1:q3:put1:t2:aa1:y1:qe"
            ),
        ),
    ] {
        assert!(
            matches!(
                Message::decode(wire.as_bytes()),
                Err(DecodeError::InvalidQuery { reason: Reason::Missing(m), .. }) if m == missing
            ),
            "{missing}"
        );
    }
    // A key of the wrong length: 203.
    let wire = format!(
        "d1:ad2:id20:{ID}1:k3:abc3:seqi5e3:sig64:{sig}5:token3:tok1:vi1ee1:q3:put1:t2:aa1:y1:qe"
    );
    assert!(matches!(
        Message::decode(wire.as_bytes()),
        Err(DecodeError::InvalidQuery {
            reason: Reason::Invalid("k"),
            ..
        })
    ));
}

#[test]
fn get_responses_carry_the_item() {
    let k = "k".repeat(32);
    let sig = "s".repeat(64);
    let wire = format!(
        "d1:rd2:id20:{ID}1:k32:{k}5:nodes0:3:seqi9e3:sig64:{sig}5:token2:tt1:v12:Hello World!e1:t2:aa1:y1:re"
    );
    let m = round_trip(wire.as_bytes());
    let Body::Response(r) = &m.body else {
        panic!("{m:?}")
    };
    assert_eq!(r.v.as_deref(), Some(&b"12:Hello World!"[..]));
    assert_eq!(
        (r.k, r.sig, r.seq),
        (Some([b'k'; 32]), Some([b's'; 64]), Some(9))
    );
    // A malformed item field reads as absent: the asker's check fails, not the decode.
    let wire = format!("d1:rd2:id20:{ID}1:k3:abc3:seq1:xe1:t2:aa1:y1:re");
    let m = Message::decode(wire.as_bytes()).unwrap();
    let Body::Response(r) = &m.body else {
        panic!("{m:?}")
    };
    assert_eq!((r.k, r.seq), (None, None));
}

#[test]
fn sample_infohashes_query_and_response() {
    let wire = format!("d1:ad2:id20:{ID}6:target20:{T}e1:q17:sample_infohashes1:t2:aa1:y1:qe");
    let m = round_trip(wire.as_bytes());
    assert!(matches!(query(&m), Method::SampleInfohashes { .. }));

    let r = Response {
        interval: Some(21600),
        num: Some(3),
        samples: Some(vec![id(1), id(2)]),
        nodes: Some(vec![common::node4(7)]),
        ..Response::new(id(9))
    };
    let m = Message::response(TransactionId::new(b"aa".to_vec()), r);
    let wire = m.encode();
    assert_eq!(Message::decode(&wire).unwrap(), m);
    let text = String::from_utf8_lossy(&wire);
    assert!(text.contains("8:intervali21600e"), "{text}");
    assert!(text.contains("3:numi3e7:samples40:"), "{text}");
    // A sample list that is not a multiple of 20 bytes: the whole entries are kept.
    let wire = format!("d1:rd2:id20:{ID}7:samples25:{T}12345e1:t2:aa1:y1:re");
    let Body::Response(r) = Message::decode(wire.as_bytes()).unwrap().body else {
        panic!()
    };
    assert_eq!(r.samples, Some(vec![Id(*b"mnopqrstuvwxyz123456")]));
}

#[test]
fn bep44_error_codes() {
    for (code, n) in [
        (ErrorCode::MessageTooBig, 205),
        (ErrorCode::InvalidSignature, 206),
        (ErrorCode::SaltTooBig, 207),
        (ErrorCode::CasMismatch, 301),
        (ErrorCode::SequenceTooOld, 302),
    ] {
        assert_eq!(code.code(), n);
        assert_eq!(ErrorCode::from(n), code);
        let m = Message::error(
            TransactionId::new(b"aa".to_vec()),
            code,
            code.default_message(),
        );
        assert_eq!(Message::decode(&m.encode()).unwrap(), m);
    }
}
