use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::*;
use std::net::Ipv4Addr;

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn polite_ip_is_never_limited() {
    let t0 = Instant::now();
    let mut l = RateLimiter::new(t0, Limits::default()).unwrap();
    // 4 queries/s for 5 minutes, under the 5/s rate.
    for i in 0..1200u64 {
        let v = l.check_query(t0 + 250 * MS * i as u32, ip(1));
        assert_eq!(v, QueryVerdict::Allowed, "query {i}");
    }
    assert_eq!(l.counters().queries_rate_limited, 0);
}

#[test]
fn flooding_ip_is_blocked_then_released() {
    let t0 = Instant::now();
    let mut l = RateLimiter::new(t0, Limits::default()).unwrap();
    let flood = ip(0x0102_0304);
    let polite = ip(0x0506_0708);
    let mut verdicts = Vec::new();
    // Flood: 100 queries within 100 ms; a polite IP queries alongside.
    for i in 0..100u32 {
        verdicts.push(l.check_query(t0 + MS * i, flood));
        if i % 50 == 0 {
            assert!(l.check_query(t0 + MS * i, polite).is_allowed());
        }
    }
    let allowed = verdicts.iter().filter(|v| v.is_allowed()).count();
    assert_eq!(allowed, 20, "burst passes, then blocked");
    assert_eq!(verdicts[20], QueryVerdict::RateLimited);
    assert!(verdicts[21..].iter().all(|v| *v == QueryVerdict::Blocked));
    assert!(l.is_blocked(t0 + 59 * 1000 * MS, flood));
    assert!(!l.is_blocked(t0, polite));
    assert_eq!(l.blocked_ips(t0 + MS * 100), 1);
    // Still blocked just before 60 s after the offending query.
    assert_eq!(
        l.check_query(t0 + 60_019 * MS, flood),
        QueryVerdict::Blocked
    );
    // Released afterwards, with a refilled bucket.
    assert_eq!(
        l.check_query(t0 + 60_021 * MS, flood),
        QueryVerdict::Allowed
    );
    let c = l.counters();
    assert_eq!(c.ips_blocked, 1);
    assert_eq!(c.queries_rate_limited, 1);
    assert_eq!(c.queries_blocked, 80);
    assert_eq!(c.queries_allowed, 20 + 2 + 1);
}

#[test]
fn per_ip_table_bounded_under_spoofed_flood() {
    let t0 = Instant::now();
    let cfg = Limits {
        max_tracked_ips: 10_000,
        ..Limits::default()
    };
    let mut l = RateLimiter::new(t0, cfg).unwrap();
    // A bad actor gets blocked first.
    let bad = ip(7);
    for _ in 0..30 {
        l.check_query(t0, bad);
    }
    assert!(l.is_blocked(t0, bad));
    for i in 0..100_000u32 {
        let now = t0 + Duration::from_micros(i as u64 * 10);
        assert!(l.check_query(now, ip(0x2000_0000 + i)).is_allowed());
        assert!(l.tracked_ips() <= 10_000);
    }
    // The blocked IP was kept over unblocked idle-ish ones.
    assert!(l.is_blocked(t0 + Duration::from_secs(1), bad));
    assert!(l.counters().ip_entries_evicted > 0);
}

#[test]
fn idle_entries_dropped_for_free() {
    let t0 = Instant::now();
    let cfg = Limits {
        max_tracked_ips: 100,
        ..Limits::default()
    };
    let mut l = RateLimiter::new(t0, cfg).unwrap();
    for i in 0..100 {
        l.check_query(t0, ip(i));
    }
    assert_eq!(l.tracked_ips(), 100);
    // After 1 s every bucket (burst 20, 5/s, 1 token used) is full again.
    l.check_query(t0 + Duration::from_secs(1), ip(1000));
    assert_eq!(l.tracked_ips(), 1);
    assert_eq!(l.counters().ip_entries_evicted, 0);
    l.cleanup(t0 + Duration::from_secs(10));
    assert_eq!(l.tracked_ips(), 0);
}

#[test]
fn global_reply_cap() {
    let t0 = Instant::now();
    let cfg = Limits {
        replies: Some(Rate::new(100.0, 10.0)),
        ..Limits::default()
    };
    let mut l = RateLimiter::new(t0, cfg).unwrap();
    let ok = (0..50).filter(|_| l.allow_reply(t0)).count();
    assert_eq!(ok, 10);
    // Over one second at 100/s: 100 more.
    let mut ok = 0;
    for i in 1..=1000u32 {
        if l.allow_reply(t0 + MS * i) {
            ok += 1;
        }
    }
    assert!((99..=101).contains(&ok), "{ok}");
    assert_eq!(l.counters().replies_dropped, 40 + (1000 - ok));
}

#[test]
fn outgoing_cap_and_ready_time() {
    let t0 = Instant::now();
    let cfg = Limits {
        outgoing_queries: Some(Rate::new(10.0, 2.0)),
        ..Limits::default()
    };
    let mut l = RateLimiter::new(t0, cfg).unwrap();
    assert!(l.allow_outgoing(t0));
    assert!(l.allow_outgoing(t0));
    assert!(!l.allow_outgoing(t0));
    let ready = l.outgoing_ready_at(t0);
    assert!(ready > t0 && ready <= t0 + 101 * MS, "{:?}", ready - t0);
    assert!(l.allow_outgoing(ready));
    let c = l.counters();
    assert_eq!((c.outgoing_allowed, c.outgoing_denied), (3, 1));
}

#[test]
fn unlimited_allows_everything_and_tracks_nothing() {
    let t0 = Instant::now();
    let mut l = RateLimiter::new(t0, Limits::unlimited()).unwrap();
    for i in 0..10_000u32 {
        assert!(l.check_query(t0, ip(i % 3)).is_allowed());
        assert!(l.allow_reply(t0));
        assert!(l.allow_outgoing(t0));
    }
    assert_eq!(l.tracked_ips(), 0);
    assert_eq!(l.outgoing_ready_at(t0), t0);
    let c = l.counters();
    assert_eq!(c.queries_allowed, 10_000);
    assert_eq!(c.replies_allowed, 10_000);
    assert_eq!(c.outgoing_allowed, 10_000);
}

#[test]
fn config_validation() {
    let t0 = Instant::now();
    for bad in [
        Rate::new(0.0, 1.0),
        Rate::new(f64::NAN, 1.0),
        Rate::new(1.0, 0.5),
        Rate::new(f64::INFINITY, 1.0),
    ] {
        let cfg = Limits {
            per_ip: Some(bad),
            ..Limits::default()
        };
        assert!(RateLimiter::new(t0, cfg).is_err());
    }
    let cfg = Limits {
        max_tracked_ips: 0,
        ..Limits::default()
    };
    assert!(RateLimiter::new(t0, cfg).is_err());
    // A cap of 1 works.
    let cfg = Limits {
        max_tracked_ips: 1,
        ..Limits::default()
    };
    let mut l = RateLimiter::new(t0, cfg).unwrap();
    for i in 0..10 {
        l.check_query(t0, ip(i));
        assert_eq!(l.tracked_ips(), 1);
    }
}

#[test]
fn ipv4_mapped_counts_as_ipv4() {
    let t0 = Instant::now();
    let mut l = RateLimiter::new(t0, Limits::default()).unwrap();
    let v4: IpAddr = "1.2.3.4".parse().unwrap();
    let mapped: IpAddr = "::ffff:1.2.3.4".parse().unwrap();
    for _ in 0..10 {
        l.check_query(t0, v4);
        l.check_query(t0, mapped);
    }
    assert_eq!(l.tracked_ips(), 1);
    assert_eq!(l.check_query(t0, mapped), QueryVerdict::RateLimited);
}
