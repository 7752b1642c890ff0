//! BEP 51 with libtorrent: `swarmlab crawl` over a loopback network of libtorrent and
//! swarmlab nodes finds the info-hashes announced in it (by libtorrent clients and by
//! `swarmlab lookup --announce`), asking each node once; and libtorrent's own
//! `sample_infohashes` reads our node's answer. Networks on 127.58.0.0/16 and
//! 127.59.0.0/16.

mod lt_net;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lt_net::{lookup, run_json, LtNet, OurNode};

#[test]
fn the_crawl_finds_what_libtorrent_and_swarmlab_nodes_announced() {
    let mut lt = LtNet::start(8, "127.58.0.1", 7400, &[]);
    lt.settle();
    let boot = lt.addr(0);
    let mut a = OurNode::start("127.58.1.1:7400", std::slice::from_ref(&boot));
    let mut b = OurNode::start("127.58.1.2:7400", std::slice::from_ref(&boot));
    assert!(a.wait_table(8, Duration::from_secs(30)) >= 8);
    assert!(b.wait_table(8, Duration::from_secs(30)) >= 8);
    // Three torrents added in libtorrent clients, two announced by swarmlab.
    let lt_hashes = [
        "58a1000000000000000000000000000000000001",
        "58a2000000000000000000000000000000000002",
        "58a3000000000000000000000000000000000003",
    ];
    for (i, ih) in lt_hashes.iter().enumerate() {
        lt.announce(i + 1, ih);
    }
    let our_hashes = [
        "58b1000000000000000000000000000000000001",
        "58b2000000000000000000000000000000000002",
    ];
    for ih in our_hashes {
        let r = lookup(ih, "127.58.2.1:0", &boot, &["--announce", "6000"]);
        assert!(r["announced"].as_u64().unwrap() > 0, "{r}");
    }
    // libtorrent announces asynchronously: wait until each of its torrents has a peer.
    for ih in lt_hashes {
        let deadline = Instant::now() + Duration::from_secs(30);
        while lt.get_peers(0, ih, 3.0).is_empty() {
            assert!(Instant::now() < deadline, "libtorrent never announced {ih}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("found.csv");
    let (r, ok) = run_json(&[
        "crawl",
        "--bind",
        "127.58.3.1:0",
        "--bootstrap",
        &boot,
        "--duration",
        "30s",
        "--rate",
        "50",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(ok, "{r}");
    let found: HashSet<String> = r["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["info_hash"].as_str().unwrap().to_string())
        .collect();
    for ih in lt_hashes.iter().chain(&our_hashes) {
        assert!(found.contains(*ih), "{ih} not found by the crawl: {r}");
    }
    // Of the ten nodes (8 libtorrent, 2 ours), those the walk met answered BEP 51 (a
    // random walk of ten queries may miss one or two); the one-shot lookup clients
    // that libtorrent keeps in its tables are gone and time out. Each node is asked
    // once: the intervals are hours, and a silent node's retry comes after 60 s.
    let bep51 = r["nodes_bep51"].as_u64().unwrap();
    assert!((8..=10).contains(&bep51), "{r}");
    assert_eq!(
        r["nodes_contacted"], r["queries"],
        "a node asked twice: {r}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("info_hash,first_seen_s,nodes\n"));
    assert_eq!(text.lines().count(), found.len() + 1);
    drop((a, b));
}

#[test]
fn libtorrent_reads_our_sample_infohashes_answer() {
    let mut lt = LtNet::start(4, "127.59.0.1", 7400, &[]);
    lt.settle();
    let mut ours = OurNode::start("127.59.1.1:7400", &[lt.addr(0)]);
    assert!(ours.wait_table(4, Duration::from_secs(30)) >= 4);
    let ih = "59c1000000000000000000000000000000000001";
    // Announce to our node (among others) until it stores the peer.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        lookup(ih, "127.59.2.1:0", &lt.addr(0), &["--announce", "6001"]);
        let s = ours
            .stats(Duration::from_secs(2))
            .cloned()
            .unwrap_or_default();
        if s["info_hashes_stored"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "our node stored nothing: {s}");
    }
    let v = lt.cmd(
        &format!("sample 1 {} {ih}", ours.addr),
        Duration::from_secs(20),
    );
    assert_eq!(v["num"], 1, "{v}");
    assert_eq!(v["samples"], serde_json::json!([ih]), "{v}");
    let interval = v["interval"].as_u64().unwrap();
    assert!(interval > 21_000 && interval <= 21_600, "{v}");
    assert!(v["nodes"].as_u64().unwrap() >= 1, "{v}");
}
