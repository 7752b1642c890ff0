//! Hostile input: huge strings and lists, deep nesting, random bytes and mutations.
//! Decoding must never panic, and whatever decodes must re-encode and decode identically.

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_krpc::{
    Body, DecodeError, Message, Method, Reason, MAX_DATAGRAM, MAX_DECODED_VALUES, MAX_DEPTH,
};

fn with_len(prefix: &[u8], s: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend_from_slice(s.len().to_string().as_bytes());
    v.push(b':');
    v.extend_from_slice(s);
    v.extend_from_slice(suffix);
    v
}

#[test]
fn sixty_kilobyte_strings() {
    let big = vec![b'x'; 60_000];
    // As an unknown value: ignored.
    let wire = with_len(
        b"d1:ad2:id20:abcdefghij01234567895:extra",
        &big,
        b"e1:q4:ping1:t2:aa1:y1:qe",
    );
    assert!(wire.len() <= MAX_DATAGRAM);
    assert!(matches!(
        Message::decode(&wire).unwrap().body,
        Body::Query(_)
    ));
    // As the node id: a protocol error that still carries the transaction id.
    let wire = with_len(b"d1:ad2:id", &big, b"e1:q4:ping1:t2:aa1:y1:qe");
    assert_eq!(
        Message::decode(&wire).unwrap_err(),
        DecodeError::InvalidQuery {
            tid: swarmlab_krpc::TransactionId::new(b"aa".to_vec()),
            reason: Reason::Invalid("id")
        }
    );
    // As the transaction id: echoed.
    let wire = with_len(b"d1:rd2:id20:abcdefghij0123456789e1:t", &big, b"1:y1:re");
    assert_eq!(Message::decode(&wire).unwrap().tid.as_bytes(), &big[..]);
    // As an unknown key, a method name, a token, an ip, a values entry, nodes.
    let r = "d1:rd2:id20:abcdefghij0123456789";
    let resp = |pre: &str, post: &str| match Message::decode(&with_len(
        pre.as_bytes(),
        &big,
        post.as_bytes(),
    ))
    .unwrap()
    {
        Message {
            ip,
            body: Body::Response(r),
            ..
        } => (ip, r),
        m => panic!("{m:?}"),
    };
    let (_, plain) = resp("d", "i1e1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re");
    assert_eq!(plain.values, None);
    let (_, tok) = resp(&format!("{r}5:token"), "e1:t2:aa1:y1:re");
    assert_eq!(tok.token.unwrap().len(), 60_000);
    let (ip, _) = resp("d2:ip", "1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re");
    assert_eq!(ip, None);
    let (_, vals) = resp(&format!("{r}6:valuesl"), "ee1:t2:aa1:y1:re");
    assert_eq!(vals.values, Some(vec![]));
    let (_, nodes) = resp(&format!("{r}5:nodes"), "e1:t2:aa1:y1:re");
    assert_eq!(nodes.nodes.unwrap().len(), 60_000 / 26);
    let wire = with_len(
        b"d1:ad2:id20:abcdefghij0123456789e1:q",
        &big,
        b"1:t2:aa1:y1:qe",
    );
    assert!(matches!(
        Message::decode(&wire),
        Err(DecodeError::UnknownMethod { method, .. }) if method.len() == 60_000
    ));
    // A length that points past the end (or overflows) fails cleanly.
    for wire in [
        &b"d1:t60000:aa1:y1:re"[..],
        b"d1:t99999999999999999999:aae",
        b"d1:t18446744073709551615:aae",
        b"d1:t18446744073709551616:aae",
    ] {
        assert_eq!(
            Message::decode(wire).unwrap_err(),
            DecodeError::Garbage {
                tid: None,
                reason: Reason::NotBencode
            }
        );
    }
}

#[test]
fn ten_thousand_item_lists() {
    let mut items = Vec::new();
    for i in 0..10_000 {
        items.extend_from_slice(format!("i{i}e").as_bytes());
    }
    let mut wire = b"d1:rd2:id20:abcdefghij01234567893:bigl".to_vec();
    wire.extend_from_slice(&items);
    wire.extend_from_slice(b"ee1:t2:aa1:y1:re");
    assert!(matches!(
        Message::decode(&wire).unwrap().body,
        Body::Response(_)
    ));

    // 10,000 `values` entries (80 KB would exceed a datagram; decode does not care):
    // only MAX_DECODED_VALUES are kept.
    let mut wire = b"d1:rd2:id20:abcdefghij01234567896:valuesl".to_vec();
    for i in 0..10_000u32 {
        wire.extend_from_slice(b"6:");
        wire.extend_from_slice(&i.to_be_bytes());
        wire.extend_from_slice(&[0, 1]);
    }
    wire.extend_from_slice(b"ee1:t2:aa1:y1:re");
    match Message::decode(&wire).unwrap().body {
        Body::Response(r) => assert_eq!(r.values.unwrap().len(), MAX_DECODED_VALUES),
        b => panic!("{b:?}"),
    }

    // 10,000 `want` entries and 10,000 error-list elements.
    let mut wire =
        b"d1:ad2:id20:abcdefghij01234567896:target20:abcdefghij01234567894:wantl".to_vec();
    for _ in 0..10_000 {
        wire.extend_from_slice(b"2:n4");
    }
    wire.extend_from_slice(b"ee1:q9:find_node1:t2:aa1:y1:qe");
    assert!(matches!(
        Message::decode(&wire).unwrap().body,
        Body::Query(swarmlab_krpc::Query {
            method: Method::FindNode { .. },
            ..
        })
    ));
    let mut wire = b"d1:eli201e".to_vec();
    wire.extend_from_slice(&items);
    wire.extend_from_slice(b"e1:t2:aa1:y1:ee");
    assert!(matches!(
        Message::decode(&wire).unwrap().body,
        Body::Error(_)
    ));

    // `nodes` filling a whole datagram: 2,500 entries.
    let nodes = vec![7u8; 26 * 2_500];
    let wire = with_len(
        b"d1:rd2:id20:abcdefghij01234567895:nodes",
        &nodes,
        b"e1:t2:aa1:y1:re",
    );
    match Message::decode(&wire).unwrap().body {
        Body::Response(r) => assert_eq!(r.nodes.unwrap().len(), 2_500),
        b => panic!("{b:?}"),
    }
}

#[test]
fn deep_nesting_is_rejected_before_parsing() {
    for open in [b'l', b'd'] {
        // A whole datagram of openers.
        let mut wire = vec![b'd'];
        wire.extend(std::iter::repeat_n(open, MAX_DATAGRAM - 1));
        assert_eq!(
            Message::decode(&wire).unwrap_err(),
            DecodeError::Garbage {
                tid: None,
                reason: Reason::TooDeep
            }
        );
    }
    // Balanced but too deep, hidden under an unknown key.
    let n = 30_000;
    let mut wire = b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:x".to_vec();
    wire.extend(std::iter::repeat_n(b'l', n));
    wire.extend(std::iter::repeat_n(b'e', n));
    wire.extend_from_slice(b"1:y1:re");
    assert!(matches!(
        Message::decode(&wire),
        Err(DecodeError::Garbage {
            reason: Reason::TooDeep,
            ..
        })
    ));
}

#[test]
fn maximum_allowed_nesting_decodes_on_a_small_stack() {
    // The deepest input the guard lets through must not need much stack: decode it on a
    // 256 KiB thread (debug build, unoptimized) for lists and dicts.
    let inner = MAX_DEPTH - 1;
    let mut list = b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:x".to_vec();
    list.extend(std::iter::repeat_n(b'l', inner));
    list.extend(std::iter::repeat_n(b'e', inner));
    list.extend_from_slice(b"1:y1:re");
    let mut dict = b"d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:x".to_vec();
    dict.extend(std::iter::repeat_n(&b"d1:k"[..], inner).flatten());
    dict.extend_from_slice(b"i0e");
    dict.extend(std::iter::repeat_n(b'e', inner));
    dict.extend_from_slice(b"1:y1:re");
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            assert!(Message::decode(&list).is_ok());
            assert!(Message::decode(&dict).is_ok());
        })
        .unwrap();
    handle.join().unwrap();
}

/// Valid messages of every kind plus inputs of each error class, as mutation seeds.
fn seeds() -> Vec<Vec<u8>> {
    let mut s: Vec<Vec<u8>> = common::samples().iter().map(Message::encode).collect();
    for w in [
        &b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"[..],
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        b"d1:ad2:id20:abcdefghij0123456789e1:q3:get1:t2:aa1:y1:qe",
    ] {
        s.push(w.to_vec());
    }
    s
}

fn mutate(rng: &mut StdRng, input: &mut Vec<u8>) {
    const INTERESTING: &[u8] = b"dlie0123456789:-qrey";
    for _ in 0..rng.gen_range(1..=4) {
        let len = input.len();
        match rng.gen_range(0..7) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = INTERESTING[rng.gen_range(0..INTERESTING.len())];
            }
            2 => {
                let i = rng.gen_range(0..=len);
                input.insert(i, INTERESTING[rng.gen_range(0..INTERESTING.len())]);
            }
            3 if len > 0 => {
                input.remove(rng.gen_range(0..len));
            }
            4 if len > 0 => input.truncate(rng.gen_range(0..len)),
            5 if len > 1 => {
                // Duplicate a slice in place.
                let a = rng.gen_range(0..len);
                let b = rng.gen_range(a..len);
                let piece = input[a..=b].to_vec();
                let at = rng.gen_range(0..=len);
                input.splice(at..at, piece);
            }
            _ => {
                let i = rng.gen_range(0..=len);
                input.insert(i, rng.gen());
            }
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    ok: usize,
    garbage: usize,
    unknown: usize,
    bad_query: usize,
    bad_response: usize,
    bad_error: usize,
}

fn check(input: &[u8], tally: &mut Tally) {
    match Message::decode(input) {
        Ok(m) => {
            tally.ok += 1;
            let enc = m.encode();
            assert_eq!(enc.len(), m.encoded_len(), "{m:?}");
            let again =
                Message::decode(&enc).unwrap_or_else(|e| panic!("re-decode of {m:?} failed: {e}"));
            assert_eq!(again, m, "input {:?}", String::from_utf8_lossy(input));
        }
        Err(e) => {
            match &e {
                DecodeError::Garbage { .. } => tally.garbage += 1,
                DecodeError::UnknownMethod { .. } => tally.unknown += 1,
                DecodeError::InvalidQuery { .. } => tally.bad_query += 1,
                DecodeError::InvalidResponse { .. } => tally.bad_response += 1,
                DecodeError::InvalidError { .. } => tally.bad_error += 1,
                other => panic!("a decode error of a class this test does not know: {other:?}"),
            }
            assert_eq!(e.error_reply().is_some(), e.reply_code().is_some());
            if let Some(reply) = e.error_reply() {
                let back = Message::decode(&reply.encode()).unwrap();
                assert_eq!(&back.tid, e.transaction_id().unwrap());
                assert!(matches!(back.body, Body::Error(_)));
            }
        }
    }
}

#[test]
fn random_bytes_and_mutations_never_panic_and_round_trip() {
    let mut rng = StdRng::seed_from_u64(0x6b72_7063);
    let seeds = seeds();
    let mut tally = Tally::default();
    for i in 0..60_000 {
        let input: Vec<u8> = match i % 4 {
            0 => {
                let n = rng.gen_range(0..200);
                (0..n).map(|_| rng.gen()).collect()
            }
            1 => {
                // Bencode-flavoured noise, starting as a dict.
                const ALPHA: &[u8] = b"dlie0123456789:aqrtyeid";
                let n = rng.gen_range(1..120);
                std::iter::once(b'd')
                    .chain((0..n).map(|_| ALPHA[rng.gen_range(0..ALPHA.len())]))
                    .collect()
            }
            _ => {
                let mut s = seeds[rng.gen_range(0..seeds.len())].clone();
                mutate(&mut rng, &mut s);
                s
            }
        };
        check(&input, &mut tally);
    }
    // The loop must have explored every outcome, or it proves little.
    assert!(tally.ok > 1_000, "{tally:?}");
    assert!(tally.garbage > 1_000, "{tally:?}");
    assert!(tally.unknown > 10, "{tally:?}");
    assert!(tally.bad_query > 10, "{tally:?}");
    assert!(tally.bad_response > 10, "{tally:?}");
    assert!(tally.bad_error > 10, "{tally:?}");
}
