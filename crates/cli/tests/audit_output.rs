//! `swarmlab audit`'s outputs against a real libtorrent swarm (a seed and a
//! leecher on 127.0.0.220-221): JSON per round, CSV (header once, a `round`
//! column), the table, and clear errors with a failure exit status for bad input.

use std::process::Command;

use swarmlab_tests::swarm::start_swarm;

const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

fn audit(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("audit")
        .args([
            "--quiet",
            "--no-dht",
            "--linger",
            "0.3",
            "--connect-timeout",
            "1",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn json_csv_and_table_of_every_round() {
    let swarm = start_swarm(&[
        "--seeds",
        "1",
        "--leechers",
        "0.5",
        "--pieces",
        "16",
        "--first-octet",
        "220",
    ]);
    let torrent = swarm.info.torrent.to_str().unwrap().to_string();
    let (seed, leech) = (
        swarm.info.peers[0].addr.to_string(),
        swarm.info.peers[1].addr.to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("peers.csv");
    let out = audit(&[
        &torrent,
        "--peer",
        &seed,
        "--peer",
        &leech,
        "--json",
        "--watch",
        "1",
        "--rounds",
        "2",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rounds: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rounds.len(), 2, "one compact document per round");
    for (i, r) in rounds.iter().enumerate() {
        assert_eq!(r["round"], i + 1);
        assert_eq!(r["summary"]["reached"], 2, "{r:#}");
        assert_eq!(r["summary"]["seeds"], 1);
    }
    assert_eq!(rounds[0]["churn"], serde_json::Value::Null);
    assert_eq!(rounds[1]["churn"]["left"], serde_json::json!([]));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("round,addr,sources,reached"), "{csv}");
    assert_eq!(lines.len(), 1 + 2 + 2, "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("2,{seed},manual,true"))),
        "{csv}"
    );

    // One round: the table, and CSV to a file through a temporary name.
    let csv2 = dir.path().join("once.csv");
    let out = audit(&[&torrent, "--peer", &seed, "--csv", csv2.to_str().unwrap()]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("ADDRESS") && table.contains(&seed),
        "{table}"
    );
    assert!(
        table.contains("libtorrent/2.0") && table.contains("seed"),
        "{table}"
    );
    assert!(table.contains("reached: 1"), "{table}");
    assert_eq!(std::fs::read_to_string(&csv2).unwrap().lines().count(), 2);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // CSV on stdout replaces the table.
    let out = audit(&[&torrent, "--peer", &seed, "--csv", "-"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("round,addr,"), "{text}");
    assert!(!text.contains("ADDRESS"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.torrent");
    std::fs::write(&bad, b"d4:infod6:lengthi5e").unwrap();
    for (target, want) in [
        (bad.to_str().unwrap(), "invalid .torrent"),
        ("magnet:?xt=urn:btih:xyz", "invalid magnet link"),
        ("not-a-thing", "TARGET must be"),
    ] {
        let out = audit(&[target]);
        assert!(!out.status.success(), "{target}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{target}: {err}");
    }
    let out = audit(&[
        "c12fe1c06bba254a9dc9f519b335aa7c1367a88a",
        "--csv",
        "/nonexistent/dir/x.csv",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create CSV file"));
}
