//! Charlie in-process against test peers that speak both protocols on one port, over
//! a loopback DHT testnet: trackerless, PEX, the refill during a download, and peers
//! that lie. Each test has its own 127.16x.N.0/24 addresses.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_dht::limits::Limits;
use swarmlab_dht::{Id, NodeConfig};
use swarmlab_dht_driver::{testnet, Dht, DriverConfig};

use super::*;
use crate::discovery::test_peer::{self, info_of, write_chunks, Script, TestPeer};
use crate::engine::FailureKind;

const CHUNK: usize = 4096;
const CHUNKS: usize = 12;

fn data() -> Vec<u8> {
    (0..(CHUNK * CHUNKS - 100) as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn node_cfg() -> NodeConfig {
    NodeConfig {
        limits: Limits::unlimited(),
        ..NodeConfig::default()
    }
}

/// A course tree for Charlie with the reference file in files/.
fn charlie_root(data: &[u8], info: &Info) -> (tempfile::TempDir, Layout) {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("files")).unwrap();
    std::fs::write(d.path().join("files").join(&info.name), data).unwrap();
    let l = Layout::new(d.path());
    (d, l)
}

/// A peer on `ip` holding the chunks `keep` accepts, with `script`'s BitTorrent.
async fn peer(
    dir: &Path,
    ip: &str,
    data: &[u8],
    info: &Info,
    keep: impl Fn(usize) -> bool,
    mut script: Script,
) -> TestPeer {
    write_chunks(dir, data, CHUNK, keep);
    script.info = Some(info.clone());
    test_peer::start(&format!("{ip}:0"), dir.to_path_buf(), script).await
}

/// A DHT node on `ip` (the peer's address) that announces `key` with `port`.
async fn announce(ip: &str, boot: SocketAddr, key: [u8; 20], port: u16) -> Dht {
    let mut c = DriverConfig::new(format!("{ip}:0").parse().unwrap());
    c.node = node_cfg();
    c.bootstrap = vec![boot.to_string()];
    let d = Dht::start(c).await.unwrap();
    assert!(d.wait_for_nodes(3, Duration::from_secs(10)).await.unwrap() >= 1);
    let r = d.announce(Id(key), Some(port)).await.unwrap();
    assert!(r.announced > 0, "{r:?}");
    d
}

async fn net(first: &str) -> Vec<Dht> {
    let n = testnet(8, first.parse().unwrap(), 0, node_cfg())
        .await
        .unwrap();
    for d in &n[1..] {
        d.wait_for_nodes(1, Duration::from_secs(10)).await.unwrap();
    }
    n
}

fn trackerless(layout: &Layout, info: &Info, bind: &str, boot: SocketAddr) -> CharlieOptions {
    let mut o = CharlieOptions::new(layout.clone(), 4);
    o.file = Some(FileRef {
        file_id: info.info_hash,
        name: None,
        peers: Vec::new(),
        magnet: false,
    });
    o.dht = DhtOptions::new(format!("{bind}:0").parse().unwrap(), vec![boot.to_string()]);
    o.dht.node.limits = Limits::unlimited();
    o
}

fn source<'a>(r: &'a [StepReport], name: &str) -> &'a StepReport {
    r.iter()
        .find(|s| s.source == name)
        .unwrap_or_else(|| panic!("no {name} step in {r:#?}"))
}

fn chunks_from(r: &CharlieReport, a: SocketAddr) -> u64 {
    r.download
        .peers
        .iter()
        .find(|p| p.addr == a.to_string())
        .map_or(0, |p| p.chunks)
}

#[tokio::test]
async fn trackerless_from_the_file_id_alone() {
    let net = net("127.163.0.1").await;
    let boot = net[0].local_addr();
    let data = data();
    let info = info_of("t.bin", &data, CHUNK);
    let d = tempfile::tempdir().unwrap();
    let alice = peer(
        &d.path().join("a"),
        "127.163.1.1",
        &data,
        &info,
        |i| i < 8,
        Script::default(),
    )
    .await;
    let bob = peer(
        &d.path().join("b"),
        "127.163.1.2",
        &data,
        &info,
        |i| i >= 4,
        Script::default(),
    )
    .await;
    let _a = announce("127.163.1.1", boot, info.info_hash.0, alice.addr.port()).await;
    let _b = announce("127.163.1.2", boot, info.info_hash.0, bob.addr.port()).await;
    let (_root, layout) = charlie_root(&data, &info);
    let opts = trackerless(&layout, &info, "127.163.2.1", boot);
    let r = run(&opts).await.unwrap();
    assert_eq!(r.identical, Some(true));
    assert_eq!(r.chain, ["file id", "dht", "metadata", "pex"]);
    assert_eq!(r.file_id.as_deref(), Some(info.info_hash.to_hex().as_str()));
    let dht = source(&r.discovery, "dht");
    assert!(dht.ok && dht.new_peers == 2 && dht.datagrams > 0, "{dht:?}");
    let meta = source(&r.discovery, "metadata");
    assert!(meta.ok && meta.connections >= 1, "{meta:?}");
    // Both bitfields were read: each peer was asked only for what it holds.
    assert!(
        r.download.peers.iter().all(|p| p.failures.is_empty()),
        "{:?}",
        r.download.peers
    );
    assert_eq!(
        chunks_from(&r, alice.addr) + chunks_from(&r, bob.addr),
        CHUNKS as u64
    );
    assert!(chunks_from(&r, alice.addr) >= 4 && chunks_from(&r, bob.addr) >= 4);
    assert!(
        !r.discovery.iter().any(|s| s.source == "pex"),
        "complete before pex"
    );
}

#[tokio::test]
async fn charlie_knows_only_alice_and_finds_bob_through_pex() {
    let data = data();
    let info = info_of("p.bin", &data, CHUNK);
    let d = tempfile::tempdir().unwrap();
    let bob = peer(
        &d.path().join("b"),
        "127.164.1.2",
        &data,
        &info,
        |i| i >= 6,
        Script::default(),
    )
    .await;
    let alice = peer(
        &d.path().join("a"),
        "127.164.1.1",
        &data,
        &info,
        |i| i < 6,
        Script {
            pex: vec![bob.addr],
            pex_messages: 1,
            ..Script::default()
        },
    )
    .await;
    let (_root, layout) = charlie_root(&data, &info);
    let mut opts = CharlieOptions::new(layout, 0);
    opts.discovery = Some(vec![SourceKind::Pex]);
    opts.file = Some(FileRef {
        file_id: info.info_hash,
        name: None,
        peers: vec![alice.addr],
        magnet: true,
    });
    let r = run(&opts).await.unwrap();
    assert_eq!(r.identical, Some(true));
    let pex = source(&r.discovery, "pex");
    assert!(pex.ok, "{pex:?}");
    assert_eq!((pex.connections, pex.new_peers), (2, 1), "{pex:?}");
    assert_eq!(chunks_from(&r, alice.addr), 6);
    assert_eq!(chunks_from(&r, bob.addr), 6);
}

#[tokio::test]
async fn a_chunk_missing_everywhere_known_is_found_by_its_hash_during_the_download() {
    // file.ini lists only Alice; she lost chunk 5. Bob, whom nobody lists, announced
    // that chunk's hash in the DHT. No file id is known: the lookup is by chunk hash.
    let net = net("127.165.0.1").await;
    let boot = net[0].local_addr();
    let data = data();
    let info = info_of("r.bin", &data, CHUNK);
    let (root, layout) = charlie_root(&data, &info);
    let alice = peer(
        &root.path().join("chunks/alice"),
        "127.165.1.1",
        &data,
        &info,
        |i| i != 5,
        Script::default(),
    )
    .await;
    let bob = peer(
        &root.path().join("chunks/bob"),
        "127.165.1.2",
        &data,
        &info,
        |i| i == 5,
        Script::default(),
    )
    .await;
    let _b = announce("127.165.1.2", boot, info.pieces[5], bob.addr.port()).await;
    let peers = crate::config::PeersIni {
        entries: vec![(
            "alice".into(),
            match alice.addr {
                SocketAddr::V4(a) => a,
                SocketAddr::V6(_) => unreachable!(),
            },
        )],
    };
    let file = crate::config::FileIni {
        filename: info.name.clone(),
        chunks: info.pieces.clone(),
        chunk_peers: vec![vec!["alice".into()]; CHUNKS],
    };
    std::fs::create_dir_all(root.path().join("config")).unwrap();
    std::fs::write(layout.peers_ini(), peers.to_text()).unwrap();
    std::fs::write(layout.file_ini(), file.to_text()).unwrap();
    let mut opts = trackerless(&layout, &info, "127.165.2.1", boot);
    opts.step = 1;
    opts.file = None;
    opts.discovery = Some(vec![SourceKind::Config, SourceKind::Dht]);
    let r = run(&opts).await.unwrap();
    assert_eq!(r.identical, Some(true));
    assert_eq!(r.download.refills, 1);
    let refill: Vec<&StepReport> = r
        .discovery
        .iter()
        .filter(|s| s.phase == Phase::Refill)
        .collect();
    assert_eq!(
        refill.iter().map(|s| s.source.as_str()).collect::<Vec<_>>(),
        ["config", "dht"]
    );
    assert!(
        refill[1].ok && refill[1].peers_added == 1,
        "{:?}",
        refill[1]
    );
    assert!(
        refill[1].detail.contains("1 chunk lookup"),
        "{}",
        refill[1].detail
    );
    assert_eq!(chunks_from(&r, bob.addr), 1);
    assert_eq!(chunks_from(&r, alice.addr), (CHUNKS - 1) as u64);
}

/// A course peer whose every CHUNK carries the hash asked for and wrong content.
async fn liar(ip: &str) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind(format!("{ip}:0"))
        .await
        .unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut req = [0u8; 28];
                while s.read_exact(&mut req).await.is_ok() {
                    let hash: [u8; 20] = req[8..28].try_into().unwrap();
                    let mut reply = swarmlab_course_wire::chunk_prefix(&hash, 8).to_vec();
                    reply.extend_from_slice(b"notthis!");
                    if s.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn dht_peers_that_lie_hold_nothing_or_never_answer_cost_nothing_but_failures() {
    let net = net("127.166.0.1").await;
    let boot = net[0].local_addr();
    let data = data();
    let info = info_of("h.bin", &data, CHUNK);
    let d = tempfile::tempdir().unwrap();
    // Alice's bitfield leaves out chunk 3 (she serves it all the same): for chunk 3
    // Charlie first has only the peers the DHT named for the file id.
    let alice = peer(
        &d.path().join("a"),
        "127.166.1.1",
        &data,
        &info,
        |_| true,
        Script {
            pieces: Some((0..CHUNKS).filter(|&i| i != 3).collect()),
            ..Script::default()
        },
    )
    .await;
    // Announced for the file id besides Alice: a liar (wrong content for every
    // hash), a peer that holds nothing and speaks no BitTorrent, and an address
    // where nothing listens.
    let liar = liar("127.166.1.2").await;
    let empty = test_peer::start("127.166.1.3:0", d.path().join("empty"), Script::default()).await;
    let silent: SocketAddr = {
        let l = std::net::TcpListener::bind("127.166.1.4:0").unwrap();
        l.local_addr().unwrap()
    };
    let a = announce("127.166.1.1", boot, info.info_hash.0, alice.addr.port()).await;
    // Alice also announced chunk 3's own hash: the refill finds her by it.
    a.announce(Id(info.pieces[3]), Some(alice.addr.port()))
        .await
        .unwrap();
    let _n = [
        announce("127.166.1.2", boot, info.info_hash.0, liar.port()).await,
        announce("127.166.1.3", boot, info.info_hash.0, empty.addr.port()).await,
        announce("127.166.1.4", boot, info.info_hash.0, silent.port()).await,
    ];
    let (_root, layout) = charlie_root(&data, &info);
    let opts = trackerless(&layout, &info, "127.166.2.1", boot);
    let r = run(&opts).await.unwrap();
    assert_eq!(r.identical, Some(true));
    assert_eq!(source(&r.discovery, "dht").new_peers, 4);
    assert_eq!(chunks_from(&r, alice.addr), CHUNKS as u64);
    let failures = |a: SocketAddr, k: FailureKind| {
        r.download
            .peers
            .iter()
            .find(|p| p.addr == a.to_string())
            .and_then(|p| p.failures.get(&k).copied())
            .unwrap_or(0)
    };
    // The wrong content was dropped and counted, the empty peer said CHUNK_NOT_FOUND,
    // the silent one was given up; chunk 3 came from Alice, found by its hash.
    assert!(
        failures(liar, FailureKind::BadDigest) >= 1,
        "{:?}",
        r.download.peers
    );
    assert!(
        failures(empty.addr, FailureKind::NotFound) >= 1,
        "{:?}",
        r.download.peers
    );
    assert_eq!(
        failures(silent, FailureKind::Connection),
        3,
        "{:?}",
        r.download.peers
    );
    assert_eq!(r.download.refills, 1);
    let dht_refill = r
        .discovery
        .iter()
        .find(|s| s.phase == Phase::Refill && s.source == "dht")
        .unwrap();
    assert!(dht_refill.peers_added >= 1, "{dht_refill:?}");
}

#[tokio::test]
async fn with_no_bootstrap_the_dht_starts_from_the_port_a_known_peer_announced() {
    // Charlie knows Alice (a magnet's x.pe) and no DHT node; Alice's BEP 5 `port`
    // message names her DHT node, from which Charlie finds Bob.
    let net = net("127.167.0.1").await;
    let boot = net[0].local_addr();
    let data = data();
    let info = info_of("b.bin", &data, CHUNK);
    let d = tempfile::tempdir().unwrap();
    let alice_dht = {
        let mut c = DriverConfig::new("127.167.1.1:0".parse().unwrap());
        c.node = node_cfg();
        c.bootstrap = vec![boot.to_string()];
        let n = Dht::start(c).await.unwrap();
        n.wait_for_nodes(3, Duration::from_secs(10)).await.unwrap();
        n
    };
    let alice = peer(
        &d.path().join("a"),
        "127.167.1.1",
        &data,
        &info,
        |i| i < 6,
        Script {
            dht_port: Some(alice_dht.local_addr().port()),
            ..Script::default()
        },
    )
    .await;
    let bob = peer(
        &d.path().join("b"),
        "127.167.1.2",
        &data,
        &info,
        |i| i >= 6,
        Script::default(),
    )
    .await;
    let _b = announce("127.167.1.2", boot, info.info_hash.0, bob.addr.port()).await;
    let (_root, layout) = charlie_root(&data, &info);
    let mut opts = CharlieOptions::new(layout, 0);
    opts.discovery = Some(vec![SourceKind::Dht]);
    opts.file = Some(FileRef {
        file_id: info.info_hash,
        name: None,
        peers: vec![alice.addr],
        magnet: true,
    });
    opts.dht = DhtOptions::new("127.167.2.1:0".parse().unwrap(), Vec::new());
    let r = run(&opts).await.unwrap();
    assert_eq!(r.identical, Some(true));
    let dht = source(&r.discovery, "dht");
    assert!(dht.ok, "{dht:?}");
    assert!(
        dht.detail.contains("the DHT ports of peers visited now"),
        "{}",
        dht.detail
    );
    assert_eq!((dht.connections, dht.new_peers), (1, 1), "{dht:?}");
    assert_eq!(chunks_from(&r, alice.addr), 6);
    assert_eq!(chunks_from(&r, bob.addr), 6);
}
