//! `swarmlab audit` with swarmlab's own DHT node as the peer source: a real libtorrent
//! seeder is announced into a loopback DHT testnet, and the audit — given only the
//! info-hash and a bootstrap node — finds it through get_peers, fetches the metadata
//! from it (ut_metadata) and records it as a seed.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use swarmlab_dht::limits::Limits;
use swarmlab_dht::node::NodeConfig;
use swarmlab_dht_driver::{Dht, DriverConfig};
use swarmlab_krpc::Id;
use swarmlab_tests::swarm::start_swarm;

const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

#[test]
fn audit_finds_a_libtorrent_seed_through_our_dht() {
    // The seed, on 127.0.0.210.
    let swarm = start_swarm(&["--seeds", "1", "--pieces", "8", "--first-octet", "210"]);
    let seed = swarm.info.peers[0].addr;
    let ih_hex = swarm.info.info_hash.clone();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let bootstrap = rt.block_on(async {
        // A 30-node DHT on 127.46.0.x; a node on the seed's IP announces the seed's port.
        let cfg = NodeConfig {
            limits: Limits::unlimited(),
            ..NodeConfig::default()
        };
        let net =
            swarmlab_dht_driver::testnet(30, "127.46.0.1".parse().unwrap(), 6881, cfg.clone())
                .await
                .unwrap();
        net[29]
            .wait_for_nodes(8, Duration::from_secs(10))
            .await
            .unwrap();
        let mut c = DriverConfig::new(SocketAddr::new(seed.ip(), 0));
        c.node = cfg;
        c.bootstrap = vec![net[0].local_addr().to_string()];
        let announcer = Dht::start(c).await.unwrap();
        announcer
            .wait_for_nodes(4, Duration::from_secs(10))
            .await
            .unwrap();
        let r = announcer
            .announce(Id::from_hex(&ih_hex).unwrap(), Some(seed.port()))
            .await
            .unwrap();
        assert!(r.announced > 0, "announce reached no node");
        (net, announcer)
    });
    let boot = bootstrap.0[0].local_addr().to_string();
    // The audit runs in another process, with only the info-hash and the bootstrap.
    let out = Command::new(BIN)
        .args([
            "audit",
            &ih_hex,
            "--dht-bootstrap",
            &boot,
            "--json",
            "--quiet",
            "--linger",
            "0.5",
            "--peer-budget",
            "10",
        ])
        .output()
        .unwrap();
    drop(swarm);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let peer = rep["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == seed.to_string())
        .unwrap_or_else(|| panic!("the seed {seed} is not in the report: {rep}"));
    assert!(
        peer["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "dht"),
        "{peer}"
    );
    assert_eq!(peer["reached"], true, "{peer}");
    assert_eq!(peer["seed"], true, "{peer}");
    assert_eq!(rep["metadata_fetched"], true);
    drop(bootstrap);
}
