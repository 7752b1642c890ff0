//! BEP 44 in the node: `get` and `put` served (tokens, every refusal code), and the get
//! and put lookups across a few nodes, forged items included.

use std::net::SocketAddr;

use ed25519_dalek::SigningKey;
use swarmlab_krpc::{Body, ErrorCode, Id, Message, Method, PutArgs, Response, TransactionId, Want};

use super::{lone, replies, Mesh, FROM};
use crate::bep44::{Item, MAX_SALT_LEN, MAX_VALUE_LEN};
use crate::node::Node;

fn ask(n: &mut Node, now: std::time::Instant, from: SocketAddr, method: Method) -> Message {
    let q = Message::query(TransactionId::new(b"qq".to_vec()), Id([0x42; 20]), method);
    n.handle(now, from, &q.encode());
    replies(n)
        .into_iter()
        .find(|m| m.tid.as_bytes() == b"qq")
        .expect("an answer")
}

fn get(n: &mut Node, now: std::time::Instant, from: SocketAddr, target: Id) -> Response {
    match ask(
        n,
        now,
        from,
        Method::Get {
            target,
            seq: None,
            want: Want::default(),
        },
    )
    .body
    {
        Body::Response(r) => r,
        other => panic!("get answered {other:?}"),
    }
}

/// Puts `item` with a token from a get; the error code if refused.
fn put(
    n: &mut Node,
    now: std::time::Instant,
    from: SocketAddr,
    item: &Item,
    cas: Option<i64>,
) -> Option<i64> {
    let token = get(n, now, from, item.target()).token.unwrap();
    match ask(n, now, from, item.put_method(token, cas)).body {
        Body::Response(_) => None,
        Body::Error(e) => Some(e.code.code()),
        Body::Query(q) => panic!("{q:?}"),
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[3; 32])
}

#[test]
fn an_item_put_with_a_token_is_returned_by_get() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    let imm = Item::immutable(b"12:Hello World!".to_vec()).unwrap();
    assert_eq!(get(&mut n, now, from, imm.target()).v, None);
    assert_eq!(put(&mut n, now, from, &imm, None), None);
    let r = get(&mut n, now, from, imm.target());
    assert_eq!(r.v.as_deref(), Some(&b"12:Hello World!"[..]));
    assert!(
        r.nodes.is_some(),
        "a get reply names nodes, as get_peers does"
    );

    let m = Item::sign(&key(), b"i1e".to_vec(), 1, b"salt".to_vec()).unwrap();
    assert_eq!(put(&mut n, now, from, &m, None), None);
    let r = get(&mut n, now, from, m.target());
    assert_eq!(
        Item::from_response(&r, &m.target(), b"salt").unwrap(),
        Some(m)
    );
    assert_eq!(n.item_store().len(), 2);
    assert_eq!(n.stats().items_stored, 2);
    assert_eq!(n.stats().queries_in.put, 2);
}

#[test]
fn every_bad_put_gets_its_bep44_code_and_stores_nothing() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    let other: SocketAddr = "198.51.100.8:6881".parse().unwrap();
    let m1 = Item::sign(&key(), b"i1e".to_vec(), 5, Vec::new()).unwrap();
    let target = m1.target();

    // A token from another address, and a token for another target: 203.
    let token = get(&mut n, now, other, target).token.unwrap();
    let reply = ask(&mut n, now, from, m1.put_method(token, None));
    assert!(
        matches!(reply.body, Body::Error(ref e) if e.code == ErrorCode::Protocol),
        "{reply:?}"
    );
    let token = get(&mut n, now, from, Id([9; 20])).token.unwrap();
    let reply = ask(&mut n, now, from, m1.put_method(token, None));
    assert!(matches!(reply.body, Body::Error(ref e) if e.code == ErrorCode::Protocol));

    // 1,001 bytes of value: 205. (Built by hand: Item refuses to build it.)
    let token = get(&mut n, now, from, target).token.unwrap();
    let big = format!("997:{}", "x".repeat(997)).into_bytes();
    assert_eq!(big.len(), MAX_VALUE_LEN + 1);
    let put_args = |v: Vec<u8>, salt: Vec<u8>, sig: [u8; 64], seq: i64| {
        Method::Put(Box::new(PutArgs {
            token: token.clone(),
            v,
            k: Some(key().verifying_key().to_bytes()),
            sig: Some(sig),
            seq: Some(seq),
            cas: None,
            salt,
        }))
    };
    let sig = m1.mutable.as_ref().unwrap().sig;
    let code = |n: &mut Node, m| match ask(n, now, from, m).body {
        Body::Error(e) => e.code.code(),
        other => panic!("stored: {other:?}"),
    };
    assert_eq!(code(&mut n, put_args(big, Vec::new(), sig, 5)), 205);
    // 65 bytes of salt: 207.
    assert_eq!(
        code(
            &mut n,
            put_args(b"i1e".to_vec(), vec![b's'; MAX_SALT_LEN + 1], sig, 5)
        ),
        207
    );
    // A signature that does not match (another seq): 206.
    assert_eq!(
        code(&mut n, put_args(b"i1e".to_vec(), Vec::new(), sig, 6)),
        206
    );
    assert!(n.item_store().is_empty(), "nothing stored so far");

    // Stored at seq 5; then seq 4: 302; cas 3 when 5 is stored: 301.
    assert_eq!(put(&mut n, now, from, &m1, None), None);
    let old = Item::sign(&key(), b"i0e".to_vec(), 4, Vec::new()).unwrap();
    assert_eq!(put(&mut n, now, from, &old, None), Some(302));
    let new = Item::sign(&key(), b"i2e".to_vec(), 6, Vec::new()).unwrap();
    assert_eq!(put(&mut n, now, from, &new, Some(3)), Some(301));
    assert_eq!(put(&mut n, now, from, &new, Some(5)), None);
    let r = get(&mut n, now, from, target);
    assert_eq!((r.seq, r.v.as_deref()), (Some(6), Some(&b"i2e"[..])));
    let s = n.stats();
    assert_eq!((s.items_stored, s.items_refused), (2, 7));
    assert_eq!(s.errors_sent_by_code.get(Some(205)), 1);
    assert_eq!(s.errors_sent_by_code.get(Some(302)), 1);
}

#[test]
fn a_get_with_seq_returns_only_newer_values() {
    let (mut n, now) = lone();
    let from: SocketAddr = FROM.parse().unwrap();
    let m = Item::sign(&key(), b"i1e".to_vec(), 7, Vec::new()).unwrap();
    put(&mut n, now, from, &m, None);
    let with_seq = |n: &mut Node, seq| match ask(
        n,
        now,
        from,
        Method::Get {
            target: m.target(),
            seq: Some(seq),
            want: Want::default(),
        },
    )
    .body
    {
        Body::Response(r) => r,
        other => panic!("{other:?}"),
    };
    let r = with_seq(&mut n, 7);
    assert_eq!((r.seq, r.v), (Some(7), None));
    let r = with_seq(&mut n, 6);
    assert_eq!(r.v.as_deref(), Some(&b"i1e"[..]));
}

#[test]
fn a_full_value_fits_one_datagram_with_fewer_nodes() {
    let mut mesh = Mesh::new(12);
    let now = mesh.now;
    let from: SocketAddr = FROM.parse().unwrap();
    let v = format!("996:{}", "y".repeat(996)).into_bytes();
    let m = Item::sign(&key(), v, 1, vec![b's'; 64]).unwrap();
    assert_eq!(put(&mut mesh.nodes[0], now, from, &m, None), None);
    let q = Message::query(
        TransactionId::new(b"qq".to_vec()),
        Id([0x42; 20]),
        Method::Get {
            target: m.target(),
            seq: None,
            want: Want { n4: true, n6: true },
        },
    );
    mesh.nodes[0].handle(now, from, &q.encode());
    let t = std::iter::from_fn(|| mesh.nodes[0].poll_transmit())
        .find(|t| t.to == from)
        .unwrap();
    assert!(
        t.payload.len() <= swarmlab_krpc::SAFE_PAYLOAD,
        "{}",
        t.payload.len()
    );
    let Body::Response(r) = Message::decode(&t.payload).unwrap().body else {
        panic!()
    };
    assert_eq!(
        Item::from_response(&r, &m.target(), &[b's'; 64]).unwrap(),
        Some(m)
    );
    assert!(r.nodes.is_some_and(|n| n.len() < 8), "trimmed to fit");
}

#[test]
fn put_then_get_across_nodes_immutable_and_mutable() {
    let mut mesh = Mesh::new(10);
    let now = mesh.now;
    let imm = Item::immutable(b"d4:name5:alicee".to_vec()).unwrap();
    mesh.nodes[1].start_put(now, imm.clone(), None).unwrap();
    let r = mesh.result(1);
    assert!(r.announced >= 8, "stored on {} nodes: {r:?}", r.announced);
    assert!(r.trace.iter().any(|t| t.method == "put"));
    mesh.nodes[7]
        .start_get(now, imm.target(), Vec::new())
        .unwrap();
    let r = mesh.result(7);
    assert_eq!(r.item, Some(imm));

    let k = key();
    let v1 = Item::sign(&k, b"i1e".to_vec(), 1, b"feed".to_vec()).unwrap();
    mesh.nodes[2].start_put(now, v1.clone(), None).unwrap();
    assert!(mesh.result(2).announced >= 8);
    let v2 = Item::sign(&k, b"i2e".to_vec(), 2, b"feed".to_vec()).unwrap();
    mesh.nodes[3].start_put(now, v2.clone(), Some(1)).unwrap();
    assert!(mesh.result(3).announced >= 8);
    mesh.nodes[9]
        .start_get(now, v1.target(), b"feed".to_vec())
        .unwrap();
    assert_eq!(mesh.result(9).item, Some(v2), "the highest seq wins");
    // The same key without the salt is another target: nothing there.
    mesh.nodes[9]
        .start_get(
            now,
            crate::bep44::mutable_target(&k.verifying_key().to_bytes(), b""),
            Vec::new(),
        )
        .unwrap();
    assert_eq!(mesh.result(9).item, None);
}

#[test]
fn a_forged_item_in_a_get_reply_is_not_taken() {
    let mut mesh = Mesh::new(4);
    let now = mesh.now;
    let m = Item::sign(&key(), b"i1e".to_vec(), 1, Vec::new()).unwrap();
    mesh.nodes[0]
        .start_get(now, m.target(), Vec::new())
        .unwrap();
    // Answer node 0's first get by hand with a value under the right key and a bad
    // signature; the real nodes answer the others.
    let t = mesh.nodes[0].poll_transmit().unwrap();
    let q = Message::decode(&t.payload).unwrap();
    let Body::Query(query) = &q.body else {
        panic!()
    };
    assert!(matches!(query.method, Method::Get { .. }));
    let mut r = Response::new(Id([0x77; 20]));
    r.k = Some(key().verifying_key().to_bytes());
    r.seq = Some(99);
    r.sig = Some([1; 64]);
    r.v = Some(b"4:evil".to_vec());
    let j = mesh.addrs.iter().position(|a| *a == t.to).unwrap();
    mesh.nodes[0].handle(now, mesh.addrs[j], &Message::response(q.tid, r).encode());
    let r = mesh.result(0);
    assert_eq!(r.item, None);
    assert_eq!(mesh.nodes[0].stats().items_bad, 1);
}

#[test]
fn a_put_lookup_refuses_an_item_that_does_not_verify() {
    let (mut n, now) = lone();
    let mut m = Item::sign(&key(), b"i1e".to_vec(), 1, Vec::new()).unwrap();
    if let Some(x) = m.mutable.as_mut() {
        x.seq = 2;
    }
    assert!(matches!(
        n.start_put(now, m, None),
        Err(crate::LookupError::Item(crate::ItemError::BadSignature))
    ));
    assert!(matches!(
        n.start_lookup(now, crate::lookup::LookupKind::PutItem, Id([1; 20])),
        Err(crate::LookupError::PutWithoutItem)
    ));
}
