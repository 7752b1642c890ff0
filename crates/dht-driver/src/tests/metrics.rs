//! The metrics endpoint over TCP: every series the issue lists is there, the answer is
//! Prometheus text, and hostile requests get an error, not a hang. (`promtool check
//! metrics` runs on the binary's output in `crates/cli/tests/metrics.rs`.)

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{serve_metrics, Dht, DriverConfig};

async fn get(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

#[tokio::test]
async fn the_endpoint_serves_every_series() {
    let mut c = DriverConfig::new("127.164.0.1:0".parse().unwrap());
    c.node.limits = swarmlab_dht::limits::Limits::unlimited();
    let dht = Dht::start(c).await.unwrap();
    let (at, task) = serve_metrics("127.164.0.1:0".parse().unwrap(), dht.clone())
        .await
        .unwrap();
    let page = get(at, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("Content-Type: text/plain; version=0.0.4"));
    for series in [
        "swarmlab_dht_queries_in_total{family=\"v4\",method=\"ping\"} 0",
        "swarmlab_dht_queries_out_total{family=\"v4\",method=\"sample_infohashes\"} 0",
        "swarmlab_dht_replies_sent_total{family=\"v4\"}",
        "swarmlab_dht_errors_sent_total{family=\"v4\",code=\"203\"}",
        "swarmlab_dht_errors_in_total{family=\"v4\",code=\"other\"}",
        "swarmlab_dht_timeouts_total{family=\"v4\"}",
        "swarmlab_dht_refused_total{family=\"v4\",reason=\"rate_limited\"}",
        "swarmlab_dht_routing_table_nodes{family=\"v4\",bucket=\"0\",state=\"good\"} 0",
        "swarmlab_dht_peer_store_info_hashes{family=\"v4\"} 0",
        "swarmlab_dht_peer_store_peers{family=\"v4\"} 0",
        "swarmlab_dht_item_store_items{family=\"v4\"} 0",
        "# TYPE swarmlab_dht_lookup_duration_seconds histogram",
        "swarmlab_dht_lookup_duration_seconds_bucket{family=\"v4\",le=\"+Inf\"} 0",
        "swarmlab_dht_lookup_duration_seconds_count{family=\"v4\"} 0",
    ] {
        assert!(page.contains(series), "missing {series}:\n{page}");
    }
    for (req, status) in [
        (&b"GET / HTTP/1.1\r\n\r\n"[..], "404"),
        (b"POST /metrics HTTP/1.1\r\n\r\n", "405"),
        (b"\x16\x03\x01garbage\r\n\r\n", "400"),
    ] {
        let page = get(at, req).await;
        assert!(page.starts_with(&format!("HTTP/1.1 {status}")), "{page}");
    }
    // Headers that never end: cut off at 8 KiB with a 400.
    let mut s = tokio::net::TcpStream::connect(at).await.unwrap();
    let _ = s.write_all(&vec![b'a'; 20_000]).await;
    let mut out = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out)).await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    task.abort();
    dht.shutdown().await;
}
