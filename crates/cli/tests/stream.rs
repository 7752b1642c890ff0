//! `swarmlab stream send` and `stream recv` on loopback (127.70.0.0/16 to
//! 127.72.0.0/16): a stream through a swarm of five receivers, some connected only
//! to other receivers, arrives byte-identical at every one; receivers that know only a
//! DHT node (127.73.0.0/16) find it; a full source sends a new receiver to the others
//! (127.75.0.0/16); a late joiner gets the window's suffix; a hostile peer's forged announcements get it dropped while the
//! stream still arrives from the honest peers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");
/// Every wait in these tests ends here at the latest (a failure, not a threshold).
const LIMIT: Duration = Duration::from_secs(90);

/// A child process, killed if the test ends early.
struct Proc {
    child: Child,
    /// "peer up" lines of its log, as they come.
    ups: mpsc::Receiver<String>,
    /// "DHT announce" lines of its log, as they come.
    announces: mpsc::Receiver<String>,
    /// Its stdout, once it has ended.
    out: Option<thread::JoinHandle<Vec<u8>>>,
    /// Its stderr's last line (the report).
    err: Option<thread::JoinHandle<Vec<String>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "swarmlab_stream=info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        Proc::wrap(child, stdout)
    }

    /// Reads `child`'s stderr (its "peer up" and "DHT announce" lines as they come)
    /// and `stdout` to their ends.
    fn wrap(mut child: Child, mut stdout: impl Read + Send + 'static) -> Proc {
        let (tx, ups) = mpsc::channel();
        let (atx, announces) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let err = thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("peer up") {
                    let _ = tx.send(line.clone());
                }
                if line.contains("DHT announce") {
                    let _ = atx.send(line.clone());
                }
                lines.push(line);
            }
            lines
        });
        let out = thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        Proc {
            child,
            ups,
            announces,
            out: Some(out),
            err: Some(err),
        }
    }

    /// Wait for a DHT announce to have been sent.
    fn wait_announce(&self) {
        self.announces
            .recv_timeout(LIMIT)
            .expect("a DHT announce is done");
    }

    /// Wait for `n` peers up.
    fn wait_peers(&self, n: usize) {
        for _ in 0..n {
            self.ups.recv_timeout(LIMIT).expect("a peer comes up");
        }
    }

    fn stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().unwrap()
    }

    /// Writes all of `data` to stdin at once and closes it (the stream's end).
    fn send_all(&mut self, data: &[u8]) {
        let mut stdin = self.stdin();
        stdin.write_all(data).unwrap();
    }

    /// Wait for the end: stdout and stderr's lines.
    fn finish(mut self) -> (Vec<u8>, Vec<String>) {
        let (tx, rx) = mpsc::channel();
        let out = self.out.take().unwrap();
        let err = self.err.take().unwrap();
        thread::spawn(move || {
            let _ = tx.send((out.join().unwrap(), err.join().unwrap()));
        });
        let res = rx.recv_timeout(LIMIT).expect("the process ends");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{:?}", res.1);
        res
    }

    /// The report: the JSON line of stderr (recv) or the last of stdout (send).
    fn report(lines: &[String]) -> serde_json::Value {
        let line = lines
            .iter()
            .rev()
            .find(|l| l.starts_with('{'))
            .expect("a JSON report");
        serde_json::from_str(line).unwrap()
    }
}

/// A sender on `ip`; its id and address from its first lines.
fn sender(ip: &str, extra: &[&str]) -> (Proc, String, SocketAddr) {
    let listen = format!("{ip}:0");
    let mut args = vec![
        "stream", "send", "--listen", &listen, "--json", "--linger", "5",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(BIN)
        .args(&args)
        .env("RUST_LOG", "swarmlab_stream=info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let id = line.trim().strip_prefix("stream ").unwrap().to_string();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains(&format!("swarmlab stream recv {id} --peer {addr}")));
    // Hand the rest to a Proc.
    (Proc::wrap(child, stdout), id, addr)
}

fn receiver(id: &str, listen: &str, peers: &[&str], extra: &[&str]) -> Proc {
    let mut args = vec![
        "stream", "recv", id, "--listen", listen, "--json", "--linger", "5",
    ];
    for p in peers {
        args.push("--peer");
        args.push(p);
    }
    args.extend_from_slice(extra);
    Proc::start(&args)
}

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_stream_through_five_receivers_arrives_identical_at_each() {
    let (mut src, id, addr) = sender("127.70.0.1", &["--piece-size", "4096"]);
    let s = addr.to_string();
    // r1, r2 know the sender; r3, r4, r5 only other receivers, and do not
    // exchange peers, so they never reach the sender.
    let r1 = receiver(&id, "127.70.1.1:7001", &[&s], &[]);
    r1.wait_peers(1);
    let r2 = receiver(&id, "127.70.1.2:7001", &[&s], &[]);
    r2.wait_peers(1);
    let r3 = receiver(&id, "127.70.1.3:7001", &["127.70.1.1:7001"], &["--no-pex"]);
    r3.wait_peers(1);
    let r4 = receiver(
        &id,
        "127.70.1.4:7001",
        &["127.70.1.2:7001", "127.70.1.3:7001"],
        &["--no-pex"],
    );
    r4.wait_peers(2);
    let r5 = receiver(&id, "127.70.1.5:7001", &["127.70.1.4:7001"], &["--no-pex"]);
    r5.wait_peers(1);

    let data = payload(300_000, 1);
    let mut stdin = src.stdin();
    let feed = data.clone();
    thread::spawn(move || {
        for chunk in feed.chunks(20_000) {
            stdin.write_all(chunk).unwrap();
            thread::sleep(Duration::from_millis(10));
        }
    });
    for (i, r) in [r1, r2, r3, r4, r5].into_iter().enumerate() {
        let (out, err) = r.finish();
        assert!(
            out == data,
            "receiver {} wrote {} of {} bytes",
            i + 1,
            out.len(),
            data.len()
        );
        let rep = Proc::report(&err);
        assert_eq!(rep["node"]["pieces_skipped"], 0);
        assert_eq!(rep["hostile_peers"], 0);
        if i >= 2 {
            assert_eq!(rep["node"]["pushes"], 0);
        }
    }
    let (out, _) = src.finish();
    let text = String::from_utf8(out).unwrap();
    let rep: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let pieces = rep["node"]["pieces_made"].as_u64().unwrap();
    assert!(pieces >= 74, "300,000 bytes in 4 KiB pieces: {pieces}");
    let seed = rep["node"]["piece_bytes_uploaded"].as_u64().unwrap();
    // Five viewers got the stream; the sender uploaded fewer than five copies.
    assert!(
        seed < 5 * data.len() as u64,
        "the seed uploaded {seed} bytes"
    );
}

#[test]
fn a_late_receiver_starts_at_the_window_and_keeps_up() {
    let (mut src, id, addr) = sender(
        "127.71.0.1",
        &[
            "--piece-size",
            "4096",
            "--window",
            "16",
            "--flush-ms",
            "2000",
        ],
    );
    let s = addr.to_string();
    let r1 = receiver(&id, "127.71.1.1:7001", &[&s], &["--window", "16"]);
    r1.wait_peers(1);
    let mut stdin = src.stdin();
    let data = payload(80 * 4096, 2);
    // At a live rate, a piece at a time: a burst of more pieces than the window
    // holds would be skipped (that is what the window is for).
    for piece in data[..40 * 4096].chunks(4096) {
        stdin.write_all(piece).unwrap();
        thread::sleep(Duration::from_millis(20));
    }
    // Not a threshold: however long this takes, the late receiver starts within
    // the 16 newest pieces r1 holds, and the test checks only that.
    thread::sleep(Duration::from_millis(500));
    let late = receiver(
        &id,
        "127.71.1.2:7001",
        &["127.71.1.1:7001"],
        &["--window", "16", "--no-pex"],
    );
    late.wait_peers(1);
    // From now on at a live rate, a piece at a time.
    for piece in data[40 * 4096..].chunks(4096) {
        stdin.write_all(piece).unwrap();
        thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let (first, _) = r1.finish();
    assert!(
        first == data,
        "the early receiver has it all ({} bytes)",
        first.len()
    );
    let (out, err) = late.finish();
    let rep = Proc::report(&err);
    assert_eq!(rep["node"]["pieces_skipped"], 0, "{rep}");
    assert!(
        !out.is_empty() && out.len() < data.len(),
        "{} bytes",
        out.len()
    );
    assert_eq!(out.len() % 4096, 0, "starts at a piece boundary");
    assert!(data.ends_with(&out), "a suffix of the stream");
    assert!(out.len() >= 40 * 4096, "everything sent after it joined");
    drop(src);
}

#[test]
fn receivers_that_know_only_a_dht_node_find_the_stream_through_the_dht() {
    // A bootstrap node (its own bootstrap a loopback address, never the public
    // routers); the sender and two receivers each run a DHT node on the IP they
    // listen on, so that the address the DHT stores for them is the one they serve.
    let _node = Proc::start(&[
        "node",
        "--bind",
        "127.73.0.1:6881",
        "--no-limits",
        "--bootstrap",
        "127.73.0.2:6881",
    ]);
    let boot = ["--dht-bootstrap", "127.73.0.1:6881"];
    let mut args = vec!["--piece-size", "4096", "--dht-bind", "127.73.0.2:6881"];
    args.extend_from_slice(&boot);
    let (mut src, id, _) = sender("127.73.0.2", &args);
    src.wait_announce();
    let recv = |ip: &str| {
        let (listen, dht) = (format!("{ip}:7001"), format!("{ip}:6881"));
        let mut extra = vec!["--dht-bind", dht.as_str()];
        extra.extend_from_slice(&boot);
        receiver(&id, &listen, &[], &extra)
    };
    let r1 = recv("127.73.1.1");
    r1.wait_peers(1);
    r1.wait_announce();
    let r2 = recv("127.73.1.2");
    // The DHT lists both the sender and r1 by now.
    r2.wait_peers(2);
    let data = payload(200_000, 4);
    src.send_all(&data);
    for r in [r1, r2] {
        let (out, err) = r.finish();
        assert!(out == data, "{} of {} bytes", out.len(), data.len());
        assert_eq!(Proc::report(&err)["node"]["pieces_skipped"], 0);
    }
    drop(src);
}

#[test]
fn a_full_source_tells_a_new_receiver_of_the_others_and_it_gets_the_stream() {
    // The source keeps at most 2 × 1 peers: the third receiver, which knows only the
    // source, is told of the other two by ut_pex and closed.
    let (mut src, id, addr) = sender("127.75.0.1", &["--piece-size", "4096", "--max-peers", "1"]);
    let s = addr.to_string();
    let r1 = receiver(&id, "127.75.1.1:7001", &[&s], &[]);
    r1.wait_peers(1);
    let r2 = receiver(&id, "127.75.1.2:7001", &[&s], &[]);
    r2.wait_peers(1);
    let r3 = receiver(&id, "127.75.1.3:7001", &[&s], &[]);
    // Its peers: r1 and r2, learnt from the full source.
    r3.wait_peers(2);
    let data = payload(150_000, 5);
    src.send_all(&data);
    let (out, err) = r3.finish();
    assert!(out == data, "{} of {} bytes", out.len(), data.len());
    assert_eq!(Proc::report(&err)["node"]["pieces_skipped"], 0);
    for r in [r1, r2] {
        assert!(r.finish().0 == data);
    }
    let (_, err) = src.finish();
    assert!(
        err.iter().any(|l| l.contains("full: sending 2 peers")),
        "the source said it was full: {err:?}"
    );
}

/// A peer that speaks sl_stream and lies: it announces piece 0 under a key that
/// is not the stream's.
fn hostile_peer(listen: SocketAddr, stream: &str) -> thread::JoinHandle<String> {
    use swarmlab_bt::Connection;
    use swarmlab_bt_wire::session::{Event, SessionConfig, Torrent};
    use swarmlab_stream::{Announce, Message, StreamId, EXTENSION};
    let id: StreamId = stream.parse().unwrap();
    let ih = id.info_hash();
    let listener = std::net::TcpListener::bind(listen).unwrap();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let (tcp, _) = l.accept().await.unwrap();
            let mut cfg = SessionConfig::new(*b"-XX0001-liarliarliar");
            cfg.extensions.extra = vec![EXTENSION.to_string()];
            let mut c = Connection::incoming(tcp, cfg).unwrap();
            let liar = ed25519_dalek::SigningKey::from_bytes(&[66; 32]);
            loop {
                match c.next_event().await {
                    Ok(Event::HandshakeReceived(_)) => c.accept(Torrent::new(ih)).unwrap(),
                    Ok(Event::ExtHandshake(_)) => {
                        let forged = Announce::sign(&liar, 0, b"not the stream", false);
                        c.session_mut()
                            .send_extension(EXTENSION, &Message::Announce(forged).encode())
                            .unwrap();
                    }
                    Ok(_) => {}
                    Err(e) => return e.to_string(),
                }
            }
        })
    })
}

#[test]
fn a_hostile_peer_is_dropped_and_the_stream_arrives_from_the_honest_ones() {
    let (mut src, id, addr) = sender("127.72.0.1", &["--piece-size", "4096"]);
    let liar: SocketAddr = "127.72.9.9:7001".parse().unwrap();
    let ended = hostile_peer(liar, &id);
    let r = receiver(
        &id,
        "127.72.1.1:7001",
        &[&addr.to_string(), &liar.to_string()],
        &[],
    );
    r.wait_peers(2);
    let why = ended.join().unwrap();
    assert!(!why.is_empty(), "the receiver hung up on the liar: {why}");
    let data = payload(100_000, 3);
    src.send_all(&data);
    let (out, err) = r.finish();
    assert!(out == data, "{} of {} bytes", out.len(), data.len());
    let rep = Proc::report(&err);
    assert_eq!(rep["hostile_peers"], 1);
    assert_eq!(rep["node"]["hostile"]["bad_signature"], 1);
    assert!(
        err.iter().any(|l| l.contains("forged signature")),
        "logged: {err:?}"
    );
    drop(src);
}
