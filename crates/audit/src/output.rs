//! Output: a terminal table, JSON, and CSV.

use crate::report::{PeerRecord, RoundReport};
use std::fmt::Write as _;
use std::io::Write;

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

/// The CSV header.
pub const CSV_HEADER: &[&str] = &[
    "round",
    "addr",
    "sources",
    "reached",
    "failure_reason",
    "failure_stage",
    "failure_detail",
    "ended",
    "connect_ms",
    "duration_ms",
    "reserved",
    "supports_extensions",
    "supports_dht",
    "supports_fast",
    "peer_id_prefix",
    "client_from_peer_id",
    "client_version",
    "extensions",
    "ext_p",
    "ext_reqq",
    "ext_yourip",
    "metadata_size",
    "pieces_announced",
    "pieces_have",
    "num_pieces",
    "completion",
    "seed",
    "haves_total",
    "have_rate_bps",
    "unchoked_us",
    "probe_pieces_verified",
    "probe_pieces_failed",
    "probe_bytes",
    "probe_rate_bps",
    "pex_neighbours",
    "dht_port",
    "metadata",
    "warnings",
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

/// Write every peer of `r` as CSV rows (with the header when `header`).
pub fn write_csv<W: Write>(w: W, r: &RoundReport, header: bool) -> Result<(), csv::Error> {
    let mut c = csv::WriterBuilder::new().has_headers(false).from_writer(w);
    if header {
        c.write_record(CSV_HEADER)?;
    }
    for p in &r.peers {
        let ext = p.ext.clone().unwrap_or_default();
        let probe = p.probe.clone().unwrap_or_default();
        c.write_record([
            r.round.to_string(),
            p.addr.clone(),
            p.sources.join(" "),
            p.reached.to_string(),
            p.failure
                .as_ref()
                .map(|f| f.reason.as_str().to_string())
                .unwrap_or_default(),
            p.failure
                .as_ref()
                .map(|f| f.stage.to_string())
                .unwrap_or_default(),
            p.failure
                .as_ref()
                .map(|f| f.detail.clone())
                .unwrap_or_default(),
            p.ended.clone(),
            opt(&p.connect_ms),
            p.duration_ms.to_string(),
            opt(&p.reserved),
            p.supports_extensions.to_string(),
            p.supports_dht.to_string(),
            p.supports_fast.to_string(),
            opt(&p.peer_id_prefix),
            opt(&p.client_from_peer_id),
            opt(&p.client_version),
            p.extensions.join(" "),
            opt(&ext.p),
            opt(&ext.reqq),
            opt(&ext.yourip),
            opt(&ext.metadata_size),
            opt(&p.pieces_announced),
            opt(&p.pieces_have),
            opt(&p.num_pieces),
            p.completion.map(|c| format!("{c:.4}")).unwrap_or_default(),
            opt(&p.seed),
            p.haves_total.to_string(),
            p.have_rate_bps
                .map(|x| format!("{x:.0}"))
                .unwrap_or_default(),
            p.unchoked_us.to_string(),
            if p.probe.is_some() {
                probe.pieces_verified.to_string()
            } else {
                String::new()
            },
            if p.probe.is_some() {
                probe.pieces_failed.to_string()
            } else {
                String::new()
            },
            if p.probe.is_some() {
                probe.bytes.to_string()
            } else {
                String::new()
            },
            probe
                .rate_bps
                .map(|x| format!("{x:.0}"))
                .unwrap_or_default(),
            p.pex_neighbours.join(" "),
            opt(&p.dht_port),
            opt(&p.metadata),
            p.warnings.join("; "),
        ])?;
    }
    c.flush()?;
    Ok(())
}
