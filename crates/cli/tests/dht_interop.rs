//! Interoperability with libtorrent's DHT (issue: "interoperability tests with
//! libtorrent"). Each test runs a network of real libtorrent nodes on loopback
//! (`tests/python/lt_net.py`, Debian's `python3-libtorrent` under `/usr/bin/python3`) and
//! the real `swarmlab` binary (`node`, `lookup --json`), and checks one claim:
//!
//! 1. our node joins a libtorrent network and fills its table;
//! 2. our get_peers finds a peer that libtorrent announced;
//! 3. libtorrent nodes hold our node in their routing tables;
//! 4. libtorrent finds a peer that we announced;
//! 5. libtorrent's nodes bootstrap from ours alone: each learns and verifies all the
//!    others through us, and they find each other's peers once we are gone;
//! 6. the KRPC edge cases where implementations differ (no `y`, bytes after the
//!    message, a datagram over 1,500 bytes, …) get from us the answer libtorrent gives.
//!
//! A missing libtorrent is a failure with a message saying what to install, never a
//! silent pass. Every test has its own 127.5x.0.0/16 range (the rest of the suite
//! uses 127.0.N.x for N < 40 and 127.31.x.x), so they run in parallel with it; every
//! wait polls against a deadline.
//!
//! To see what libtorrent sends, receives and thinks of our packets, set
//! `SWARMLAB_LT_LOG_DIR=/some/dir`: every libtorrent network then appends its DHT log
//! and packet alerts (`dht_log_alert`, `dht_pkt_alert`) to `lt-<first address>.log`.

mod lt_net;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use lt_net::{lookup, LtNet, OurNode};
use serde_json::Value;

/// Libtorrent nodes per test.
const LT_NODES: usize = 8;

fn peers_of(r: &Value) -> Vec<String> {
    r["peers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Answered / total requests of a lookup, for failure messages.
fn summary(r: &Value) -> String {
    format!(
        "{} messages, {} answered, {} timeouts, peers {:?}, closest {}",
        r["messages"],
        r["responses"],
        r["timeouts"],
        peers_of(r),
        r["closest"].as_array().map(|a| a.len()).unwrap_or(0)
    )
}

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn our_node_joins_a_libtorrent_network_and_fills_its_table() {
    let mut lt = LtNet::start(LT_NODES, "127.50.0.1", 7100, &[]);
    lt.settle();
    let mut ours = OurNode::start("127.50.1.1:7100", &[lt.addr(0)]);
    // Every libtorrent node should end up in our table.
    let got = ours.wait_table(LT_NODES, DEADLINE);
    assert!(
        got >= LT_NODES,
        "our node knows {got} of the {LT_NODES} libtorrent nodes after {DEADLINE:?}: {}",
        ours.last
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_default()
    );
    let s = ours.stats(Duration::from_secs(2)).unwrap().clone();
    assert!(
        s["stats"]["responses_in"].as_u64().unwrap_or(0) > 0,
        "no libtorrent node answered us: {s}"
    );
    assert_eq!(
        s["stats"]["bad_responses"].as_u64(),
        Some(0),
        "we refused responses from libtorrent: {s}"
    );
}

#[test]
fn our_get_peers_finds_a_peer_libtorrent_announced() {
    let mut lt = LtNet::start(LT_NODES, "127.51.0.1", 7100, &[]);
    lt.settle();
    let ih = "51a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3";
    let port = lt.announce(3, ih);
    let want = format!("127.51.0.4:{port}");
    let deadline = Instant::now() + DEADLINE;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = lookup(ih, "127.51.1.1:0", &lt.addr(0), &[]);
        if peers_of(&last).contains(&want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!(
        "our get_peers did not find {want}, announced by libtorrent, within {DEADLINE:?}: {}",
        summary(&last)
    );
}

#[test]
fn libtorrent_nodes_hold_our_node_in_their_tables() {
    let mut lt = LtNet::start(LT_NODES, "127.52.0.1", 7100, &[]);
    lt.settle();
    let mut ours = OurNode::start("127.52.1.1:7100", &[lt.addr(0)]);
    ours.wait_table(LT_NODES, DEADLINE);
    // The claim: libtorrent keeps us (our id, our address) as a live node. Every node
    // it has heard of goes in; by now each has queried or been queried by us.
    let need = LT_NODES * 3 / 4;
    let deadline = Instant::now() + DEADLINE;
    let mut holding = Vec::new();
    while Instant::now() < deadline {
        holding.clear();
        for i in 0..LT_NODES {
            let t = lt.table(i);
            if t.iter()
                .any(|(id, addr)| *addr == ours.addr && id.eq_ignore_ascii_case(&ours.id))
            {
                holding.push(i);
            }
        }
        if holding.len() >= need {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let tables: Vec<String> = (0..LT_NODES)
        .map(|i| format!("{i}: {:?}", lt.table(i)))
        .collect();
    panic!(
        "only libtorrent nodes {holding:?} hold our node {} {} (need {need} of {LT_NODES}) \
         after {DEADLINE:?}; tables:\n{}",
        ours.id,
        ours.addr,
        tables.join("\n")
    );
}

#[test]
fn libtorrent_finds_a_peer_we_announced() {
    let mut lt = LtNet::start(LT_NODES, "127.53.0.1", 7100, &[]);
    lt.settle();
    let deadline = Instant::now() + DEADLINE;
    let ih = "53ffeeddccbbaa99887766554433221100aabbcc";
    let r = lookup(ih, "127.53.1.1:0", &lt.addr(0), &["--announce", "6262"]);
    assert!(
        r["announced"].as_u64().unwrap_or(0) > 0,
        "no libtorrent node accepted our announce_peer: {}; trace {}",
        summary(&r),
        r["trace"]
    );
    let want = "127.53.1.1:6262".to_string();
    let mut last = Vec::new();
    while Instant::now() < deadline {
        // Ask from a node that is not the one we bootstrapped from.
        last = lt.get_peers(LT_NODES - 1, ih, 5.0);
        if last.contains(&want) {
            return;
        }
    }
    panic!(
        "libtorrent's get_peers did not find {want}, which we announced to {} nodes: it found {last:?}",
        r["announced"]
    );
}

#[test]
fn libtorrent_nodes_bootstrap_from_our_node_alone() {
    // A loopback address where nothing listens: with no bootstrap at all the node
    // would fall back to the public routers.
    let mut ours = OurNode::start("127.54.1.1:7100", &["127.54.255.1:7100".into()]);
    let mut lt = LtNet::start(LT_NODES, "127.54.0.1", 7100, &[ours.addr.clone()]);
    // Each libtorrent node was told only of our node, so everything else it knows came
    // through us. Bootstrapped means: it holds every other libtorrent node as a live
    // (verified) node. libtorrent's first lookup (its 5 s tick) asks us and puts what we
    // answer in its table or its replacement cache; it confirms one replacement per
    // tick, and lt_net.py starts the sessions one after the other, so the last ones
    // complete after about 35 s: a 60 s deadline.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut live = vec![0; LT_NODES];
    let lt_addrs: Vec<String> = (0..LT_NODES).map(|i| lt.addr(i)).collect();
    loop {
        let v = lt.cmd("table all", Duration::from_secs(10));
        for (i, t) in v["tables"].as_array().unwrap().iter().enumerate() {
            // The other libtorrent nodes among its live nodes (once each).
            let mut others: Vec<&str> = t["live"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n["addr"].as_str())
                .filter(|a| lt_addrs.iter().any(|l| l == a) && *a != lt_addrs[i])
                .collect();
            others.sort_unstable();
            others.dedup();
            live[i] = others.len();
        }
        if live.iter().all(|&n| n == LT_NODES - 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "libtorrent nodes bootstrapping from our node alone hold {live:?} of the {} \
             other libtorrent nodes as live nodes after 60 s; our table has {} nodes",
            LT_NODES - 1,
            ours.table_nodes()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // And they no longer need us: with our node gone, a peer announced by one
    // libtorrent node is found by another.
    drop(ours);
    let ih = "54aa00bb11cc22dd33ee44ff5566778899aabbcc";
    let port = lt.announce(0, ih);
    let want = format!("127.54.0.1:{port}");
    let deadline = Instant::now() + DEADLINE;
    let mut last = Vec::new();
    while Instant::now() < deadline {
        last = lt.get_peers(LT_NODES - 1, ih, 5.0);
        if last.contains(&want) {
            return;
        }
    }
    panic!("without our node, libtorrent's get_peers did not find {want}: it found {last:?}");
}

/// What a node answered to one probe: nothing, a response, or an error reply.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Answer {
    Nothing,
    Response,
    Error,
}

/// Sends `wire` (whose transaction id is `tid`) to `to` and classifies the reply with
/// that transaction id, ignoring the queries the node sends us meanwhile.
fn answer(sock: &UdpSocket, to: &str, wire: &[u8], tid: &[u8]) -> Answer {
    sock.send_to(wire, to).unwrap();
    let mut buf = [0u8; 4096];
    let mut got = Answer::Nothing;
    let until = Instant::now() + Duration::from_millis(700);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            break;
        };
        let Ok(m) = t_and_y(&buf[..n]) else {
            continue;
        };
        if m.0 == tid {
            got = match m.1 {
                b'r' => Answer::Response,
                b'e' => Answer::Error,
                _ => continue,
            };
        }
    }
    got
}

/// The top-level `t` and `y` of a KRPC message, as raw bytes (libtorrent's error reply
/// to an unknown method carries both `e` and `r`, so no full decoder is wanted here).
fn t_and_y(b: &[u8]) -> Result<(Vec<u8>, u8), ()> {
    let find = |key: &[u8]| -> Option<Vec<u8>> {
        let pat = [&[b'0' + key.len() as u8, b':'], key].concat();
        let at = b.windows(pat.len()).position(|w| w == pat.as_slice())? + pat.len();
        let colon = at + b[at..].iter().position(|&c| c == b':')?;
        let len: usize = std::str::from_utf8(&b[at..colon]).ok()?.parse().ok()?;
        b.get(colon + 1..colon + 1 + len).map(<[u8]>::to_vec)
    };
    let t = find(b"t").ok_or(())?;
    let y = find(b"y").ok_or(())?;
    Ok((t, *y.first().ok_or(())?))
}

/// A ping of exactly `len` bytes with transaction id `tid` (an unknown key pads it).
fn ping_of_len(len: usize, tid: &[u8]) -> Vec<u8> {
    let head = [
        &b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:"[..],
        tid,
        b"1:y1:q1:z",
    ]
    .concat();
    let digits = (len - head.len()).to_string().len();
    let pad = len - head.len() - digits - 2;
    let wire = [
        head.as_slice(),
        format!("{pad}:").as_bytes(),
        &vec![b'x'; pad],
        b"e",
    ]
    .concat();
    assert_eq!(wire.len(), len);
    wire
}

#[test]
fn krpc_edge_cases_get_the_answers_libtorrent_gives() {
    let lt = LtNet::start(1, "127.55.0.1", 7100, &[]);
    // Nothing listens at its bootstrap (none would mean the public routers).
    let ours = OurNode::start("127.55.1.1:7100", &["127.55.255.1:7100".into()]);
    let probe = UdpSocket::bind("127.55.2.1:0").unwrap();
    let id = "2:id20:abcdefghij0123456789";
    let ping = |tid: &str| format!("d1:ad{id}e1:q4:ping1:t2:{tid}1:y1:qe").into_bytes();
    let cases: Vec<(&str, Vec<u8>, Answer)> = vec![
        ("a ping", ping("e0"), Answer::Response),
        (
            "a ping without y",
            format!("d1:ad{id}e1:q4:ping1:t2:e1e").into_bytes(),
            Answer::Nothing,
        ),
        (
            "y is neither q, r nor e",
            format!("d1:ad{id}e1:q4:ping1:t2:e21:y1:xe").into_bytes(),
            Answer::Nothing,
        ),
        (
            "y=q without q",
            format!("d1:ad{id}e1:t2:e31:y1:qe").into_bytes(),
            Answer::Error,
        ),
        (
            "y=q without a",
            b"d1:q4:ping1:t2:e41:y1:qe".to_vec(),
            Answer::Error,
        ),
        // libtorrent answers 203 "unknown message", we answer BEP 5's 204: both an error.
        (
            "an unknown method",
            format!("d1:ad{id}e1:q4:vote1:t2:e51:y1:qe").into_bytes(),
            Answer::Error,
        ),
        (
            "bytes after the ping",
            [ping("e6"), b"xyz".to_vec()].concat(),
            Answer::Nothing,
        ),
        (
            "bytes after the ping, ending in e",
            [ping("e7"), b"\0\x01e".to_vec()].concat(),
            Answer::Response,
        ),
        (
            "a ping twice in one datagram",
            [ping("e8"), ping("e8")].concat(),
            Answer::Response,
        ),
        (
            "a 1,500-byte ping",
            ping_of_len(1500, b"e9"),
            Answer::Response,
        ),
        (
            "a 1,501-byte ping",
            ping_of_len(1501, b"f0"),
            Answer::Nothing,
        ),
    ];
    for (what, wire, expected) in &cases {
        let tid = t_and_y(wire).map(|m| m.0).unwrap_or_else(|_| {
            // No `y`: the tid is the 2 bytes after "1:t2:".
            let at = wire.windows(5).position(|w| w == b"1:t2:").unwrap() + 5;
            wire[at..at + 2].to_vec()
        });
        let theirs = answer(&probe, &lt.addr(0), wire, &tid);
        let mine = answer(&probe, &ours.addr, wire, &tid);
        assert_eq!(theirs, *expected, "libtorrent's answer to {what}");
        assert_eq!(
            mine, theirs,
            "our answer to {what}, libtorrent's is {theirs:?}"
        );
    }
}
