//! Shared fixtures: one message for every type and optional field.
#![allow(dead_code)]

use std::net::SocketAddr;

use swarmlab_krpc::{
    Body, ErrorCode, Id, Message, Method, Node4, Node6, Response, TransactionId, Want,
};

pub fn id(b: u8) -> Id {
    Id([b; 20])
}

pub fn node4(b: u8) -> Node4 {
    Node4 {
        id: id(b),
        addr: format!("10.0.0.{b}:{}", 1000 + u16::from(b))
            .parse()
            .unwrap(),
    }
}

pub fn node6(b: u8) -> Node6 {
    Node6 {
        id: id(b),
        addr: format!("[2001:db8::{b:x}]:{}", 2000 + u16::from(b))
            .parse()
            .unwrap(),
    }
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Every message type with every field set at least once.
pub fn samples() -> Vec<Message> {
    let t = TransactionId::from_u32(0xdead_beef);
    let both = Want { n4: true, n6: true };
    let mut out = vec![
        Message::query(t.clone(), id(1), Method::Ping),
        Message::query(
            t.clone(),
            id(1),
            Method::FindNode {
                target: id(2),
                want: Want::default(),
            },
        ),
        Message::query(
            TransactionId::new(b"aa".to_vec()),
            id(1),
            Method::FindNode {
                target: id(2),
                want: both,
            },
        )
        .with_version(b"LT\x01\x02".to_vec()),
        Message::query(
            t.clone(),
            id(1),
            Method::GetPeers {
                info_hash: id(3),
                want: Want {
                    n4: false,
                    n6: true,
                },
            },
        ),
        Message::query(
            t.clone(),
            id(1),
            Method::AnnouncePeer {
                info_hash: id(3),
                port: 6881,
                implied_port: false,
                token: b"tok".to_vec(),
            },
        ),
        Message::query(
            TransactionId::new(Vec::new()),
            id(1),
            Method::AnnouncePeer {
                info_hash: id(3),
                port: 0,
                implied_port: true,
                token: Vec::new(),
            },
        ),
        Message::response(t.clone(), Response::new(id(4))).with_ip(addr("1.2.3.4:5")),
        Message::response(
            t.clone(),
            Response {
                nodes: Some(vec![node4(1), node4(2)]),
                nodes6: Some(vec![node6(3)]),
                ..Response::new(id(4))
            },
        )
        .with_ip(addr("[2001:db8::7]:6881")),
        Message::response(
            t.clone(),
            Response {
                nodes: Some(vec![]),
                token: Some(b"secret".to_vec()),
                values: Some(vec![addr("5.6.7.8:9"), addr("[::1]:10")]),
                ..Response::new(id(4))
            },
        )
        .with_version(b"SL\x00\x01".to_vec()),
        Message::error(t.clone(), ErrorCode::Generic, "A Generic Error Ormsg"),
        Message::error(t.clone(), ErrorCode::Server, ""),
        Message::error(t.clone(), ErrorCode::Protocol, "Protocol Error"),
        Message::error(t.clone(), ErrorCode::MethodUnknown, "Method Unknown")
            .with_ip(addr("9.9.9.9:99")),
        Message::error(t.clone(), ErrorCode::Other(-7), "négatif"),
    ];
    // BEP 43 read-only query.
    let mut ro = Message::query(t, id(1), Method::Ping);
    if let Body::Query(q) = &mut ro.body {
        q.read_only = true;
    }
    out.push(ro);
    out
}
