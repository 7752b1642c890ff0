//! The chain in the middle of a download: the tracker and the only peer it lists are
//! killed while Charlie downloads; Charlie runs the chain again and finishes through
//! the DHT, with a peer nobody listed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

#[test]
fn the_tracker_and_a_peer_killed_mid_download_charlie_finishes_through_the_dht() {
    let (_net, boot) = testnet("127.183.0.1", 8);
    let r = root("127.183.1");
    let data = r.file("m.bin", 3_000 * 512, 512);
    // Alice and Bob both hold every chunk; file.ini lists only Alice. Bob announces
    // the file id in the DHT.
    for n in r
        .chunk_names("alice")
        .into_iter()
        .chain(r.chunk_names("bob"))
    {
        for who in ["alice", "bob"] {
            let (src, dst) = (
                r.path().join("chunks/alice").join(&n),
                r.path().join("chunks").join(who).join(&n),
            );
            let src = if src.exists() {
                src
            } else {
                r.path().join("chunks/bob").join(&n)
            };
            if !dst.exists() {
                std::fs::copy(src, dst).unwrap();
            }
        }
    }
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    r.write(
        "config/file.ini",
        ini.replace("= alice, bob\n", "= alice\n")
            .replace("= bob\n", "= alice\n")
            .as_bytes(),
    );
    let mut tracker = r.spawn(&["tracker", "--no-discovery"]);
    wait_tcp("127.183.1.1:8000");
    let mut alice = r.spawn(&["peer", "alice"]);
    wait_tcp("127.183.1.2:8001");
    let _bob = dht_peer(&r, "bob", "127.183.1.3:8002", &boot, &[]);
    let (id, _) = file_id(&r);
    wait_announced(&id, &boot, "127.183.9.1:0", &["127.183.1.3:8002"]);
    r.write("files/m.bin", &data);
    let mut c = Command::new(BIN)
        .arg("--root")
        .arg(r.path())
        .args(["charlie", "--discovery", "tracker,broadcast,dht,pex"])
        .args([
            "--broadcast",
            "127.255.255.255",
            "--discovery-port",
            "19183",
        ])
        .args([
            "--dht-bootstrap",
            &boot,
            "--dht-bind",
            "127.183.2.1:0",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // As soon as the first chunk is on disk, the tracker and Alice die.
    let dir = r.path().join("chunks/charlie");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&dir).map_or(0, |d| d.count()) == 0 {
        assert!(Instant::now() < deadline, "no chunk arrived");
        thread::sleep(Duration::from_millis(1));
    }
    let _ = tracker.0.kill();
    let _ = alice.0.kill();
    let _ = tracker.0.wait();
    let _ = alice.0.wait();
    let mut out = String::new();
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let status = c.wait().unwrap();
    let rep: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(status.success(), "{rep:#}");
    assert_eq!(rep["identical"], true);
    assert_eq!(
        rep["chain"],
        serde_json::json!(["torrent", "tracker", "broadcast", "dht", "metadata", "pex"])
    );
    assert!(rep["download"]["refills"].as_u64().unwrap() >= 1, "{rep:#}");
    // At the start the tracker answered and listed only Alice; in the refill the
    // tracker was gone, no tracker answered the broadcast, and the DHT found Bob.
    let tracker_runs = runs(&rep, "tracker");
    assert_eq!(tracker_runs[0]["phase"], "start");
    assert_eq!(tracker_runs[0]["ok"], true);
    assert!(
        tracker_runs[1..]
            .iter()
            .all(|t| t["phase"] == "refill" && t["ok"] == false),
        "{rep:#}"
    );
    assert!(
        runs(&rep, "broadcast").iter().all(|b| b["ok"] == false),
        "{rep:#}"
    );
    let dht = runs(&rep, "dht");
    assert_eq!(dht[0]["phase"], "refill", "{rep:#}");
    assert_eq!(dht[0]["ok"], true, "{rep:#}");
    assert!(dht[0]["new_peers"].as_u64().unwrap() >= 1, "{rep:#}");
    let from_bob = chunks_from(&rep, "127.183.1.3:8002");
    let from_alice = chunks_from(&rep, "127.183.1.2:8001");
    assert!(from_bob > 0 && from_alice > 0, "{rep:#}");
    assert_eq!(from_alice + from_bob, 3_000);
}
