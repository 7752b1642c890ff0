//! BEP 44 and BEP 51 over UDP: an item put by one node of a loopback testnet is got by
//! another, and a crawl of the testnet finds the info-hashes announced in it.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use swarmlab_dht::bep44::Item;
use swarmlab_dht::crawl::CrawlConfig;
use swarmlab_dht::node::NodeConfig;
use swarmlab_krpc::Id;

use crate::{crawl, testnet, Dht, DriverConfig};

fn cfg() -> NodeConfig {
    NodeConfig {
        limits: swarmlab_dht::limits::Limits::unlimited(),
        ..NodeConfig::default()
    }
}

#[tokio::test]
async fn put_and_get_over_udp() {
    let net = testnet(12, "127.163.0.1".parse().unwrap(), 6881, cfg())
        .await
        .unwrap();
    for n in &net[1..] {
        assert!(n.wait_for_nodes(8, Duration::from_secs(10)).await.unwrap() >= 8);
    }
    let imm = Item::immutable(b"12:Hello World!".to_vec()).unwrap();
    let r = net[2].put(imm.clone(), None).await.unwrap();
    assert!(r.announced >= 4, "{r:?}");
    let r = net[9].get(imm.target(), Vec::new()).await.unwrap();
    assert_eq!(r.item, Some(imm));

    let key = SigningKey::from_bytes(&[0x5a; 32]);
    let v1 = Item::sign(&key, b"i1e".to_vec(), 1, b"s".to_vec()).unwrap();
    assert!(net[3].put(v1.clone(), None).await.unwrap().announced >= 4);
    let v2 = Item::sign(&key, b"i2e".to_vec(), 2, b"s".to_vec()).unwrap();
    assert!(net[4].put(v2.clone(), Some(1)).await.unwrap().announced >= 4);
    let r = net[10].get(v1.target(), b"s".to_vec()).await.unwrap();
    assert_eq!(r.item, Some(v2));
    // A stale put (seq 1 again, cas 1) is refused by the nodes that hold seq 2 (301);
    // a node that holds only seq 1 may take it as a refresh. The get still finds 2.
    let r = net[5].put(v1.clone(), Some(1)).await.unwrap();
    assert!(
        r.trace.iter().any(|t| matches!(
            t.outcome,
            swarmlab_dht::lookup::Outcome::Error { code: 301, .. }
        )),
        "{r:?}"
    );
    let r = net[11].get(v1.target(), b"s".to_vec()).await.unwrap();
    assert_eq!(r.item.and_then(|i| i.seq()), Some(2));
    for n in &net {
        n.shutdown().await;
    }
}

#[tokio::test]
async fn a_crawl_finds_the_announced_info_hashes() {
    let net = testnet(16, "127.163.1.1".parse().unwrap(), 6881, cfg())
        .await
        .unwrap();
    for n in &net[1..] {
        assert!(n.wait_for_nodes(8, Duration::from_secs(10)).await.unwrap() >= 8);
    }
    let hashes: Vec<Id> = (1..=6u8).map(|i| Id([i * 37; 20])).collect();
    for (i, ih) in hashes.iter().enumerate() {
        let r = net[i + 1]
            .announce(*ih, Some(5000 + i as u16))
            .await
            .unwrap();
        assert!(r.announced > 0);
    }
    let mut c = DriverConfig::new("127.163.2.1:0".parse().unwrap());
    c.node = NodeConfig {
        read_only: true,
        ..cfg()
    };
    let crawler = Dht::start(c).await.unwrap();
    let cc = CrawlConfig {
        rate: 200.0,
        ..CrawlConfig::default()
    };
    let r = crawl(
        &crawler,
        cc,
        vec![net[0].local_addr()],
        Duration::from_secs(20),
        1,
        Duration::from_secs(60),
        |_| {},
    )
    .await
    .unwrap();
    let found: Vec<Id> = r.found.iter().map(|f| f.info_hash).collect();
    for ih in &hashes {
        assert!(found.contains(ih), "{ih} not found: {r:?}");
    }
    assert_eq!(r.nodes_bep51, 16, "every node answered: {r:?}");
    assert_eq!(r.nodes_contacted, 16, "each node once (intervals are 6 h)");
    assert_eq!(r.queries, 16);
    crawler.shutdown().await;
    for n in &net {
        n.shutdown().await;
    }
}
