//! Trackers that answer too much: the HTTP body cap (`MAX_HTTP_BODY`) in both of
//! its forms.

mod common;

use common::raw_http_tracker;
use std::net::SocketAddr;
use std::time::Duration;
use swarmlab_audit::sources::MAX_HTTP_BODY;
use swarmlab_audit::{audit, AuditConfig, RoundInputs, RoundReport};
use swarmlab_bt_wire::tracker;

const HASH: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

async fn ask(url: String) -> RoundReport {
    let cfg = AuditConfig {
        use_dht: false,
        tracker_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_millis(300),
        peer_budget: Duration::from_secs(2),
        linger: Duration::ZERO,
        ..AuditConfig::default()
    };
    let inputs = RoundInputs {
        trackers: vec![url],
        ..RoundInputs::default()
    };
    audit(HASH, &inputs, &cfg).await.unwrap()
}

/// A body whose `peers` names `n` addresses (on 127.153.x.y, where nothing listens).
fn body_of(n: u32) -> Vec<u8> {
    let peers: Vec<SocketAddr> = (0..n)
        .map(|i| SocketAddr::from(([127, 153, (i >> 8) as u8, i as u8], 1)))
        .collect();
    tracker::http_response_body(60, &peers)
}

/// A declared `Content-Length` over the cap is refused before any of the body is
/// read. (Without that check the client would wait for the 3 MiB the tracker never
/// sends and report a timeout.)
#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_at_once() {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}", 3 << 20);
    let url = raw_http_tracker(head, body_of(1), false).await;
    let r = ask(url).await;
    let s = &r.sources[0];
    assert!(!s.ok && s.peers == 0, "{s:?}");
    assert_eq!(
        s.error.as_deref(),
        Some(format!("tracker response over {MAX_HTTP_BODY} bytes").as_str())
    );
}

/// A body with no declared length is cut off as soon as it passes the cap. (Without
/// that check this valid 3 MiB answer would be read whole and name 10,000 peers.)
#[tokio::test]
async fn a_body_without_length_is_cut_at_the_cap() {
    let body = body_of((3 << 20) / 6);
    assert!(body.len() > MAX_HTTP_BODY);
    let url = raw_http_tracker("HTTP/1.1 200 OK\r\nConnection: close".into(), body, true).await;
    let r = ask(url).await;
    let s = &r.sources[0];
    assert!(!s.ok && s.peers == 0, "{s:?}");
    assert!(
        s.error
            .as_deref()
            .unwrap()
            .starts_with("tracker response over"),
        "{s:?}"
    );
    assert!(r.peers.is_empty());
}

/// Within the cap, the same answer is read.
#[tokio::test]
async fn a_body_within_the_cap_is_read() {
    let url = raw_http_tracker(
        "HTTP/1.1 200 OK\r\nConnection: close".into(),
        body_of(3),
        true,
    )
    .await;
    let r = ask(url).await;
    assert!(r.sources[0].ok, "{:?}", r.sources);
    assert_eq!(r.sources[0].peers, 3);
}
