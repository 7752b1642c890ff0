//! Round trips and the optional / extension fields: t, v, ip, ro, want, nodes6, values.

mod common;

use common::{addr, id, samples};
use swarmlab_krpc::{
    Body, DecodeError, Id, Message, Method, Query, Response, TransactionId, Want,
    MAX_DECODED_VALUES,
};

const ID: &str = "abcdefghij0123456789";

fn query(wire: &[u8]) -> Query {
    match Message::decode(wire).unwrap().body {
        Body::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}

fn response(wire: &[u8]) -> Response {
    match Message::decode(wire).unwrap().body {
        Body::Response(r) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn every_sample_round_trips_and_is_canonical() {
    for m in samples() {
        let wire = m.encode();
        assert_eq!(wire.len(), m.encoded_len(), "{m:?}");
        let back = Message::decode(&wire).unwrap_or_else(|e| panic!("{m:?}: {e}"));
        assert_eq!(back, m);
        assert_eq!(back.encode(), wire);
        let mut buf = Vec::new();
        m.encode_into(&mut buf);
        assert_eq!(buf, wire);
        buf.clear();
        buf.extend_from_slice(b"xy");
        m.encode_into(&mut buf);
        assert_eq!(&buf[2..], &wire[..]);
        assert_keys_sorted(&wire);
    }
}

/// Checks that every dictionary in `wire` has its keys in byte order: serde_bencode's generic
/// `Value` keeps dicts in a HashMap and sorts keys when encoding, so re-encoding the parsed
/// value reproduces `wire` only if `wire` was already sorted at every level.
fn assert_keys_sorted(wire: &[u8]) {
    let v: serde_bencode::value::Value = serde_bencode::from_bytes(wire).unwrap();
    assert_eq!(serde_bencode::to_bytes(&v).unwrap(), wire);
}

#[test]
fn transaction_ids_of_any_length_are_echoed_byte_for_byte() {
    for t in [
        &b""[..],
        b"\x00",
        b"aa",
        b"\xff\xfe",
        b"\x00\x01\x02\x03",
        b"12345678",
        b"\xde\xad\xbe\xef\x00\xff\x10\x80",
    ] {
        let wire = cat(&[
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t",
            t.len().to_string().as_bytes(),
            b":",
            t,
            b"1:y1:qe",
        ]);
        let m = Message::decode(&wire).unwrap();
        assert_eq!(m.tid.as_bytes(), t);
        let reply = Message::response(m.tid.clone(), Response::new(id(9))).encode();
        let expect = cat(&[
            b"d1:rd2:id20:",
            &[9; 20],
            b"e1:t",
            t.len().to_string().as_bytes(),
            b":",
            t,
            b"1:y1:re",
        ]);
        assert_eq!(reply, expect);
        // Error replies for unknown methods echo it too.
        let unknown = cat(&[
            b"d1:ad2:id20:abcdefghij0123456789e1:q3:foo1:t",
            t.len().to_string().as_bytes(),
            b":",
            t,
            b"1:y1:qe",
        ]);
        let err = Message::decode(&unknown).unwrap_err();
        assert_eq!(err.transaction_id().unwrap().as_bytes(), t);
        assert_eq!(err.error_reply().unwrap().tid.as_bytes(), t);
    }
}

#[test]
fn our_transaction_ids_are_four_bytes() {
    let t = TransactionId::from_u32(0x0102_0304);
    assert_eq!(t.as_bytes(), &[1, 2, 3, 4]);
    assert_eq!(t.to_u32(), Some(0x0102_0304));
    assert_eq!(TransactionId::from(7u32).len(), 4);
    assert_eq!(TransactionId::new(b"aa".to_vec()).to_u32(), None);
    assert!(TransactionId::new(Vec::new()).is_empty());
    assert_eq!(format!("{t:?}"), "TransactionId(01020304)");
}

#[test]
fn unknown_keys_are_ignored_everywhere() {
    let plain =
        Message::decode(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe").unwrap();
    // Unknown keys at top level and in `a`, of every type, including non-UTF-8, integer,
    // overlong and prefix-of-known keys.
    let noisy = cat(&[
        b"d0:i1e",
        b"1:ad",
        b"1:xli1ei2ed1:ai3eee",
        b"2:id20:abcdefghij0123456789",
        b"3:idxi5e",
        b"2:\xff\xfe3:bin",
        b"43:a-key-that-is-much-longer-than-sixteen-bytei1e",
        b"e",
        b"1:b5:hello",
        b"1:q4:ping",
        b"1:t2:aa",
        b"1:xd1:yd1:zleee",
        b"1:y1:q",
        b"1:zi-9e",
        b"e",
    ]);
    assert_eq!(Message::decode(&noisy).unwrap(), plain);
    // Unknown keys in `r` (BEP 33's scrape fields, a misspelled `token`).
    let r =
        response(b"d1:rd2:id20:abcdefghij01234567894:BFpe3:xyz4:tokei1e1:v3:abce1:t2:aa1:y1:re");
    assert_eq!(
        r,
        Response {
            v: Some(b"3:abc".to_vec()),
            ..Response::new(Id(*b"abcdefghij0123456789"))
        }
    );
    // Keys that are not strings at all (serde_bencode's grammar allows them): integer,
    // list and dict keys are skipped together with their values.
    for key in [&b"i7e"[..], b"l1:xe", b"d1:ki1ee"] {
        let wire = cat(&[
            b"d",
            key,
            b"i8e1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re",
        ]);
        let m = Message::decode(&wire).unwrap();
        assert!(matches!(m.body, Body::Response(_)));
        assert_eq!(m.tid.as_bytes(), b"aa");
    }
}

#[test]
fn version_field() {
    let m =
        Message::decode(b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:v4:UT\xab\xcd1:y1:re").unwrap();
    assert_eq!(m.version.as_deref(), Some(&b"UT\xab\xcd"[..]));
    // A non-string `v` is ignored.
    let m = Message::decode(b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:vi1e1:y1:re").unwrap();
    assert_eq!(m.version, None);
    let enc = Message::response(TransactionId::new(b"aa".to_vec()), Response::new(id(1)))
        .with_version(b"SL01".to_vec())
        .encode();
    assert!(enc.windows(9).any(|w| w == b"1:v4:SL01"));
}

#[test]
fn bep42_ip_field_in_replies() {
    let r4 = cat(&[
        b"d2:ip6:\x01\x02\x03\x04\x00\x50",
        b"1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re",
    ]);
    assert_eq!(Message::decode(&r4).unwrap().ip, Some(addr("1.2.3.4:80")));
    let mut v6 = b"d2:ip18:".to_vec();
    v6.extend_from_slice(&[
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1a, 0xe1,
    ]);
    v6.extend_from_slice(b"1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re");
    assert_eq!(
        Message::decode(&v6).unwrap().ip,
        Some(addr("[fe80::1]:6881"))
    );
    // Also accepted on error messages (libtorrent sends it there too).
    let e = Message::decode(b"d1:eli201e1:xe2:ip6:\x01\x02\x03\x04\x00\x501:t2:aa1:y1:ee").unwrap();
    assert_eq!(e.ip, Some(addr("1.2.3.4:80")));
    // A malformed ip is ignored, the response is kept.
    for bad in [&b"2:ip5:\x01\x02\x03\x04\x00"[..], b"2:ipi5e", b"2:ip0:"] {
        let wire = cat(&[b"d", bad, b"1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re"]);
        let m = Message::decode(&wire).unwrap();
        assert_eq!(m.ip, None);
        assert!(matches!(m.body, Body::Response(_)));
    }
}

#[test]
fn bep43_read_only_flag() {
    let base = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping";
    assert!(query(format!("{base}2:roi1e1:t2:aa1:y1:qe").as_bytes()).read_only);
    assert!(!query(format!("{base}2:roi0e1:t2:aa1:y1:qe").as_bytes()).read_only);
    assert!(!query(format!("{base}1:t2:aa1:y1:qe").as_bytes()).read_only);
    assert!(!query(format!("{base}2:ro1:11:t2:aa1:y1:qe").as_bytes()).read_only);
    let mut m = Message::query(TransactionId::from_u32(1), id(1), Method::Ping);
    assert!(!m.encode().windows(7).any(|w| w == b"2:roi1e"));
    if let Body::Query(q) = &mut m.body {
        q.read_only = true;
    }
    assert!(m.encode().windows(7).any(|w| w == b"2:roi1e"));
}

#[test]
fn bep32_want() {
    let fq = |want: &str| {
        let wire = format!("d1:ad2:id20:{ID}6:target20:{ID}{want}e1:q9:find_node1:t2:aa1:y1:qe");
        match query(wire.as_bytes()).method {
            Method::FindNode { want, .. } => want,
            m => panic!("{m:?}"),
        }
    };
    assert_eq!(fq(""), Want::default());
    assert_eq!(
        fq("4:wantl2:n4e"),
        Want {
            n4: true,
            n6: false
        }
    );
    assert_eq!(
        fq("4:wantl2:n6e"),
        Want {
            n4: false,
            n6: true
        }
    );
    assert_eq!(fq("4:wantl2:n62:n4e"), Want { n4: true, n6: true });
    // Unknown entries and non-list values are ignored.
    assert_eq!(
        fq("4:wantl2:n82:n6i4ee"),
        Want {
            n4: false,
            n6: true
        }
    );
    assert_eq!(fq("4:want2:n4"), Want::default());
    assert_eq!(fq("4:wantle"), Want::default());
    // get_peers carries want too.
    let wire =
        format!("d1:ad2:id20:{ID}9:info_hash20:{ID}4:wantl2:n4ee1:q9:get_peers1:t2:aa1:y1:qe");
    assert!(matches!(
        query(wire.as_bytes()).method,
        Method::GetPeers {
            want: Want {
                n4: true,
                n6: false
            },
            ..
        }
    ));
}

#[test]
fn nodes6_and_values_decoding() {
    let mut n6 = Vec::new();
    for i in 0..3u8 {
        n6.extend_from_slice(&[i; 20]);
        n6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i]);
        n6.extend_from_slice(&[0x1a, 0xe1]);
    }
    n6.extend_from_slice(b"trailing");
    let wire = cat(&[
        b"d1:rd2:id20:abcdefghij01234567896:nodes6",
        n6.len().to_string().as_bytes(),
        b":",
        &n6,
        b"e1:t2:aa1:y1:re",
    ]);
    let r = response(&wire);
    let nodes = r.nodes6.unwrap();
    assert_eq!(nodes.len(), 3, "partial trailing entry dropped");
    assert_eq!(nodes[2].id, id(2));
    assert_eq!(nodes[2].addr, "[2001:db8::2]:6881".parse().unwrap());

    // values: 6- and 18-byte entries kept in order; other lengths and types skipped.
    let wire = cat(&[
        b"d1:rd2:id20:abcdefghij01234567896:valuesl",
        b"6:\x01\x02\x03\x04\x00\x01",
        b"5:short",
        b"i42e",
        b"18:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02",
        b"le",
        b"7:toolong",
        b"6:\x05\x06\x07\x08\x00\x03",
        b"ee1:t2:aa1:y1:re",
    ]);
    let r = response(&wire);
    assert_eq!(
        r.values.unwrap(),
        vec![addr("1.2.3.4:1"), addr("[::1]:2"), addr("5.6.7.8:3")]
    );
    // Empty list and absent key are distinguished.
    assert_eq!(
        response(b"d1:rd2:id20:abcdefghij01234567896:valuesle5:nodes0:e1:t2:aa1:y1:re").values,
        Some(vec![])
    );
    assert_eq!(
        response(b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re").values,
        None
    );
}

#[test]
fn values_are_capped() {
    let mut wire = b"d1:rd2:id20:abcdefghij01234567896:valuesl".to_vec();
    for i in 0..(MAX_DECODED_VALUES as u16 + 300) {
        wire.extend_from_slice(b"6:\x0a\x00\x00\x01");
        wire.extend_from_slice(&i.to_be_bytes());
    }
    wire.extend_from_slice(b"e5:token2:tke1:t2:aa1:y1:re");
    let r = response(&wire);
    let v = r.values.unwrap();
    assert_eq!(v.len(), MAX_DECODED_VALUES);
    assert_eq!(v[0], addr("10.0.0.1:0"));
    assert_eq!(
        v[MAX_DECODED_VALUES - 1].port() as usize,
        MAX_DECODED_VALUES - 1
    );
    assert_eq!(
        r.token.as_deref(),
        Some(&b"tk"[..]),
        "keys after the list still read"
    );
}

#[test]
fn duplicate_keys_last_wins_and_unsorted_keys_are_accepted() {
    let m = Message::decode(b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:t2:bb1:y1:re").unwrap();
    assert_eq!(m.tid.as_bytes(), b"bb");
    // Non-canonical but well-formed input (unsorted keys) is accepted.
    let m = Message::decode(b"d1:y1:r1:t2:aa1:rd2:id20:abcdefghij0123456789ee").unwrap();
    assert_eq!(m.tid.as_bytes(), b"aa");
}

#[test]
fn decode_error_accessors() {
    let e = DecodeError::Garbage {
        tid: None,
        reason: swarmlab_krpc::Reason::NotBencode,
    };
    assert_eq!(e.to_string(), "not a KRPC message: not valid bencode");
    let e = Message::decode(b"d1:ad2:id1:xe1:q4:ping1:t2:aa1:y1:qe").unwrap_err();
    assert_eq!(e.to_string(), "malformed query: invalid value for key 'id'");
    let e = Message::decode(b"d1:ad2:id1:xe1:q4:vote1:t2:aa1:y1:qe").unwrap_err();
    assert_eq!(e.to_string(), "unknown query method \"vote\"");
    assert_eq!(e.reason(), None);
}

#[test]
fn sender_id_and_method_names() {
    let q = Message::query(TransactionId::from_u32(1), id(5), Method::Ping);
    assert_eq!(q.sender_id(), Some(id(5)));
    assert_eq!(
        Message::error(
            TransactionId::from_u32(1),
            swarmlab_krpc::ErrorCode::Generic,
            "x"
        )
        .sender_id(),
        None
    );
    let names: Vec<&str> = samples()
        .iter()
        .filter_map(|m| match &m.body {
            Body::Query(q) => Some(q.method.name()),
            _ => None,
        })
        .collect();
    for n in ["ping", "find_node", "get_peers", "announce_peer"] {
        assert!(names.contains(&n));
    }
}

/// Bytes after the message, as libtorrent 2.0 treats them (checked against a real
/// libtorrent node in `crates/cli/tests/dht_interop.rs`): its packet filter drops a
/// datagram whose last byte is not `e`, and its decoder stops after the first value.
#[test]
fn trailing_bytes_follow_libtorrent() {
    let ping = &b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"[..];
    for tail in [&b"GARBAGE"[..], b"x", b"\0", b"e\0", b"d1:ai1ee1"] {
        let wire = [ping, tail].concat();
        assert_eq!(
            Message::decode(&wire),
            Err(DecodeError::Garbage {
                tid: None,
                reason: swarmlab_krpc::Reason::TrailingBytes
            }),
            "{:?}",
            String::from_utf8_lossy(&wire)
        );
    }
    let whole = Message::decode(ping).unwrap();
    for tail in [&b"e"[..], b"\0\x01e", b"de", b"i1e", ping] {
        let wire = [ping, tail].concat();
        assert_eq!(Message::decode(&wire).as_ref(), Ok(&whole), "{tail:?}");
    }
    // Deep nesting after the message is never parsed: still the same message.
    let deep = [ping, &b"l".repeat(100_000), b"e"].concat();
    assert_eq!(Message::decode(&deep), Ok(whole));
}
