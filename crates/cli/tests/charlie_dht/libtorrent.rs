//! Real parts: a network of libtorrent DHT nodes (`tests/python/lt_net.py`) plus one
//! of ours; Alice and Bob announce the file id into it; Charlie, trackerless and
//! bootstrapped from a libtorrent node, finds them through libtorrent's nodes and
//! downloads. A missing libtorrent fails the test with what to install.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// The libtorrent network, driven by line commands; killed when dropped.
struct LtNet {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    addrs: Vec<String>,
}

impl Drop for LtNet {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LtNet {
    /// `n` libtorrent nodes from `first` on `port`, each given every other.
    fn start(n: usize, first: &str, port: u16) -> LtNet {
        swarmlab_tests::require_libtorrent();
        let mut child = Command::new(swarmlab_tests::python())
            .arg(swarmlab_tests::script("lt_net.py"))
            .args(["--nodes", &n.to_string(), "--first", first])
            .args(["--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start lt_net.py");
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut net = LtNet {
            child,
            stdin,
            lines,
            addrs: Vec::new(),
        };
        let ready = net.read(Duration::from_secs(60));
        assert_eq!(ready["ready"], true, "libtorrent did not start: {ready}");
        net.addrs = ready["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["addr"].as_str().unwrap().to_owned())
            .collect();
        net
    }

    fn read(&mut self, limit: Duration) -> Value {
        let l = self
            .lines
            .recv_timeout(limit)
            .unwrap_or_else(|_| panic!("lt_net.py gave no answer within {limit:?}"));
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("lt_net.py printed {l:?}: {e}"))
    }

    /// Peers libtorrent node `i` finds for `ih`.
    fn get_peers(&mut self, i: usize, ih: &str) -> Vec<String> {
        writeln!(self.stdin, "get_peers {i} {ih} 10").unwrap();
        self.stdin.flush().unwrap();
        let v = self.read(Duration::from_secs(30));
        assert_eq!(v["ok"], true, "{v}");
        v["peers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect()
    }
}

#[test]
fn charlie_trackerless_finds_alice_and_bob_through_libtorrent_dht_nodes() {
    let mut lt = LtNet::start(8, "127.184.0.1", 7000);
    // One of our nodes in the network too.
    let _ours = Proc(
        Command::new(BIN)
            .args(["node", "--bind", "127.184.0.50:6881"])
            .args(["--bootstrap", &lt.addrs[0]])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let r = root("127.184.1");
    let data = r.file("lt.bin", 400_000, 16_384);
    let _alice = dht_peer(&r, "alice", "127.184.1.2:8001", &lt.addrs[1], &[]);
    let _bob = dht_peer(&r, "bob", "127.184.1.3:8002", &lt.addrs[2], &[]);
    let (id, magnet) = file_id(&r);
    let want = ["127.184.1.2:8001", "127.184.1.3:8002"];
    wait_announced(&id, &lt.addrs[3], "127.184.9.1:0", &want);
    // libtorrent itself holds our peers' announces.
    let found = lt.get_peers(4, &id);
    for w in want {
        assert!(found.iter().any(|p| p == w), "libtorrent found {found:?}");
    }
    let c = bare_root("lt.bin", &data);
    let (rep, ok) = charlie(
        &c,
        &[
            "--magnet",
            &magnet,
            "--dht-bootstrap",
            &lt.addrs[5],
            "--dht-bind",
            "127.184.2.1:0",
        ],
    );
    assert!(ok, "{rep:#}");
    assert_eq!(rep["identical"], true);
    let dht = runs(&rep, "dht");
    assert_eq!(dht[0]["ok"], true, "{rep:#}");
    assert_eq!(dht[0]["new_peers"], 2, "{rep:#}");
    assert!(chunks_from(&rep, want[0]) > 0 && chunks_from(&rep, want[1]) > 0);
}
