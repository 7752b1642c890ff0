//! What the DHT tests of the binary share: a network of real libtorrent DHT nodes
//! (`tests/python/lt_net.py`, Debian's `python3-libtorrent` under `/usr/bin/python3`)
//! driven by line commands, `swarmlab node` as a child process reading its JSON stats,
//! and `swarmlab lookup --json`. A missing libtorrent is a failure with a message
//! saying what to install, never a silent pass.
#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Debian's interpreter, where python3-libtorrent imports (`python3` on PATH may be
/// another one); `SWARMLAB_LT_PYTHON` overrides it.
pub fn python() -> String {
    std::env::var("SWARMLAB_LT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

pub fn swarmlab() -> &'static str {
    env!("CARGO_BIN_EXE_swarmlab")
}

pub fn lt_net_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/lt_net.py")
}

/// Fails the test, with what to do, when libtorrent's Python binding is missing.
pub fn require_libtorrent() {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", "import libtorrent; print(libtorrent.__version__)"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "libtorrent is missing: `{py} -c 'import libtorrent'` failed ({}). Install \
             Debian's python3-libtorrent (scripts/test does it when run as root).",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run {py} ({e}): the libtorrent interop tests need Debian's python3 \
             with python3-libtorrent (scripts/test installs it when run as root)"
        ),
    }
}

/// Reads a child's stdout lines on a thread.
pub fn line_reader(out: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A libtorrent DHT network (`tests/python/lt_net.py`).
pub struct LtNet {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    /// (address, node id) of every node.
    pub nodes: Vec<(String, String)>,
}

impl LtNet {
    /// `n` nodes on `first`, `first + 1`, … port `port`; they bootstrap from node 0, or
    /// only from `bootstrap` when it is not empty.
    pub fn start(n: usize, first: &str, port: u16, bootstrap: &[String]) -> LtNet {
        require_libtorrent();
        let mut cmd = Command::new(python());
        cmd.arg(lt_net_script())
            .args(["--nodes", &n.to_string(), "--first", first])
            .args(["--port", &port.to_string()]);
        for b in bootstrap {
            cmd.args(["--bootstrap", b]);
        }
        if let Ok(dir) = std::env::var("SWARMLAB_LT_LOG_DIR") {
            cmd.args(["--log", &format!("{dir}/lt-{first}.log")]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", lt_net_script().display()));
        let stdin = child.stdin.take().unwrap();
        let lines = line_reader(child.stdout.take().unwrap());
        let mut net = LtNet {
            child,
            stdin,
            lines,
            nodes: Vec::new(),
        };
        let ready = net.read(Duration::from_secs(30));
        assert_eq!(
            ready["ready"], true,
            "libtorrent network did not start: {ready}"
        );
        net.nodes = ready["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["addr"].as_str().unwrap().to_string(),
                    n["id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(net.nodes.len(), n);
        net
    }

    pub fn read(&mut self, limit: Duration) -> Value {
        match self.lines.recv_timeout(limit) {
            Ok(l) => serde_json::from_str(&l)
                .unwrap_or_else(|e| panic!("lt_net.py printed {l:?}, not JSON: {e}")),
            Err(_) => {
                let status = self.child.try_wait().ok().flatten();
                panic!("lt_net.py gave no answer within {limit:?} (exit status {status:?})")
            }
        }
    }

    pub fn cmd(&mut self, line: &str, limit: Duration) -> Value {
        writeln!(self.stdin, "{line}").expect("lt_net.py has gone");
        self.stdin.flush().unwrap();
        let v = self.read(limit);
        assert_eq!(v["ok"], true, "lt_net.py {line:?}: {v}");
        v
    }

    pub fn addr(&self, i: usize) -> String {
        self.nodes[i].0.clone()
    }

    /// Live routing-table entries of node `i`: (id, address).
    pub fn table(&mut self, i: usize) -> Vec<(String, String)> {
        let v = self.cmd(&format!("table {i}"), Duration::from_secs(10));
        v["tables"][0]["live"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["id"].as_str().unwrap().to_string(),
                    n["addr"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    pub fn get_peers(&mut self, i: usize, ih: &str, secs: f64) -> Vec<String> {
        let v = self.cmd(
            &format!("get_peers {i} {ih} {secs}"),
            Duration::from_secs_f64(secs + 10.0),
        );
        v["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    }

    /// Waits until every node's table holds all the others (the mesh bootstrap).
    pub fn settle(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut sizes = Vec::new();
        while Instant::now() < deadline {
            sizes = (0..self.nodes.len()).map(|i| self.table(i).len()).collect();
            if sizes.iter().all(|&s| s + 1 >= self.nodes.len()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the libtorrent nodes did not find each other: table sizes {sizes:?}");
    }

    /// Node `i` adds a torrent: libtorrent announces it on the node's listen port.
    pub fn announce(&mut self, i: usize, ih: &str) -> u16 {
        let v = self.cmd(&format!("announce {i} {ih}"), Duration::from_secs(10));
        v["port"].as_u64().unwrap() as u16
    }
}

impl Drop for LtNet {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `swarmlab node` printing its stats as JSON every second.
pub struct OurNode {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub addr: String,
    pub id: String,
    pub last: Option<Value>,
}

impl OurNode {
    pub fn start(bind: &str, bootstrap: &[String]) -> OurNode {
        let mut cmd = Command::new(swarmlab());
        cmd.args([
            "node",
            "--bind",
            bind,
            "--no-limits",
            "--stats-interval",
            "1",
        ])
        .arg("--json");
        for b in bootstrap {
            cmd.args(["--bootstrap", b]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot run the swarmlab binary");
        let lines = line_reader(child.stdout.take().unwrap());
        let first = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("swarmlab node printed nothing");
        // "node <id> listening on UDP <addr>"
        let words: Vec<&str> = first.split_whitespace().collect();
        assert!(
            words.len() == 6 && words[0] == "node",
            "unexpected first line of swarmlab node: {first:?}"
        );
        OurNode {
            child,
            lines,
            id: words[1].to_string(),
            addr: words[5].to_string(),
            last: None,
        }
    }

    /// The latest stats line (waits up to `limit` for a new one).
    pub fn stats(&mut self, limit: Duration) -> Option<&Value> {
        if let Ok(l) = self.lines.recv_timeout(limit) {
            // This line, then drain to the newest.
            for l in std::iter::once(l).chain(self.lines.try_iter()) {
                if let Ok(v) = serde_json::from_str::<Value>(&l) {
                    self.last = Some(v);
                }
            }
        }
        self.last.as_ref()
    }

    pub fn table_nodes(&mut self) -> usize {
        self.stats(Duration::from_secs(3))
            .and_then(|v| v["table_nodes"].as_u64())
            .unwrap_or(0) as usize
    }

    /// Polls until the table holds `n` nodes; returns the last size seen.
    pub fn wait_table(&mut self, n: usize, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let t = self.table_nodes();
            if t >= n || Instant::now() >= deadline {
                return t;
            }
        }
    }
}

impl Drop for OurNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `swarmlab lookup --json`: the LookupResult.
pub fn lookup(hash: &str, bind: &str, bootstrap: &str, extra: &[&str]) -> Value {
    let out = Command::new(swarmlab())
        .args([
            "lookup",
            hash,
            "--bind",
            bind,
            "--bootstrap",
            bootstrap,
            "--json",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run the swarmlab binary");
    assert!(
        out.status.success(),
        "swarmlab lookup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "swarmlab lookup --json printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs the swarmlab binary with `args`; its stdout as JSON, and whether it succeeded.
pub fn run_json(args: &[&str]) -> (Value, bool) {
    let out = Command::new(swarmlab())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run the swarmlab binary");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "swarmlab {args:?} printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.success())
}
