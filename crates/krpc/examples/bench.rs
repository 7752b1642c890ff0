//! The per-query wire work of a node: decode a query, build and encode the reply.
//!
//! `cargo run --release -p swarmlab-krpc --example bench` prints the table of
//! `crates/krpc/README.md` ("Performance"), row for row, as markdown: operation, ns per
//! operation (mean over the iterations, after a warm-up of a tenth of them) and
//! operations per second on one core. No external harness. `-- --quick` runs a hundredth
//! of the iterations (to check that it works, not to measure).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal

use std::hint::black_box;
use std::time::Instant;

use swarmlab_krpc::{Body, Id, Message, Method, Node4, Response, TransactionId, Want};

/// Times `f` and prints one markdown row: `| name | ns/op | op/s |`.
fn time(name: &str, iters: u32, mut f: impl FnMut()) {
    let iters = if std::env::args().any(|a| a == "--quick") {
        (iters / 100).max(10)
    } else {
        iters
    };
    for _ in 0..iters / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iters);
    println!("| {name} | {ns:.0} | {:.0} |", 1e9 / ns);
}

fn main() {
    let me = Id([0x11; 20]);
    let ping = Message::query(
        TransactionId::new(b"aa".to_vec()),
        Id([1; 20]),
        Method::Ping,
    )
    .with_version(b"LT\x01\x02".to_vec())
    .encode();
    let get_peers = Message::query(
        TransactionId::new(b"ab".to_vec()),
        Id([1; 20]),
        Method::GetPeers {
            info_hash: Id([2; 20]),
            want: Want::default(),
        },
    )
    .encode();
    let nodes: Vec<Node4> = (0..8u8)
        .map(|i| Node4 {
            id: Id([i; 20]),
            addr: format!("10.0.0.{i}:6881").parse().unwrap(),
        })
        .collect();
    let values: Vec<_> = (0..50u8)
        .map(|i| format!("10.1.0.{i}:6881").parse().unwrap())
        .collect();
    let requester = "192.0.2.1:6881".parse().unwrap();

    println!("| operation | ns/op | op/s on one core |");
    println!("|---|---|---|");

    time("decode `ping` query", 1_000_000, || {
        black_box(Message::decode(black_box(&ping)).unwrap());
    });
    time("decode `get_peers` query", 1_000_000, || {
        black_box(Message::decode(black_box(&get_peers)).unwrap());
    });
    time("encode `ping` reply with `ip` and `v`", 1_000_000, || {
        let m = Message::response(TransactionId::new(b"aa".to_vec()), Response::new(me))
            .with_ip(requester)
            .with_version(b"SL01".to_vec());
        black_box(m.encode());
    });
    let nodes_reply = Message::response(
        TransactionId::new(b"ab".to_vec()),
        Response {
            nodes: Some(nodes.clone()),
            token: Some(vec![7; 8]),
            ..Response::new(me)
        },
    )
    .with_ip(requester);
    time(
        "encode `get_peers` reply, 8 nodes + token",
        1_000_000,
        || {
            black_box(black_box(&nodes_reply).encode());
        },
    );
    let values_reply = Message::response(
        TransactionId::new(b"ab".to_vec()),
        Response {
            values: Some(values.clone()),
            token: Some(vec![7; 8]),
            ..Response::new(me)
        },
    );
    time(
        "encode `get_peers` reply, 50 values + token",
        200_000,
        || {
            black_box(black_box(&values_reply).encode());
        },
    );
    time("decode `ping` + encode its reply", 1_000_000, || {
        let q = Message::decode(black_box(&ping)).unwrap();
        if let Body::Query(_) = q.body {
            let r = Message::response(q.tid, Response::new(me)).with_ip(requester);
            black_box(r.encode());
        }
    });
    let enc = nodes_reply.encode();
    time("decode `get_peers` reply with 8 nodes", 1_000_000, || {
        black_box(Message::decode(black_box(&enc)).unwrap());
    });
}
