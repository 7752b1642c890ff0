//! `swarmlab estimate` against a live network: a loopback testnet of 150 nodes
//! (`swarmlab testnet` on 127.152.0.0/24), estimated from 48 lookups.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn estimates_a_loopback_testnet_within_its_error() {
    let n = 150;
    let mut net = Command::new(BIN)
        .args([
            "testnet",
            "--nodes",
            &n.to_string(),
            "--first",
            "127.152.0.1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = net.stdout.take().unwrap();
    let _net = Kill(net);
    for line in BufReader::new(out).lines() {
        if line.unwrap().starts_with("testnet:") {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs(4)); // the last joins settle
    let o = Command::new(BIN)
        .args([
            "estimate",
            "--bootstrap",
            "127.152.0.1:6881",
            "--bind",
            "127.152.1.1:0",
            "--lookups",
            "48",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v["estimate"];
    let nodes = e["nodes"].as_f64().unwrap();
    assert_eq!(e["lookups"], 48);
    assert_eq!(v["samples"].as_array().unwrap().len(), 48);
    // 48 lookups of 8 nodes: σ = 1/√382 = 5%; ±30% is six of them.
    assert!(
        (nodes / n as f64 - 1.0).abs() < 0.3,
        "estimated {nodes:.0} for {n} nodes"
    );
    let text = Command::new(BIN)
        .args([
            "estimate",
            "--bootstrap",
            "127.152.0.1:6881",
            "--bind",
            "127.152.1.2:0",
            "--lookups",
            "8",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("about "));
}
