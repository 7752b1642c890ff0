//! Trackerless: `swarmlab charlie --magnet URI` with no configuration file and no
//! tracker (DHT → peers → metadata → GET_CHUNK/CHUNK), and killed and resumed so.

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

#[test]
fn a_magnet_alone_downloads_the_file_with_no_configuration_and_no_tracker() {
    let s = announced(181, "t.bin", 600_000, 16_384);
    let c = bare_root("t.bin", &s.data);
    let (rep, ok) = charlie(&c, &s.trackerless_args("127.181.2.1:0"));
    assert!(ok, "{rep:#}");
    assert_eq!(rep["step"], 4);
    assert_eq!(rep["identical"], true);
    assert_eq!(rep["file_id"], s.id.as_str());
    assert_eq!(
        rep["chain"],
        serde_json::json!(["magnet", "dht", "metadata", "pex"])
    );
    let dht = runs(&rep, "dht");
    assert_eq!(dht[0]["ok"], true, "{rep:#}");
    assert_eq!(dht[0]["new_peers"], 2, "{rep:#}");
    assert!(dht[0]["datagrams"].as_u64().unwrap() > 0);
    assert_eq!(runs(&rep, "metadata")[0]["ok"], true, "{rep:#}");
    // Each peer's bitfield was read: nobody was asked for a chunk it lacks.
    let (a, b) = (
        chunks_from(&rep, "127.181.1.2:8001"),
        chunks_from(&rep, "127.181.1.3:8002"),
    );
    assert_eq!(a + b, rep["download"]["chunks"].as_u64().unwrap());
    assert!(a > 0 && b > 0, "{rep:#}");
    for p in rep["download"]["peers"].as_array().unwrap() {
        assert_eq!(p["failures"], serde_json::json!({}), "{p}");
    }
    assert!(
        !c.path().join("config").exists(),
        "trackerless Charlie writes no configuration"
    );
}

#[test]
fn charlie_killed_and_resumed_in_trackerless_mode_loses_nothing() {
    // Many small chunks, so that the download lasts long enough to be killed.
    let s = announced(182, "k.bin", 3_000 * 512, 512);
    let c = bare_root("k.bin", &s.data);
    let mut first = Command::new(BIN)
        .arg("--root")
        .arg(c.path())
        .arg("charlie")
        .args(s.trackerless_args("127.182.2.1:0"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = c.path().join("chunks/charlie");
    let count = || {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".bin"))
                    .count()
            })
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() < 50 {
        assert!(
            first.try_wait().unwrap().is_none(),
            "Charlie ended before 50 chunks were on disk"
        );
        assert!(Instant::now() < deadline, "no chunk arrived");
        thread::sleep(Duration::from_millis(1));
    }
    assert!(
        first.try_wait().unwrap().is_none(),
        "Charlie finished before it could be killed: make the file larger"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let kept = count();
    assert!((50..3_000).contains(&kept), "{kept}");
    let (rep, ok) = charlie(&c, &s.trackerless_args("127.182.2.2:0"));
    assert!(ok, "{rep:#}");
    assert_eq!(rep["identical"], true);
    let dl = &rep["download"];
    let resumed = dl["resumed_chunks"].as_u64().unwrap();
    let fetched = dl["fetched_chunks"].as_u64().unwrap();
    // Every chunk file the killed run left is whole (written under a temporary name,
    // then renamed), verified and kept.
    assert_eq!(resumed, kept as u64);
    assert!(fetched >= 1, "{dl}");
    assert_eq!(resumed + fetched, 3_000);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
