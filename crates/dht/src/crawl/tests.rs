//! Each politeness rule of the crawl, and what its report counts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmlab_krpc::{Id, Node4, Response};

use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn crawl(cfg: CrawlConfig) -> (Crawl, Instant) {
    let now = Instant::now();
    (Crawl::new(now, cfg, 7).unwrap(), now)
}

/// A fast crawl (a query every nanosecond) to look at the other rules.
fn fast() -> CrawlConfig {
    CrawlConfig {
        rate: 1e9,
        ..CrawlConfig::default()
    }
}

fn samples(interval: Option<i64>, hashes: &[u8]) -> Response {
    let mut r = Response::new(Id([9; 20]));
    r.interval = interval;
    r.num = Some(hashes.len() as i64);
    r.samples = Some(hashes.iter().map(|&b| Id([b; 20])).collect());
    r
}

/// Every query due from `now` on, polling a nanosecond apart (a rate of 1e9 per second
/// lets one out per nanosecond; the tests of the rate itself poll at fixed instants).
fn drain(c: &mut Crawl, now: Instant) -> Vec<CrawlQuery> {
    let mut out = Vec::new();
    for ns in 0..1000 {
        if let Some(q) = c.poll_query(now + Duration::from_nanos(ns)) {
            out.push(q);
        }
    }
    out
}

#[test]
fn a_node_is_not_asked_again_before_its_interval() {
    let (mut c, t0) = crawl(fast());
    let a = addr("198.51.100.1:6881");
    c.add_node(t0, a);
    let q = drain(&mut c, t0);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].kind, QueryKind::Sample);
    c.on_reply(t0, a, &samples(Some(300), &[1, 2]));
    assert_eq!(c.next_query_at(a), Some(t0 + Duration::from_secs(300)));
    assert!(drain(&mut c, t0 + Duration::from_secs(299)).is_empty());
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    let q = drain(&mut c, t0 + Duration::from_secs(300));
    assert_eq!(q.iter().map(|q| q.to).collect::<Vec<_>>(), vec![a]);
}

#[test]
fn no_interval_waits_the_bep51_maximum_and_zero_waits_the_minimum() {
    let (mut c, t0) = crawl(fast());
    let (a, b, x) = (
        addr("198.51.100.1:1"),
        addr("198.51.100.2:1"),
        addr("198.51.100.3:1"),
    );
    for n in [a, b, x] {
        c.add_node(t0, n);
    }
    assert_eq!(drain(&mut c, t0).len(), 3);
    c.on_reply(t0, a, &samples(None, &[1]));
    c.on_reply(t0, b, &samples(Some(0), &[1]));
    c.on_reply(t0, x, &samples(Some(i64::MAX), &[1]));
    assert_eq!(c.next_query_at(a), Some(t0 + Duration::from_secs(6 * 3600)));
    assert_eq!(c.next_query_at(b), Some(t0 + Duration::from_secs(60)));
    assert_eq!(c.next_query_at(x), Some(t0 + Duration::from_secs(6 * 3600)));
    // Without re-queries, an answer is the end of a node.
    let (mut c, t0) = crawl(CrawlConfig {
        requery: false,
        ..fast()
    });
    c.add_node(t0, a);
    drain(&mut c, t0);
    c.on_reply(t0, a, &samples(Some(1), &[1]));
    assert_eq!(c.next_query_at(a), None);
    assert!(c.is_idle());
}

#[test]
fn one_query_in_flight_per_ip_and_the_in_flight_cap() {
    let (mut c, t0) = crawl(CrawlConfig {
        max_in_flight: 2,
        ..fast()
    });
    let same = [addr("198.51.100.1:1"), addr("198.51.100.1:2")];
    let others = [addr("198.51.100.2:1"), addr("198.51.100.3:1")];
    for n in same.iter().chain(&others) {
        c.add_node(t0, *n);
    }
    let q = drain(&mut c, t0);
    assert_eq!(q.len(), 2, "the cap");
    let ips: std::collections::HashSet<_> = q.iter().map(|q| q.to.ip()).collect();
    assert_eq!(ips.len(), 2, "two queries to one IP: {q:?}");
    assert_eq!(c.poll_timeout(), None, "only an answer can free a slot");
    // Answers free the slots; the second port of the first IP goes only once the first
    // is answered.
    for q in &q {
        c.on_reply(t0, q.to, &samples(Some(600), &[]));
    }
    let q2 = drain(&mut c, t0);
    assert_eq!(q2.len(), 2);
    let all: Vec<SocketAddr> = q.iter().chain(&q2).map(|q| q.to).collect();
    for n in same.iter().chain(&others) {
        assert!(all.contains(n), "{n} never asked");
    }
}

#[test]
fn queries_are_spaced_by_the_rate() {
    let (mut c, t0) = crawl(CrawlConfig {
        rate: 10.0,
        ..CrawlConfig::default()
    });
    for i in 1..=5u8 {
        c.add_node(t0, addr(&format!("198.51.100.{i}:1")));
    }
    assert_eq!(drain(&mut c, t0).len(), 1);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(100)));
    assert!(drain(&mut c, t0 + Duration::from_millis(99)).is_empty());
    assert_eq!(drain(&mut c, t0 + Duration::from_millis(100)).len(), 1);
    // Idle time does not save up a burst: after 10 s, still one at a time.
    assert_eq!(drain(&mut c, t0 + Duration::from_secs(10)).len(), 1);
}

#[test]
fn a_node_without_bep51_gets_one_find_node_and_no_more() {
    let (mut c, t0) = crawl(fast());
    let a = addr("198.51.100.1:1");
    c.add_node(t0, a);
    drain(&mut c, t0);
    c.on_error(t0, a, 204);
    let q = drain(&mut c, t0);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].kind, QueryKind::FindNode);
    let mut r = Response::new(Id([3; 20]));
    r.nodes = Some(vec![Node4 {
        id: Id([4; 20]),
        addr: "198.51.100.9:6881".parse().unwrap(),
    }]);
    c.on_reply(t0, a, &r);
    assert_eq!(c.next_query_at(a), None, "never asked again");
    // Its neighbour is next.
    let q = drain(&mut c, t0);
    assert_eq!(q[0].to, addr("198.51.100.9:6881"));
    // A reply without samples (a node that took the query for another) also ends it.
    let b = addr("198.51.100.9:6881");
    c.on_reply(t0, b, &Response::new(Id([5; 20])));
    assert_eq!(c.next_query_at(b), None);
    assert!(drain(&mut c, t0 + Duration::from_secs(100_000)).is_empty());
}

#[test]
fn a_silent_node_is_asked_once_more_then_dropped() {
    let (mut c, t0) = crawl(fast());
    let a = addr("198.51.100.1:1");
    c.add_node(t0, a);
    drain(&mut c, t0);
    c.on_timeout(t0, a);
    assert_eq!(c.next_query_at(a), Some(t0 + Duration::from_secs(60)));
    assert!(drain(&mut c, t0 + Duration::from_secs(59)).is_empty());
    let t1 = t0 + Duration::from_secs(60);
    assert_eq!(drain(&mut c, t1).len(), 1);
    c.on_timeout(t1, a);
    assert_eq!(c.next_query_at(a), None);
    assert!(c.is_idle());
    let r = c.report(t1);
    assert_eq!((r.nodes_contacted, r.nodes_answered, r.timeouts), (1, 0, 2));
}

#[test]
fn memory_is_bounded_and_bad_addresses_are_ignored() {
    let (mut c, t0) = crawl(CrawlConfig {
        max_nodes: 3,
        ..fast()
    });
    for i in 1..=10u8 {
        c.add_node(t0, addr(&format!("198.51.100.{i}:1")));
    }
    c.add_node(t0, addr("0.0.0.0:1"));
    assert_eq!(c.report(t0).nodes_known, 3);
    let (mut c, t0) = crawl(fast());
    c.add_node(t0, addr("198.51.100.1:0"));
    c.add_node(t0, addr("255.255.255.255:1"));
    assert_eq!(c.report(t0).nodes_known, 0);
    // An answer from a node we did not ask changes nothing.
    c.on_reply(t0, addr("198.51.100.7:1"), &samples(Some(1), &[1]));
    assert_eq!(c.report(t0).info_hashes, 0);
}

#[test]
fn the_report_counts_hashes_nodes_and_the_hourly_rate() {
    let (mut c, t0) = crawl(fast());
    let (a, b) = (addr("198.51.100.1:1"), addr("198.51.100.2:1"));
    c.add_node(t0, a);
    c.add_node(t0, b);
    drain(&mut c, t0);
    let t1 = t0 + Duration::from_secs(1800);
    c.on_reply(t1, a, &samples(Some(600), &[1, 2, 3]));
    c.on_reply(t1, b, &samples(Some(600), &[3, 4]));
    let r = c.report(t1);
    assert_eq!(r.info_hashes, 4);
    assert!((r.per_hour - 8.0).abs() < 1e-9, "{}", r.per_hour);
    assert_eq!((r.nodes_contacted, r.nodes_bep51, r.num_total), (2, 2, 5));
    let three = r.found.iter().find(|f| f.info_hash == Id([3; 20])).unwrap();
    assert_eq!(three.nodes, 2);
    assert!((three.first_seen_s - 1800.0).abs() < 1e-6);
    assert!(Crawl::new(
        t0,
        CrawlConfig {
            rate: 0.0,
            ..fast()
        },
        1
    )
    .is_err());
}
