//! BEP 44 with libtorrent, both ways: an item `swarmlab put` stores is returned by
//! libtorrent's get, and an item libtorrent puts is returned by `swarmlab get`, for
//! immutable and mutable items (libtorrent signs with the key we give it, and checks
//! our signatures). Each test's network: 8 libtorrent nodes and one `swarmlab node`
//! (`tests/python/lt_net.py`), on 127.56.0.0/16 and 127.57.0.0/16.

mod lt_net;

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use lt_net::{run_json, LtNet, OurNode};

fn network(net: u8) -> (LtNet, OurNode) {
    let mut lt = LtNet::start(8, &format!("127.{net}.0.1"), 7300, &[]);
    lt.settle();
    let mut ours = OurNode::start(&format!("127.{net}.1.1:7300"), &[lt.addr(0)]);
    assert!(
        ours.wait_table(8, Duration::from_secs(30)) >= 8,
        "our node did not join"
    );
    (lt, ours)
}

/// `swarmlab put|get ... --json` from a one-shot client of its own address.
fn ours(args: &[&str], bind: &str, boot: &str) -> (serde_json::Value, bool) {
    let mut all = args.to_vec();
    all.extend(["--bind", bind, "--bootstrap", boot, "--json"]);
    run_json(&all)
}

/// Retries `f` until it gives `Some` or 30 s pass (a lookup right after a put may
/// still miss the nodes that stored it).
fn eventually<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn immutable_items_both_ways() {
    let (mut lt, _node) = network(56);
    let boot = lt.addr(0);
    // Ours → libtorrent.
    let (put, ok) = ours(&["put", "hello from swarmlab"], "127.56.2.1:0", &boot);
    assert!(ok, "{put}");
    assert!(put["stored"].as_u64().unwrap() >= 1, "{put}");
    let target = put["item"]["target"].as_str().unwrap().to_string();
    let want = hex::encode(b"19:hello from swarmlab");
    let got = eventually(|| {
        let v = lt.cmd(
            &format!("get_immutable 5 {target} 10"),
            Duration::from_secs(20),
        );
        v["v"].as_str().map(String::from)
    });
    assert_eq!(
        got.as_deref(),
        Some(want.as_str()),
        "libtorrent did not get our item"
    );

    // Libtorrent → ours: a dictionary value.
    let v = b"d3:agei7e4:name5:alicee";
    let put = lt.cmd(
        &format!("put_immutable 2 {}", hex::encode(v)),
        Duration::from_secs(40),
    );
    assert!(put["stored"].as_u64().unwrap() >= 1, "{put}");
    let target = put["target"].as_str().unwrap().to_string();
    let got = eventually(|| {
        let (g, ok) = ours(&["get", &target], "127.56.2.2:0", &boot);
        ok.then(|| g["item"]["v"].as_str().unwrap().to_string())
    });
    assert_eq!(
        got,
        Some(hex::encode(v)),
        "we did not get libtorrent's item"
    );
}

#[test]
fn mutable_items_both_ways() {
    let (mut lt, _node) = network(57);
    let boot = lt.addr(0);
    let dir = tempfile::tempdir().unwrap();

    // Ours → libtorrent: signed by us, verified by libtorrent.
    let seed = [0x21u8; 32];
    let pk = hex::encode(SigningKey::from_bytes(&seed).verifying_key().to_bytes());
    let key = dir.path().join("k.hex");
    std::fs::write(&key, hex::encode(seed)).unwrap();
    let k = key.to_str().unwrap();
    for (i, value) in ["first", "second"].iter().enumerate() {
        let (put, ok) = ours(
            &["put", value, "--key", k, "--salt", "feed"],
            "127.57.3.1:0",
            &boot,
        );
        assert!(ok, "{put}");
        assert_eq!(put["item"]["seq"], i as u64 + 1, "{put}");
    }
    let salt = hex::encode(b"feed");
    let got = eventually(|| {
        let v = lt.cmd(
            &format!("get_mutable 6 {pk} {salt} 15"),
            Duration::from_secs(25),
        );
        (v["v"].as_str() == Some(hex::encode(b"6:second").as_str())).then_some(v)
    });
    let got = got.expect("libtorrent did not get our mutable item");
    assert_eq!(got["seq"], 2, "{got}");

    // Libtorrent → ours: libtorrent signs with the key of another seed.
    let seed2 = [0x42u8; 32];
    let pk2 = hex::encode(SigningKey::from_bytes(&seed2).verifying_key().to_bytes());
    let put = lt.cmd(
        &format!(
            "put_mutable 3 {} {pk2} {} {}",
            hex::encode(seed2),
            hex::encode(b"pepper"),
            hex::encode(b"from libtorrent")
        ),
        Duration::from_secs(40),
    );
    assert!(put["stored"].as_u64().unwrap() >= 1, "{put}");
    let got = eventually(|| {
        let (g, ok) = ours(
            &["get", "--key", &pk2, "--salt", "pepper"],
            "127.57.3.2:0",
            &boot,
        );
        ok.then_some(g)
    })
    .expect("we did not get libtorrent's mutable item");
    assert_eq!(got["value"], "from libtorrent", "{got}");
    assert_eq!(got["item"]["seq"], put["seq"], "{got}");
    assert_eq!(got["item"]["sig"], put["sig"], "{got}");
}
