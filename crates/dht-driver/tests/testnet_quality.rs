//! Network quality on a real loopback testnet: 1,000 nodes, each on its own 127.x.y.z
//! address, grown one at a time with every new node bootstrapping from node 0 only.
//! Every node must end up in another node's routing table, and a find_node for any
//! node's id must find that exact node in at least 99% of lookups.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use swarmlab_dht::limits::Limits;
use swarmlab_dht::lookup::LookupKind;
use swarmlab_dht::node::NodeConfig;
use swarmlab_dht_driver::{Dht, DriverConfig};

const N: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_nodes_grown_through_node_0() {
    let first = u32::from(Ipv4Addr::new(127, 40, 0, 1));
    let cfg = NodeConfig {
        limits: Limits::unlimited(),
        ..NodeConfig::default()
    };
    let mut nodes: Vec<Dht> = Vec::with_capacity(N);
    for i in 0..N {
        let mut c = DriverConfig::new(SocketAddr::from((Ipv4Addr::from(first + i as u32), 6881)));
        c.node = NodeConfig {
            seed: 1000 + i as u64,
            ..cfg.clone()
        };
        if i > 0 {
            c.bootstrap = vec![nodes[0].local_addr().to_string()];
        }
        nodes.push(Dht::start(c).await.unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Let the joins' far-bucket refreshes and verification pings settle.
    tokio::time::sleep(Duration::from_secs(5)).await;

    // (a) Every node is in at least one other node's table, as a verified entry.
    let mut known: HashSet<SocketAddr> = HashSet::new();
    for n in &nodes {
        for e in n.table().await.unwrap() {
            if e.last_response.is_some() {
                known.insert(e.addr);
            }
        }
    }
    let orphans: Vec<SocketAddr> = nodes
        .iter()
        .map(|n| n.local_addr())
        .filter(|a| !known.contains(a))
        .collect();
    assert!(
        orphans.is_empty(),
        "{} nodes in nobody's table: {:?}",
        orphans.len(),
        &orphans[..orphans.len().min(10)]
    );

    // (b) find_node of every node's id, from another node, finds that node.
    let mut found = 0;
    let (mut queries, mut replies) = (0, 0);
    for batch in (0..N).collect::<Vec<_>>().chunks(50) {
        let lookups = batch.iter().map(|&i| {
            let from = nodes[(i * 7 + 13) % N].clone();
            let target = nodes[i].id();
            async move { (target, from.lookup(LookupKind::FindNode, target).await) }
        });
        for (target, r) in futures_join(lookups).await {
            let r = r.unwrap();
            queries += r.messages;
            replies += r.responses;
            if r.closest.first().map(|c| c.0) == Some(target) {
                found += 1;
            }
        }
    }
    let rate = found as f64 / N as f64;
    println!(
        "loopback testnet of {N}: 0 orphans, find_node exact {found}/{N}, per lookup {:.1} queries and {:.1} datagrams (queries + replies)",
        queries as f64 / N as f64,
        (queries + replies) as f64 / N as f64
    );
    assert!(
        rate >= 0.99,
        "find_node found the exact node in {found}/{N} lookups"
    );
    for n in &nodes {
        n.shutdown().await;
    }
}

/// Runs futures concurrently on the current task (no extra dependency).
async fn futures_join<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
