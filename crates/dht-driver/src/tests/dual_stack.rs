//! Dual stack over UDP: a `want: ["n6"]` query on the IPv4 socket gets `nodes6` from
//! the IPv6 table, and the IPv6 node takes the id the IPv4 node adopts (BEP 42).

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_dht::node::NodeConfig;
use swarmlab_krpc::{Body, Id, Message, Method, Response, TransactionId, Want};

use crate::{Dht, DriverConfig};

fn dual(v4: &str, boot: Vec<String>) -> DriverConfig {
    let mut c = DriverConfig::new(v4.parse().unwrap());
    c.bind6 = Some("[::1]:0".parse().unwrap());
    c.node = NodeConfig {
        seed: rand::random(),
        limits: swarmlab_dht::limits::Limits::unlimited(),
        ..NodeConfig::default()
    };
    c.bootstrap = boot;
    c
}

#[tokio::test]
async fn want_n6_on_the_ipv4_socket_is_answered_from_the_ipv6_table() {
    let a = Dht::start(dual("127.162.0.1:0", vec![])).await.unwrap();
    let a6 = a.snapshot().await.unwrap().second.unwrap().addr;
    let b = Dht::start(dual(
        "127.162.0.2:0",
        vec![a.local_addr().to_string(), a6.to_string()],
    ))
    .await
    .unwrap();
    let b6 = b.snapshot().await.unwrap().second.unwrap().addr;
    // Wait until a's IPv6 table holds b.
    for _ in 0..200 {
        let s = a.snapshot().await.unwrap();
        if s.second.as_ref().is_some_and(|x| x.table_good > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let sock = tokio::net::UdpSocket::bind("127.162.0.9:0").await.unwrap();
    let q = Message::query(
        TransactionId::new(b"w6".to_vec()),
        Id([0x33; 20]),
        Method::FindNode {
            target: Id([0x44; 20]),
            want: Want { n4: true, n6: true },
        },
    );
    sock.send_to(&q.encode(), a.local_addr()).await.unwrap();
    let mut buf = [0u8; 1500];
    let r = loop {
        let (n, _) = tokio::time::timeout(Duration::from_secs(3), sock.recv_from(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        if let Ok(Message {
            tid,
            body: Body::Response(r),
            ..
        }) = Message::decode(&buf[..n])
        {
            if tid.as_bytes() == b"w6" {
                break r;
            }
        }
    };
    let six: Vec<SocketAddr> = r
        .nodes6
        .unwrap_or_default()
        .iter()
        .map(|n| SocketAddr::V6(n.addr))
        .collect();
    assert_eq!(six, vec![b6], "nodes6 from the IPv6 table");
    assert!(r
        .nodes
        .is_some_and(|n| n.iter().any(|n| SocketAddr::V4(n.addr) == b.local_addr())));
    a.shutdown().await;
    b.shutdown().await;
}

/// A node that answers every query with `ip` = `ours` and no nodes.
async fn voter(bind: &str, ours: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let sock = tokio::net::UdpSocket::bind(bind).await.unwrap();
    let addr = sock.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        let id = Id::random(&mut rand::thread_rng());
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            if let Ok(Message {
                tid,
                body: Body::Query(_),
                ..
            }) = Message::decode(&buf[..n])
            {
                let mut r = Response::new(id);
                r.nodes = Some(Vec::new());
                let m = Message::response(tid, r).with_ip(ours);
                let _ = sock.send_to(&m.encode(), from).await;
            }
        }
    });
    (addr, task)
}

#[tokio::test]
async fn the_ipv6_node_takes_the_id_the_ipv4_node_adopts() {
    let ours: SocketAddr = "203.0.113.5:6881".parse().unwrap();
    let mut boot = Vec::new();
    let mut tasks = Vec::new();
    // Four voters in four /24s.
    for i in 1..=4 {
        let (a, t) = voter(&format!("127.162.{i}.1:0"), ours).await;
        boot.push(a.to_string());
        tasks.push(t);
    }
    let d = Dht::start(dual("127.162.9.1:0", boot)).await.unwrap();
    let old = d.id();
    let mut snap = d.snapshot().await.unwrap();
    for _ in 0..200 {
        if snap.id != old {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        snap = d.snapshot().await.unwrap();
    }
    assert_ne!(snap.id, old, "no BEP 42 id adopted: {:?}", snap.external);
    assert!(swarmlab_dht::bep42::is_valid(&snap.id, ours.ip()));
    let second = snap.second.unwrap();
    assert_eq!(second.id, snap.id, "the IPv6 node kept the old id");
    d.shutdown().await;
    for t in tasks {
        t.abort();
    }
}
