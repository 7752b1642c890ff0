//! `swarmlab node --metrics ADDR`: the page it serves passes Prometheus's own
//! `promtool check metrics` (Debian's `prometheus` package, installed by
//! `scripts/test`; without it this test fails and says so), and carries the series of
//! a node that answered a lookup. Addresses on 127.65.0.0/16.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn swarmlab() -> &'static str {
    env!("CARGO_BIN_EXE_swarmlab")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    let (head, body) = page.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[test]
fn the_metrics_page_passes_promtool() {
    let promtool = std::env::var("SWARMLAB_PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let found = Command::new(&promtool).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "`{promtool}` is missing: install Debian's prometheus package (scripts/test does), \
         or point SWARMLAB_PROMTOOL at a promtool binary"
    );
    let mut child = Command::new(swarmlab())
        .args([
            "node",
            "--bind",
            "127.65.0.1:0",
            "--no-limits",
            "--stats-interval",
            "0",
        ])
        .args(["--bootstrap", "127.65.0.1:9", "--metrics", "127.65.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot run the swarmlab binary");
    let out = BufReader::new(child.stdout.take().unwrap());
    let node = Killed(child);
    let mut udp = None;
    let mut http = None;
    for line in out.lines().map_while(Result::ok) {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["node", _, "listening", "on", "UDP", a] => udp = Some(a.to_string()),
            ["metrics", "on", url] => {
                http = url
                    .strip_prefix("http://")
                    .and_then(|u| u.strip_suffix("/metrics"))
                    .map(String::from);
                break;
            }
            _ => {}
        }
    }
    let (udp, http) = (
        udp.expect("no UDP address"),
        http.expect("no metrics address"),
    );
    // Something to count: a find_node lookup against the node.
    let r = Command::new(swarmlab())
        .args([
            "lookup",
            "0123456789abcdef0123456789abcdef01234567",
            "--find-node",
        ])
        .args(["--bind", "127.65.0.2:0", "--bootstrap", &udp, "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(r.status.success());
    let page = scrape(&http);
    // The client's join and its lookup: find_node queries in.
    let find_nodes: u64 = page
        .lines()
        .find_map(|l| {
            l.strip_prefix("swarmlab_dht_queries_in_total{family=\"v4\",method=\"find_node\"} ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(find_nodes >= 1, "{page}");
    for family in [
        "queries_out_total",
        "replies_sent_total",
        "errors_sent_total",
        "errors_in_total",
        "timeouts_total",
        "refused_total",
        "routing_table_nodes",
        "peer_store_info_hashes",
        "peer_store_peers",
        "item_store_items",
        "lookup_duration_seconds_bucket",
    ] {
        assert!(
            page.contains(&format!("swarmlab_dht_{family}")),
            "no {family}:\n{page}"
        );
    }
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let res = check.wait_with_output().unwrap();
    assert!(
        res.status.success() && res.stdout.is_empty() && res.stderr.is_empty(),
        "promtool check metrics: {}{}\n{page}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    drop(node);
}
