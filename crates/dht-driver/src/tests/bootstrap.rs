//! The bootstrap's resolution: the public routers (checked, never contacted), a
//! resolver that never answers does not hold up the node, a failing one is retried.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use swarmlab_dht::node::NodeConfig;
use swarmlab_krpc::{Body, Id, Message, Method, TransactionId};

use crate::{Backoff, Dht, DriverConfig, Resolver, PUBLIC_ROUTERS};

#[test]
fn the_public_routers_are_the_four_well_known_ones() {
    // Nothing is resolved or sent here: the list is only read.
    assert_eq!(
        PUBLIC_ROUTERS,
        [
            "router.bittorrent.com:6881",
            "router.utorrent.com:6881",
            "dht.transmissionbt.com:6881",
            "dht.libtorrent.org:25401",
        ]
    );
    for r in PUBLIC_ROUTERS {
        let (host, port) = r.rsplit_once(':').unwrap();
        assert!(port.parse::<u16>().is_ok() && host.contains('.'), "{r}");
    }
    // A driver config has no bootstrap of its own: the CLI adds the routers.
    assert!(DriverConfig::new("127.0.0.1:0".parse().unwrap())
        .bootstrap
        .is_empty());
}

fn cfg(bind: &str, resolver: Resolver) -> DriverConfig {
    let mut c = DriverConfig::new(bind.parse().unwrap());
    c.node = NodeConfig {
        limits: swarmlab_dht::limits::Limits::unlimited(),
        ..NodeConfig::default()
    };
    c.bootstrap = vec!["router.example:6881".into()];
    c.resolver = resolver;
    c.resolve_backoff = Backoff {
        first: Duration::from_millis(20),
        max: Duration::from_millis(40),
    };
    c
}

async fn ping(to: SocketAddr, from: &str) -> bool {
    let sock = tokio::net::UdpSocket::bind(from).await.unwrap();
    let q = Message::query(
        TransactionId::new(b"pp".to_vec()),
        Id([1; 20]),
        Method::Ping,
    );
    sock.send_to(&q.encode(), to).await.unwrap();
    let mut buf = [0u8; 1500];
    while let Ok(Ok((n, _))) =
        tokio::time::timeout(Duration::from_secs(2), sock.recv_from(&mut buf)).await
    {
        if let Ok(m) = Message::decode(&buf[..n]) {
            if m.tid.as_bytes() == b"pp" && matches!(m.body, Body::Response(_)) {
                return true;
            }
        }
    }
    false
}

#[tokio::test]
async fn a_resolver_that_never_answers_does_not_hold_up_the_node() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let stuck = Resolver::new(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    });
    let dht = Dht::start(cfg("127.161.0.1:0", stuck)).await.unwrap();
    assert!(
        ping(dht.local_addr(), "127.161.0.2:0").await,
        "no answer while resolving"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the resolver was asked");
    let s = dht.snapshot().await.unwrap();
    assert_eq!(s.stats.replies_sent, 1);
    dht.shutdown().await;
}

#[tokio::test]
async fn a_failing_resolution_is_retried_until_the_node_joins() {
    let mut c0 = DriverConfig::new("127.161.1.1:0".parse().unwrap());
    c0.node.limits = swarmlab_dht::limits::Limits::unlimited();
    let router = Dht::start(c0).await.unwrap();
    let at = router.local_addr();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    // Fails twice, then resolves to the router.
    let flaky = Resolver::new(move |name| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            assert_eq!(name, "router.example:6881");
            if n < 2 {
                Err(std::io::Error::other(
                    "temporary failure in name resolution",
                ))
            } else {
                Ok(vec![at])
            }
        })
    });
    let dht = Dht::start(cfg("127.161.1.2:0", flaky)).await.unwrap();
    let n = dht
        .wait_for_nodes(1, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(n, 1, "joined through the router");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two failures, then one success"
    );
    dht.shutdown().await;
    router.shutdown().await;
}
