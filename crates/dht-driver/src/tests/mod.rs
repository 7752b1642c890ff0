//! The driver on loopback: bootstrap, lookups, persistence, dual stack, the state file
//! (here); the bootstrap's resolution (`bootstrap.rs`), the dual stack's shared id and
//! `want` (`dual_stack.rs`), BEP 44 and BEP 51 over UDP (`items.rs`), the metrics
//! endpoint (`metrics.rs`).

mod bootstrap;
mod dual_stack;
mod items;
mod metrics;

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_dht::node::NodeConfig;
use swarmlab_krpc::Id;

use crate::{testnet, Dht, DriverConfig, DriverError, State};

#[tokio::test]
async fn loopback_nodes_bootstrap_lookup_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = NodeConfig {
        limits: swarmlab_dht::limits::Limits::unlimited(),
        ..NodeConfig::default()
    };
    let net = testnet(20, "127.31.0.1".parse().unwrap(), 6881, cfg.clone())
        .await
        .unwrap();
    for n in &net[1..] {
        assert!(n.wait_for_nodes(1, Duration::from_secs(10)).await.unwrap() >= 1);
    }
    let ih = Id([0x5a; 20]);
    let r = net[3].announce(ih, Some(4444)).await.unwrap();
    assert!(r.announced > 0, "{r:?}");
    let r = net[15].get_peers(ih).await.unwrap();
    assert_eq!(r.peers, vec!["127.31.0.4:4444".parse().unwrap()]);

    // A node with a state file: restart it, it answers lookups without bootstrap.
    let state = dir.path().join("state.json");
    let mut c = DriverConfig::new("127.31.1.1:0".parse().unwrap());
    c.node = cfg.clone();
    c.bootstrap = vec![net[0].local_addr().to_string()];
    c.state_file = Some(state.clone());
    let a = Dht::start(c.clone()).await.unwrap();
    assert!(a.wait_for_nodes(8, Duration::from_secs(10)).await.unwrap() >= 8);
    let id = a.id();
    a.shutdown().await;
    let saved = State::load(&state).unwrap().unwrap();
    assert_eq!(saved.id, id.to_hex());
    assert!(saved.nodes.len() >= 8);
    c.bootstrap.clear();
    let b = Dht::start(c).await.unwrap();
    assert_eq!(b.id(), id);
    let r = b.get_peers(ih).await.unwrap();
    assert_eq!(r.peers.len(), 1);
    for n in &net {
        n.shutdown().await;
    }
}

/// Waits until both stacks of `d` hold at least one node.
async fn both_tables(d: &Dht) {
    for _ in 0..200 {
        let s = d.snapshot().await.unwrap();
        if s.table_nodes > 0 && s.second.as_ref().is_some_and(|x| x.table_nodes > 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("tables did not fill: {:?}", d.snapshot().await.unwrap());
}

#[tokio::test]
async fn dual_stack_lookups_cover_both_families() {
    let cfg = NodeConfig {
        limits: swarmlab_dht::limits::Limits::unlimited(),
        ..NodeConfig::default()
    };
    let start = |v4: &str, boot: Vec<String>| {
        let mut c = DriverConfig::new(v4.parse().unwrap());
        c.bind6 = Some("[::1]:0".parse().unwrap());
        c.node = NodeConfig {
            seed: rand::random(),
            ..cfg.clone()
        };
        c.bootstrap = boot;
        Dht::start(c)
    };
    let a = start("127.32.0.1:6881", vec![]).await.unwrap();
    let a6 = a.snapshot().await.unwrap().second.unwrap().addr;
    assert!(a6.is_ipv6());
    let boot = vec![a.local_addr().to_string(), a6.to_string()];
    let b = start("127.32.0.2:6881", boot.clone()).await.unwrap();
    let c = start("127.32.0.3:6881", boot).await.unwrap();
    both_tables(&b).await;
    both_tables(&c).await;
    let ih = Id([0x66; 20]);
    let r = b.announce(ih, Some(7000)).await.unwrap();
    assert!(r.announced >= 2, "announced on one family only: {r:?}");
    let r = c.get_peers(ih).await.unwrap();
    let v4: SocketAddr = "127.32.0.2:7000".parse().unwrap();
    let v6: SocketAddr = "[::1]:7000".parse().unwrap();
    assert!(
        r.peers.contains(&v4) && r.peers.contains(&v6),
        "{:?}",
        r.peers
    );
    assert!(r.trace.iter().any(|t| t.node.is_ipv6()) && r.trace.iter().any(|t| t.node.is_ipv4()));
}

#[test]
fn corrupt_state_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    std::fs::write(&p, b"{not json").unwrap();
    assert!(matches!(
        State::load(&p),
        Err(DriverError::StateParse { path, .. }) if path == p
    ));
    std::fs::write(&p, br#"{"version":1,"id":"zz","nodes":[]}"#).unwrap();
    assert!(matches!(State::load(&p), Err(DriverError::StateId { .. })));
    assert!(State::load(&dir.path().join("missing")).unwrap().is_none());
    // A directory where the file should be: it cannot be read.
    assert!(matches!(
        State::load(dir.path()),
        Err(DriverError::StateRead { .. })
    ));
}

#[test]
fn state_is_saved_whole_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let s = State {
        version: 1,
        id: Id([0xab; 20]).to_hex(),
        nodes: vec![crate::SavedNode {
            id: Id([1; 20]).to_hex(),
            addr: "127.0.0.9:6881".parse().unwrap(),
        }],
    };
    s.save(&p).unwrap();
    assert!(
        !dir.path().join("state.json.tmp").exists(),
        "renamed into place"
    );
    let back = State::load(&p).unwrap().unwrap();
    assert_eq!((&back.id, back.nodes.len()), (&s.id, 1));
    // Into a directory that does not exist: a typed error naming the file.
    let bad = dir.path().join("no/such/dir/state.json");
    assert!(matches!(s.save(&bad), Err(DriverError::StateWrite { path, .. }) if path == bad));
}

/// A ping query of exactly `len` bytes (an unknown key pads it).
fn ping_of_len(len: usize) -> Vec<u8> {
    let head = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q1:z";
    let digits = (len - head.len()).to_string().len();
    let pad = len - head.len() - digits - 2;
    let wire = [
        head.as_slice(),
        format!("{pad}:").as_bytes(),
        &vec![b'x'; pad],
        b"e",
    ]
    .concat();
    assert_eq!(wire.len(), len);
    wire
}

/// The driver's receive buffer (2 KiB) is not the datagram cap: the node's
/// `MAX_DATAGRAM_IN` (1,500 bytes) is, and it holds over real UDP.
#[tokio::test]
async fn datagrams_over_the_cap_are_dropped_and_counted_over_udp() {
    use swarmlab_dht::MAX_DATAGRAM_IN;
    let mut c = DriverConfig::new("127.133.0.1:0".parse().unwrap());
    c.node = NodeConfig {
        limits: swarmlab_dht::limits::Limits::unlimited(),
        ..NodeConfig::default()
    };
    let dht = Dht::start(c).await.unwrap();
    let sock = tokio::net::UdpSocket::bind("127.133.0.2:0").await.unwrap();
    let mut buf = vec![0u8; 4096];
    for (len, answer) in [
        (MAX_DATAGRAM_IN, true),
        (MAX_DATAGRAM_IN + 1, false),
        (crate::RECV_BUF, false),
        (3000, false),
    ] {
        sock.send_to(&ping_of_len(len), dht.local_addr())
            .await
            .unwrap();
        // The node also pings us back (we queried it): only a response counts.
        let mut got = false;
        while let Ok(Ok((n, _))) =
            tokio::time::timeout(Duration::from_millis(500), sock.recv_from(&mut buf)).await
        {
            let m = swarmlab_krpc::Message::decode(&buf[..n]).unwrap();
            got |= matches!(m.body, swarmlab_krpc::Body::Response(_));
        }
        assert_eq!(got, answer, "a {len}-byte ping");
    }
    let s = dht.snapshot().await.unwrap().stats;
    assert_eq!(s.oversized, 3);
    assert_eq!((s.replies_sent, s.garbage), (1, 0));
    dht.shutdown().await;
}
