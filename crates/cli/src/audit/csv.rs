//! The report as CSV: one row per peer, a `round` column, the header once.

use std::io::Write;

use swarmlab_audit::report::RoundReport;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_once_then_a_row_per_peer() {
        let r = super::super::table::tests::report();
        let mut out = Vec::new();
        write_csv(&mut out, &r, true).unwrap();
        write_csv(&mut out, &r, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 2 + 2, "{text}");
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert!(
            lines[1].starts_with("2,127.0.0.2:6881,http_tracker pex,true,,,,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("2,127.0.0.3:1,manual,false,refused,connect,refused,"),
            "{}",
            lines[2]
        );
        for l in &lines[1..] {
            assert_eq!(l.split(',').count(), CSV_HEADER.len(), "{l}");
        }
    }
}
