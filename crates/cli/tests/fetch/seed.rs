//! `swarmlab seed` found the ways a swarm finds a seed (an HTTP tracker, a UDP
//! tracker, the DHT from a magnet link alone), and `fetch --seed` serving what it
//! fetched to a libtorrent client. Addresses: 127.60.4.x to 127.60.8.x.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::*;

/// libtorrent's download limit where a test looks at how it learnt of a peer: the
/// 1.2 MB take about 2 s, long enough for `lt_fetch.py` to see the connection.
const SLOW: &str = "600000";

/// `swarmlab seed` of a 1.2 MB file of its own.
struct Seeded {
    _src: tempfile::TempDir,
    file: PathBuf,
    magnet: String,
    /// Where it serves.
    addr: SocketAddr,
    _seed: Running,
}

impl Seeded {
    /// `swarmlab seed FILE ARGS`.
    fn start(args: &[&str]) -> Seeded {
        let src = tempfile::tempdir().unwrap();
        let file = src.path().join("song.bin");
        write_payload(&file, 1_200_000);
        let mut all = vec![file.to_str().unwrap()];
        all.extend_from_slice(args);
        let (magnet, addr, seed) = start_seed(&all);
        Seeded {
            _src: src,
            file,
            magnet,
            addr,
            _seed: seed,
        }
    }

    /// A seed on `listen` with no DHT, announced to `tracker` (and seen there).
    fn announced_to(tracker: &Tracker, listen: &str) -> Seeded {
        let s = Seeded::start(&["--listen", listen, "--no-dht", "--tracker", &tracker.url]);
        let ih = magnet_info_hash(&s.magnet);
        assert!(
            tracker
                .announced
                .wait_for(&ih, s.addr, Duration::from_secs(10)),
            "the seed did not announce {}",
            s.addr
        );
        s
    }
}

/// libtorrent's view of a peer in an `lt_fetch.py` report: how it learnt of it,
/// and the blocks it got from it.
fn lt_peer<'a>(rep: &'a serde_json::Value, addr: &SocketAddr) -> &'a serde_json::Value {
    let p = &rep["peers"][addr.to_string()];
    assert!(p.is_object(), "libtorrent never met {addr}: {rep}");
    p
}

/// `fetch --seed --listen LISTEN` of the seeder's torrent into `out`, from it alone.
fn fetch_seed(seeder: &LtSeed, out: &Path, listen: &str) -> Running {
    Running::start(&[
        "fetch",
        seeder.info.torrent.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-dht",
        "--peer",
        &seeder.info.peers[0].to_string(),
        "--seed",
        "--listen",
        listen,
        "--quiet",
    ])
}

fn learnt_by(p: &serde_json::Value, source: &str) -> bool {
    p["sources"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == source))
}

/// The seed announces to an HTTP tracker (from its listen address, so the tracker
/// names an address where it listens); a libtorrent client given only the magnet
/// link (which carries the tracker) and no DHT finds it there, gets the info
/// dictionary from it and the whole file.
#[test]
fn libtorrent_finds_swarmlab_seed_through_an_http_tracker() {
    let tracker = http_tracker("127.60.4.1:0");
    let seed = Seeded::announced_to(&tracker, "127.60.4.2:0");
    assert!(seed.magnet.contains("tr="), "{}", seed.magnet);
    let (save, rep) = lt_fetch_magnet(
        &seed.magnet,
        "127.60.4.3",
        &["--no-dht", "--download-rate", SLOW, "--timeout", "60"],
    );
    assert_eq!(rep["done"], true, "{rep}");
    assert_eq!(tree(&save.path().join("song.bin")), tree(&seed.file));
    let p = lt_peer(&rep, &seed.addr);
    assert!(learnt_by(p, "tracker"), "{rep}");
    assert!(p["blocks"].as_u64().unwrap() > 0, "{rep}");
}

/// The seed announces to a UDP tracker (BEP 15); `swarmlab fetch` given only the
/// magnet link and no DHT finds it there and downloads every byte from it.
#[test]
fn fetch_finds_swarmlab_seed_through_a_udp_tracker() {
    let tracker = udp_tracker("127.60.5.1:0");
    let seed = Seeded::announced_to(&tracker, "127.60.5.2:0");
    let out = tempfile::tempdir().unwrap();
    let rep = fetch_ok(&[
        &seed.magnet,
        "--out",
        out.path().to_str().unwrap(),
        "--no-dht",
    ]);
    assert_eq!(tree(&out.path().join("song.bin")), tree(&seed.file));
    let p = peer(&rep, &seed.addr).unwrap_or_else(|| panic!("the seed is not in {rep}"));
    assert_eq!(p["bytes"], 1_200_000, "{rep}");
}

/// The seed announces itself in a loopback DHT testnet of ours (its DHT node on
/// its listen IP, as `--dht-bind` defaults to); a libtorrent client given the
/// magnet link alone (no tracker, no peer) and the testnet's first node finds it
/// by get_peers and downloads the file from it.
#[test]
fn libtorrent_finds_swarmlab_seed_through_the_dht() {
    let (_rt, net) = dht_testnet("127.60.6.1");
    let boot = net[0].local_addr().to_string();
    let seed = Seeded::start(&["--listen", "127.60.7.1:0", "--dht-bootstrap", &boot]);
    assert!(
        !seed.magnet.contains("tr=") && !seed.magnet.contains("x.pe"),
        "{}",
        seed.magnet
    );
    let (save, rep) = lt_fetch_magnet(
        &seed.magnet,
        "127.60.7.2",
        &[
            "--dht-bootstrap",
            &boot,
            "--download-rate",
            SLOW,
            "--timeout",
            "90",
        ],
    );
    assert_eq!(rep["done"], true, "{rep}");
    assert_eq!(tree(&save.path().join("song.bin")), tree(&seed.file));
    let p = lt_peer(&rep, &seed.addr);
    assert!(learnt_by(p, "dht"), "{rep}");
    assert!(p["blocks"].as_u64().unwrap() > 0, "{rep}");
    drop(net);
}

/// `fetch --seed`: fetch downloads from a libtorrent seeder, which then goes; a
/// libtorrent client that knows only fetch's address gets every block from it.
#[test]
fn libtorrent_downloads_from_fetch_seed_after_it_completes() {
    let seeder = LtSeed::start(&[
        "--listen",
        "127.60.8.1",
        "--size",
        "1500000",
        "--piece-size",
        "16384",
    ]);
    let expected = tree(&seeder.info.payload);
    let magnet = seeder.info.magnet.clone();
    let out = tempfile::tempdir().unwrap();
    let mut fetch = fetch_seed(&seeder, out.path(), "127.60.8.2:0");
    let ours = fetch.serving_addr();
    assert_eq!(tree(&out.path().join("payload.bin")), expected);
    drop(seeder);
    let (save, rep) = lt_fetch_magnet(
        &magnet,
        "127.60.8.3",
        &["--no-dht", "--peer", &ours.to_string(), "--timeout", "60"],
    );
    assert_eq!(rep["done"], true, "{rep}");
    assert_eq!(tree(&save.path().join("payload.bin")), expected);
    // One block per piece (16 KiB pieces): every one from fetch.
    assert_eq!(lt_peer(&rep, &ours)["blocks"], rep["pieces"], "{rep}");
}

/// `fetch --seed` serves the pieces it has verified while it still downloads: a
/// slow libtorrent seeder (about 13 s for the whole), fetch started with a fixed
/// listen address, and, once fetch has pieces on disk, a libtorrent client that
/// knows only fetch gets blocks from it within 4 s, while fetch is not yet done.
#[test]
fn fetch_seed_serves_verified_pieces_during_the_download() {
    let seeder = LtSeed::start(&[
        "--listen",
        "127.60.9.1",
        "--size",
        "4000000",
        "--piece-size",
        "16384",
        "--upload-rate",
        "300000",
    ]);
    let out = tempfile::tempdir().unwrap();
    let ours = "127.60.9.2:16884";
    let mut fetch = fetch_seed(&seeder, out.path(), ours);
    assert!(
        wait_for_file(&out.path().join("payload.bin.part")),
        "no .part file"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let (_save, rep) = lt_fetch_magnet(
        &seeder.info.magnet,
        "127.60.9.3",
        &["--no-dht", "--peer", ours, "--timeout", "4"],
    );
    assert!(
        !out.path().join("payload.bin").exists(),
        "fetch finished too soon for the test: {rep}"
    );
    let p = lt_peer(&rep, &ours.parse().unwrap());
    assert!(p["blocks"].as_u64().unwrap() > 0, "{rep}");
    // It goes on to the end and then seeds as before.
    let addr = fetch.serving_addr();
    assert_eq!(addr.to_string(), ours);
    assert_eq!(
        tree(&out.path().join("payload.bin")),
        tree(&seeder.info.payload)
    );
}
