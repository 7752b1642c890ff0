//! The auditor against real libtorrent peers on loopback (tests/python/swarm.py),
//! with our own HTTP and UDP trackers.

mod common;

use common::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use swarmlab_audit::{
    audit, run_to, AuditArgs, DhtLookup, FailureReason, PeerRecord, RoundReport, StaticDht,
};

fn fast_args(target: &str) -> AuditArgs {
    let mut a = AuditArgs::new(target);
    a.no_dht = true;
    a.connect_timeout = 1.0;
    a.peer_budget = 20.0;
    a.linger = 0.3;
    a.tracker_timeout = 5.0;
    a.udp_timeout = 0.2;
    a.udp_retries = 3;
    a.quiet = true;
    a
}

fn by_addr(r: &RoundReport) -> HashMap<SocketAddr, &PeerRecord> {
    r.peers
        .iter()
        .map(|p| (p.addr.parse().unwrap(), p))
        .collect()
}

fn assert_libtorrent(p: &PeerRecord) {
    let prefix = p.peer_id_prefix.as_deref().unwrap_or("");
    assert!(prefix.starts_with("-LT20"), "peer id {prefix}");
    let name = p.client_from_peer_id.as_deref().unwrap_or("");
    assert!(
        name.starts_with("libtorrent (Rasterbar) 2.0"),
        "client {name}"
    );
    let v = p.client_version.as_deref().unwrap_or("");
    assert!(v.starts_with("libtorrent/2.0"), "v {v}");
    assert!(p.supports_extensions && p.supports_fast, "{p:?}");
    for e in ["ut_metadata", "ut_pex"] {
        assert!(
            p.extensions.iter().any(|x| x == e),
            "{e} missing: {:?}",
            p.extensions
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torrent_via_http_and_udp_trackers_finds_every_peer() {
    let swarm = start_swarm(&["--seeds", "2", "--leechers", "0.5,0.25,0", "--pieces", "40"]);
    let ih = info_hash_bytes(&swarm.info.info_hash);
    let addrs: Vec<SocketAddr> = swarm.info.peers.iter().map(|p| p.addr).collect();
    // A port where nothing listens.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut http_peers = addrs[..3].to_vec();
    http_peers.push(dead);
    let http = http_tracker(ih, http_peers, None).await;
    // The UDP tracker ignores its first packet: the client must retry.
    let udp = udp_tracker(ih, addrs[2..].to_vec(), 1).await;
    let failing = http_tracker(ih, vec![], Some("torrent not registered")).await;

    let mut args = fast_args(swarm.info.torrent.to_str().unwrap());
    args.trackers = vec![http.url.clone(), udp.url.clone(), failing.url.clone()];
    // The DHT source, as the binary plugs swarmlab's node in: names the last two peers.
    args.no_dht = false;
    let dht: Arc<dyn DhtLookup> = Arc::new(StaticDht(addrs[3..].to_vec()));
    let r = audit(&args, Some(dht)).await.unwrap();

    assert_eq!(r.info_hash, swarm.info.info_hash);
    assert_eq!(r.num_pieces, Some(swarm.info.num_pieces));
    let peers = by_addr(&r);
    assert_eq!(peers.len(), addrs.len() + 1, "{:#?}", r.peers);
    for sp in &swarm.info.peers {
        let p = peers[&sp.addr];
        assert!(p.reached, "{p:#?}");
        assert_eq!(p.pieces_have, Some(sp.pieces), "{p:#?}");
        assert!((p.completion.unwrap() - sp.completion).abs() < 1e-9);
        assert_eq!(p.seed, Some(sp.seed));
        assert_libtorrent(p);
        let i = addrs.iter().position(|a| *a == sp.addr).unwrap();
        assert_eq!(
            p.sources.contains(&"http_tracker".to_string()),
            i < 3,
            "{:?}",
            p.sources
        );
        assert_eq!(
            p.sources.contains(&"udp_tracker".to_string()),
            i >= 2,
            "{:?}",
            p.sources
        );
        assert_eq!(
            p.sources.contains(&"dht".to_string()),
            i >= 3,
            "{:?}",
            p.sources
        );
        assert_eq!(
            p.ext.as_ref().and_then(|e| e.yourip.clone()).as_deref(),
            Some("127.0.0.1")
        );
    }
    let d = peers[&dead];
    assert!(!d.reached);
    assert_eq!(d.failure.as_ref().unwrap().reason, FailureReason::Refused);

    let s = &r.summary;
    assert_eq!((s.reached, s.failed, s.seeds, s.leechers), (5, 1, 2, 3));
    assert_eq!(s.failed_by_reason.get("refused"), Some(&1));
    assert_eq!(s.found_by_source.get("http_tracker"), Some(&4));
    assert_eq!(s.found_by_source.get("udp_tracker"), Some(&3));
    assert_eq!(s.found_by_source.get("dht"), Some(&2));
    assert!(r
        .sources
        .iter()
        .any(|x| x.kind == "dht" && x.ok && x.peers == 2));
    assert_eq!(s.extensions.get("ut_metadata"), Some(&5));
    assert_eq!(s.clients.values().sum::<usize>(), 5);
    let av = s.availability.as_ref().unwrap();
    assert!(av.min >= 2, "two seeds: every piece has at least 2 copies");
    assert!(av.mean > 2.0 && av.mean < 3.0 + 1e-9);

    let src = |u: &str| r.sources.iter().find(|s| s.url == u).unwrap();
    assert!(src(&http.url).ok && src(&http.url).peers == 4);
    let u = src(&udp.url);
    assert!(u.ok && u.peers == 3, "{u:?}");
    assert!(
        u.attempts >= 2,
        "the dropped packet must have been retried: {u:?}"
    );
    let f = src(&failing.url);
    assert!(
        !f.ok
            && f.error
                .as_deref()
                .unwrap()
                .contains("torrent not registered"),
        "{f:?}"
    );
    assert_eq!(http.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_fetches_metadata_and_probed_pieces_verify() {
    let swarm = start_swarm(&[
        "--seeds",
        "1",
        "--leechers",
        "0.5",
        "--pieces",
        "24",
        "--piece-size",
        "32768",
    ]);
    let seed = swarm.info.peers.iter().find(|p| p.seed).unwrap().clone();
    let leech = swarm.info.peers.iter().find(|p| !p.seed).unwrap().clone();
    let magnet = format!(
        "magnet:?xt=urn:btih:{}&dn=payload&x.pe={}",
        swarm.info.info_hash.to_uppercase(),
        seed.addr
    );
    let mut args = fast_args(&magnet);
    args.peers = vec![leech.addr];
    args.probe_pieces = 3;
    let r = audit(&args, None).await.unwrap();
    assert!(r.metadata_fetched, "{r:#?}");
    assert_eq!(r.num_pieces, Some(swarm.info.num_pieces));
    assert_eq!(r.piece_length, Some(32768));
    assert_eq!(r.name.as_deref(), Some("payload"));
    let peers = by_addr(&r);
    let s = peers[&seed.addr];
    let l = peers[&leech.addr];
    assert!(s.sources == vec!["magnet".to_string()], "{:?}", s.sources);
    assert!(l.sources == vec!["manual".to_string()]);
    assert!(
        s.metadata.as_deref() == Some("fetched") || l.metadata.as_deref() == Some("fetched"),
        "one of them served the info dictionary"
    );
    // Completion is known for both even if the bitfield arrived before the metadata.
    assert_eq!(s.seed, Some(true));
    assert_eq!(l.pieces_have, Some(leech.pieces));
    for (p, _sp) in [(s, &seed), (l, &leech)] {
        assert_libtorrent(p);
        let probe = p
            .probe
            .as_ref()
            .unwrap_or_else(|| panic!("no probe: {p:#?}"));
        assert!(probe.unchoked, "{probe:?}");
        assert_eq!(probe.pieces_wanted, 3);
        assert_eq!(probe.pieces_verified, 3, "{probe:?}");
        assert_eq!(probe.pieces_failed, 0);
        assert_eq!(probe.bytes, 3 * 32768);
        assert!(probe.rate_bps.unwrap() > 0.0);
    }
    assert_eq!(r.summary.probed_pieces_verified, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pex_from_one_peer_finds_the_others() {
    // Leechers connected to each other; we are told about one of them only.
    let swarm = start_swarm(&[
        "--seeds",
        "0",
        "--leechers",
        "0.5,0.25,0.75,0.5",
        "--pieces",
        "16",
        "--mesh",
    ]);
    let first = swarm.info.peers[0].addr;
    let mut args = fast_args(swarm.info.torrent.to_str().unwrap());
    args.peers = vec![first];
    args.linger = 4.0;
    let r = audit(&args, None).await.unwrap();
    let peers = by_addr(&r);
    assert_eq!(peers.len(), swarm.info.peers.len(), "{:#?}", r.peers);
    let f = peers[&first];
    assert!(f.pex_messages >= 1, "{f:#?}");
    for sp in &swarm.info.peers[1..] {
        let p = peers[&sp.addr];
        assert!(p.sources.contains(&"pex".to_string()), "{:?}", p.sources);
        assert!(p.reached);
        assert_eq!(p.pieces_have, Some(sp.pieces));
        assert!(
            f.pex_neighbours.contains(&sp.addr.to_string()),
            "{:?}",
            f.pex_neighbours
        );
    }
    // The first peer may also be named by the others it led us to.
    assert!(r.summary.found_by_source["pex"] >= swarm.info.peers.len() - 1);
    assert_eq!(r.summary.found_by_source["manual"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haves_over_time_give_a_rate_and_watch_reports_completion_changes() {
    // A seed and a downloader limited to 64 KiB/s: 16 KiB pieces, about 4 haves a second.
    let swarm = start_swarm(&[
        "--seeds",
        "1",
        "--downloaders",
        "1",
        "--download-rate",
        "65536",
        "--pieces",
        "128",
        "--mesh",
    ]);
    let dl = swarm
        .info
        .peers
        .iter()
        .find(|p| p.role == "download")
        .unwrap()
        .addr;
    let mut args = fast_args(swarm.info.torrent.to_str().unwrap());
    args.peers = swarm.info.peers.iter().map(|p| p.addr).collect();
    args.linger = 2.5;
    args.json = true;
    args.watch = Some(1);
    args.rounds = 2;
    let mut out = Vec::new();
    run_to(args, None, &mut out).await.unwrap();
    let rounds: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rounds.len(), 2);
    let peer = |round: usize| {
        rounds[round]["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["addr"] == dl.to_string())
            .unwrap()
            .clone()
    };
    let p1 = peer(0);
    let events = p1["have_events"].as_array().unwrap();
    assert!(events.len() >= 3, "{p1:#}");
    let rate = p1["have_rate_bps"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rate: {p1:#}"));
    assert!(
        (10_000.0..400_000.0).contains(&rate),
        "rate {rate} for a 64 KiB/s limit"
    );
    let c1 = p1["completion"].as_f64().unwrap();
    let c2 = peer(1)["completion"].as_f64().unwrap();
    assert!(c1 > 0.0 && c2 > c1 && c2 < 1.0, "{c1} -> {c2}");
    let changes = rounds[1]["churn"]["completion_changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c[0] == dl.to_string() && c[2].as_f64() > c[1].as_f64()),
        "{changes:?}"
    );
    assert_eq!(rounds[1]["churn"]["joined"], serde_json::json!([]));
    assert_eq!(rounds[1]["churn"]["left"], serde_json::json!([]));
}
