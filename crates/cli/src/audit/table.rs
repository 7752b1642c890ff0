//! The report as a table for the terminal: one row per peer, then the sources and
//! the swarm's summary.

use std::fmt::Write as _;

use swarmlab_audit::report::{PeerRecord, RoundReport};

/// Human-readable rate.
pub fn fmt_rate(bps: f64) -> String {
    if bps >= 1e6 {
        format!("{:.1} MB/s", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.1} kB/s", bps / 1e3)
    } else {
        format!("{bps:.0} B/s")
    }
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn short_source(s: &str) -> &str {
    match s {
        "http_tracker" => "http",
        "udp_tracker" => "udp",
        other => other,
    }
}

/// The report as a readable table with a summary.
pub fn table(r: &RoundReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "swarm {}{}  round {}  ({:.1} s)",
        r.info_hash,
        r.name
            .as_ref()
            .map(|n| format!(" \"{}\"", cut(n, 40)))
            .unwrap_or_default(),
        r.round,
        r.duration_ms as f64 / 1000.0
    );
    if let (Some(n), Some(l)) = (r.num_pieces, r.piece_length) {
        let _ = writeln!(
            o,
            "{} pieces of {} bytes{}",
            n,
            l,
            if r.metadata_fetched {
                " (info dictionary fetched with ut_metadata)"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(o, "info dictionary unknown (no peer offered ut_metadata)");
    }
    let _ = writeln!(
        o,
        "\n{:<22} {:<12} {:<16} {:<26} {:>6} {:<4} {:>10} {:>4} {:>5}",
        "ADDRESS", "SOURCES", "RESULT", "CLIENT", "DONE", "EXT", "RATE", "PEX", "DHT"
    );
    for p in &r.peers {
        let _ = writeln!(o, "{}", row(p));
    }
    let s = &r.summary;
    let _ = writeln!(o, "\nsources:");
    if r.sources.is_empty() {
        let _ = writeln!(o, "  (no tracker or DHT queried)");
    }
    for src in &r.sources {
        let _ = writeln!(
            o,
            "  {:<13} {:<40} {}",
            src.kind,
            cut(&src.url, 40),
            if src.ok {
                format!(
                    "{} peers{}",
                    src.peers,
                    match (src.seeders, src.leechers) {
                        (Some(a), Some(b)) => format!(" (tracker says {a} seeds, {b} leechers)"),
                        _ => String::new(),
                    }
                )
            } else {
                format!("failed: {}", src.error.as_deref().unwrap_or("?"))
            }
        );
    }
    let by_source: Vec<String> = s
        .found_by_source
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        o,
        "peers found: {} ({})",
        s.peers_found,
        by_source.join(", ")
    );
    let failed: Vec<String> = s
        .failed_by_reason
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        o,
        "reached: {}   failed: {}{}",
        s.reached,
        s.failed,
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        }
    );
    if !s.errors_after_handshake.is_empty() {
        let e: Vec<String> = s
            .errors_after_handshake
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(o, "errors after the handshake: {}", e.join(", "));
    }
    let _ = writeln!(
        o,
        "seeds: {}   leechers: {}{}",
        s.seeds,
        s.leechers,
        if s.completion_unknown > 0 {
            format!("   completion unknown: {}", s.completion_unknown)
        } else {
            String::new()
        }
    );
    if !s.clients.is_empty() {
        let c: Vec<String> = s.clients.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
        let _ = writeln!(o, "clients: {}", c.join(", "));
    }
    if !s.extensions.is_empty() {
        let e: Vec<String> = s
            .extensions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(o, "extensions: {}", e.join(", "));
    }
    if let Some(a) = &s.availability {
        let rare: Vec<String> = a
            .rarest
            .iter()
            .take(5)
            .map(|(p, c)| format!("#{p}:{c}"))
            .collect();
        let _ = writeln!(
            o,
            "availability: min {} copies, mean {:.2}, distributed copies {:.3}, rarest {}",
            a.min,
            a.mean,
            a.distributed_copies,
            rare.join(" ")
        );
    }
    if s.probed_peers > 0 {
        let _ = writeln!(
            o,
            "probed: {} peers, {} pieces verified, {} failed",
            s.probed_peers, s.probed_pieces_verified, s.probed_pieces_failed
        );
    }
    if let Some(c) = &r.churn {
        let _ = writeln!(
            o,
            "churn since last round: {} joined, {} left, {} completion changes",
            c.joined.len(),
            c.left.len(),
            c.completion_changes.len()
        );
        for a in c.joined.iter().take(20) {
            let _ = writeln!(o, "  + {a}");
        }
        for a in c.left.iter().take(20) {
            let _ = writeln!(o, "  - {a}");
        }
        for (a, x, y) in c.completion_changes.iter().take(20) {
            let _ = writeln!(o, "  ~ {a} {:.1}% -> {:.1}%", x * 100.0, y * 100.0);
        }
    }
    o
}

fn row(p: &PeerRecord) -> String {
    let srcs: Vec<&str> = p.sources.iter().map(|s| short_source(s)).collect();
    let result = if p.reached {
        match &p.failure {
            Some(f) => format!("ok, {}", f.reason.as_str()),
            None => "ok".into(),
        }
    } else {
        match &p.failure {
            Some(f) => f.reason.as_str().to_string(),
            None => p.ended.clone(),
        }
    };
    let done = match (p.completion, p.seed) {
        (Some(_), Some(true)) => "seed".into(),
        (Some(c), _) => format!("{:.1}%", c * 100.0),
        _ => "-".into(),
    };
    let ext = format!(
        "{}{}{}",
        if p.supports_extensions { "E" } else { "" },
        if p.supports_dht { "D" } else { "" },
        if p.supports_fast { "F" } else { "" }
    );
    let rate = p
        .probe
        .as_ref()
        .and_then(|pr| pr.rate_bps)
        .or(p.have_rate_bps)
        .map(fmt_rate)
        .unwrap_or_else(|| "-".into());
    format!(
        "{:<22} {:<12} {:<16} {:<26} {:>6} {:<4} {:>10} {:>4} {:>5}",
        cut(&p.addr, 22),
        cut(&srcs.join(","), 12),
        cut(&result, 16),
        cut(p.client.as_deref().unwrap_or("-"), 26),
        done,
        ext,
        rate,
        p.pex_neighbours.len(),
        p.dht_port
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use swarmlab_audit::report::{Failure, FailureReason, SwarmSummary};

    pub(crate) fn report() -> RoundReport {
        let mut seed = PeerRecord::new("127.0.0.2:6881".parse().unwrap());
        seed.reached = true;
        seed.sources = vec!["http_tracker".into(), "pex".into()];
        seed.client = Some("FakePeer/1.0".into());
        seed.completion = Some(1.0);
        seed.seed = Some(true);
        seed.supports_extensions = true;
        seed.supports_fast = true;
        seed.dht_port = Some(6999);
        seed.have_rate_bps = Some(65_536.0);
        let mut gone = PeerRecord::new("127.0.0.3:1".parse().unwrap());
        gone.sources = vec!["manual".into()];
        gone.failure = Some(Failure::new(FailureReason::Refused, "connect", "refused"));
        RoundReport {
            round: 2,
            started_unix: 0,
            duration_ms: 1500,
            info_hash: "c12fe1c06bba254a9dc9f519b335aa7c1367a88a".into(),
            name: Some("payload".into()),
            num_pieces: Some(20),
            piece_length: Some(16384),
            metadata_fetched: true,
            sources: vec![],
            summary: SwarmSummary {
                peers_found: 2,
                reached: 1,
                failed: 1,
                seeds: 1,
                ..SwarmSummary::default()
            },
            churn: None,
            peers: vec![seed, gone],
        }
    }

    #[test]
    fn a_row_per_peer_and_the_summary() {
        let t = table(&report());
        assert!(t.starts_with(
            "swarm c12fe1c06bba254a9dc9f519b335aa7c1367a88a \"payload\"  round 2  (1.5 s)\n"
        ));
        assert!(t.contains("20 pieces of 16384 bytes (info dictionary fetched with ut_metadata)"));
        let row = t.lines().find(|l| l.starts_with("127.0.0.2:6881")).unwrap();
        for cell in [
            "http,pex",
            "ok",
            "FakePeer/1.0",
            "seed",
            "EF",
            "65.5 kB/s",
            "6999",
        ] {
            assert!(row.contains(cell), "{cell} in {row}");
        }
        let row = t.lines().find(|l| l.starts_with("127.0.0.3:1")).unwrap();
        assert!(row.contains("manual") && row.contains("refused"), "{row}");
        assert!(t.contains("reached: 1   failed: 1"), "{t}");
        assert!(t.contains("(no tracker or DHT queried)"));
    }

    #[test]
    fn rates_and_cuts() {
        assert_eq!(fmt_rate(12.0), "12 B/s");
        assert_eq!(fmt_rate(1_500.0), "1.5 kB/s");
        assert_eq!(fmt_rate(2_500_000.0), "2.5 MB/s");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
