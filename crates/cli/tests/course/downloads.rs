//! Charlie's three steps, many clients at once, the demo, and the default broadcast
//! inside a network namespace.

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn step_1_downloads_from_both_peers_in_parallel() {
    let r = Root::new(3);
    let data = r.file("big.bin", 3_000_001, 64 * 1024);
    let _peers = start_peers(&r, 3);
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = json(&out);
    assert_eq!(rep["identical"], true);
    assert_eq!(rep["download"]["chunks"], 46);
    assert_eq!(rep["download"]["bytes"], 3_000_001);
    // Both peers served (each has chunks only it holds).
    assert!(chunks_from(&rep, "127.0.3.2:8001") >= 16);
    assert!(chunks_from(&rep, "127.0.3.3:8002") >= 15);
    assert_eq!(r.read("chunks/charlie/big.bin"), data);
    // No temporary file is left behind.
    assert!(r.chunk_names("charlie").iter().all(|n| !n.contains("tmp")));
    // The course's check agrees.
    let out = r.run(&["chunks", "check"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Files are identical\n"
    );
}

#[test]
fn step_2_asks_the_tracker() {
    let r = Root::new(4);
    let data = r.file("t.bin", 200_000, 30_000);
    let _peers = start_peers(&r, 4);
    let _t = r.spawn(&["tracker", "--no-discovery"]);
    wait_tcp("127.0.4.1:8000");
    // Step 2 uses only the tracker: file.ini is not needed by Charlie.
    std::fs::rename(
        r.path().join("config/file.ini"),
        r.path().join("config/file.ini.bak"),
    )
    .unwrap();
    let out = r.run(&["charlie", "2", "--json"]);
    // The tracker itself needs file.ini: it re-reads it per request, so it now fails.
    assert!(!out.status.success());
    std::fs::rename(
        r.path().join("config/file.ini.bak"),
        r.path().join("config/file.ini"),
    )
    .unwrap();
    let out = r.run(&["charlie", "2", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rep = json(&out);
    assert_eq!(rep["discovery"][0]["source"], "tracker");
    assert_eq!(r.read("chunks/charlie/t.bin"), data);
}

#[test]
fn step_3_broadcast_with_two_trackers_prefers_the_named_one() {
    let r = Root::new(5);
    let data = r.file("s.bin", 100_000, 10_000);
    let _peers = start_peers(&r, 5);
    // A second tracker on another root, answering on the same discovery port, with a
    // file.ini of another file: Charlie must pick the tracker named "tracker".
    let other = Root::new(6);
    other.file("other.bin", 5000, 1000);
    let _other_peers = start_peers(&other, 6);
    let _t2 = other.spawn(&["tracker", "--name", "decoy", "--discovery-port", "19005"]);
    wait_tcp("127.0.6.1:8000");
    let _t1 = r.spawn(&["tracker", "--discovery-port", "19005"]);
    wait_tcp("127.0.5.1:8000");
    let out = r.run(&[
        "charlie",
        "3",
        "--json",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19005",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rep = json(&out);
    let detail = rep["discovery"][0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("2 tracker(s) answered"), "{detail}");
    assert!(detail.contains("\"tracker\" at 127.0.5.1:8000"), "{detail}");
    assert_eq!(r.read("chunks/charlie/s.bin"), data);
    // Preferring the decoy's name takes the other file.
    let out = r.run(&[
        "charlie",
        "3",
        "--json",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19005",
        "--tracker-name",
        "decoy",
    ]);
    let rep = json(&out);
    assert_eq!(rep["filename"], "other.bin");
}

#[test]
fn step_3_without_any_tracker_fails_clearly() {
    let r = Root::new(7);
    let out = r.run(&[
        "charlie",
        "3",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        "19007",
        "--discovery-wait-ms",
        "200",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no tracker answered on UDP port 19007"),
        "{err}"
    );
}

#[test]
fn demo_runs_all_three_steps() {
    let out = Command::new(BIN)
        .args([
            "demo",
            "--size",
            "3MiB",
            "--chunk-size",
            "256KiB",
            "--discovery-port",
            "19030",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = json(&out);
    let steps = rep["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5); // steps 4 (DHT) and 5 (PEX), issue 8
    for s in steps {
        assert_eq!(s["ok"], true, "{s}");
        assert_eq!(s["bytes"], 3 << 20);
        assert_eq!(s["chunks"], 12);
    }
    assert!(rep["sha1_limit_mb_s"].as_f64().unwrap() > 0.0);
}

/// Step 3 with its default destinations (255.255.255.255 and every interface's
/// broadcast address) and the real port 9000, inside a private network namespace
/// where 255.255.255.255 stays on the namespace's loopback.
#[test]
fn step_3_default_broadcast_inside_a_network_namespace() {
    let r = Root::new(0);
    r.write(
        "config/peers.ini",
        swarmlab_course::config::DEFAULT_PEERS_INI.as_bytes(),
    );
    let data = r.file("ns.bin", 100_000, 16_384);
    let script = r#"
        set -e
        ip link set lo up
        ip route add default dev lo
        "$BIN" --root "$ROOT" peer alice >/dev/null 2>&1 &
        "$BIN" --root "$ROOT" peer bob >/dev/null 2>&1 &
        "$BIN" --root "$ROOT" tracker >/dev/null 2>&1 &
        for p in 8001 8002 8000; do
          for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
        done
        "$BIN" --root "$ROOT" charlie 3 --json
        status=$?
        kill $(jobs -p)
        exit $status
    "#;
    let out = Command::new("unshare")
        .args(["-n", "bash", "-c", script])
        .env("BIN", BIN)
        .env("ROOT", r.path())
        .output()
        .expect("unshare (util-linux) is needed for the namespace test");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = json(&out);
    let detail = rep["discovery"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("\"tracker\" at 127.0.0.1:8000"), "{detail}");
    assert_eq!(r.read("chunks/charlie/ns.bin"), data);
}

#[test]
fn many_charlies_at_once_from_the_same_peers() {
    let r = Root::new(24);
    let data = r.file("m.bin", 2_000_000, 100_000);
    let _peers = start_peers(&r, 24);
    // Eight clients, each in its own root with the same configuration, all at once.
    let clients: Vec<Root> = (0..8)
        .map(|_| {
            let c = Root::new(24);
            c.write("config/file.ini", &r.read("config/file.ini"));
            c.write("files/m.bin", &data);
            c
        })
        .collect();
    let children: Vec<_> = clients
        .iter()
        .map(|c| {
            Command::new(BIN)
                .arg("--root")
                .arg(c.path())
                .args(["charlie", "1", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (c, child) in clients.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out)["identical"], true);
        assert_eq!(c.read("chunks/charlie/m.bin"), data);
    }
}
