//! The acceptance tests: a real libtorrent client downloads the course file from
//! Alice and Bob by magnet link alone, with no tracker, finding them through the
//! DHT (a testnet of ours; libtorrent's own PEX switched off), and, knowing only
//! Alice, finding Bob through her PEX.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::*;

/// 10 chunks of 40,000 bytes (not a power of two): chunks 0-3 only Alice has, 4-6
/// both, 7-9 only Bob.
fn course_file(r: &Root) -> (Vec<u8>, String) {
    let (data, magnet) = r.file("f.bin", 390_000, 40_000);
    assert_eq!(r.chunk_names("alice").len(), 7);
    assert_eq!(r.chunk_names("bob").len(), 6);
    (data, magnet)
}

fn check_download(report: &serde_json::Value, r: &Root, data: &[u8], save: &std::path::Path) {
    assert_eq!(report["done"], true, "{report}");
    assert_eq!(report["metadata"], true, "{report}");
    assert_eq!(std::fs::read(save.join("f.bin")).unwrap(), data);
    let (from_alice, from_bob) = (
        pieces_from(report, &r.alice()),
        pieces_from(report, &r.bob()),
    );
    // Each served only what it has, and each served what only it has.
    assert!(from_alice.iter().all(|p| *p <= 6), "{report}");
    assert!(from_bob.iter().all(|p| *p >= 4), "{report}");
    let all: BTreeSet<u64> = from_alice.iter().chain(&from_bob).copied().collect();
    assert_eq!(all, (0..10).collect(), "{report}");
}

#[test]
fn libtorrent_downloads_by_magnet_alone_finding_alice_and_bob_through_the_dht() {
    let r = Root::new(161);
    let (data, magnet) = course_file(&r);
    let id = file_id_of(&magnet);
    let net = testnet(161, 8);
    let bs = net.bootstrap.clone();
    let _alice = r.spawn(&["peer", "alice", "--dht", "--dht-bootstrap", &bs]);
    let _bob = r.spawn(&["peer", "bob", "--dht", "--dht-bootstrap", &bs]);
    eventually(
        "Alice and Bob announced the file id",
        Duration::from_secs(60),
        || {
            let found = dht_peers(&id, "127.161.0.20:0", &bs);
            found.contains(&r.alice()) && found.contains(&r.bob())
        },
    );
    // The magnet link names no peer and no tracker.
    let bare = format!("magnet:?xt=urn:btih:{id}&dn=f.bin");
    let save = tempfile::tempdir().unwrap();
    let report = lt_fetch(
        &bare,
        save.path(),
        "127.161.0.9",
        &["--dht-bootstrap", &bs, "--no-pex"],
    );
    check_download(&report, &r, &data, save.path());
    assert!(report["dht_nodes"].as_u64().unwrap() > 0, "{report}");
}

#[test]
fn libtorrent_knowing_only_alice_finds_bob_through_her_pex() {
    let r = Root::new(162);
    let (data, magnet) = course_file(&r);
    let _alice = r.spawn(&["peer", "alice"]);
    let _bob = r.spawn(&["peer", "bob"]);
    wait_tcp(&r.alice());
    wait_tcp(&r.bob());
    let only_alice = format!(
        "magnet:?xt=urn:btih:{}&dn=f.bin&x.pe={}",
        file_id_of(&magnet),
        r.alice()
    );
    let save = tempfile::tempdir().unwrap();
    let report = lt_fetch(&only_alice, save.path(), "127.162.0.9", &["--no-dht"]);
    check_download(&report, &r, &data, save.path());
    assert_eq!(report["dht_nodes"], 0, "{report}");
}
