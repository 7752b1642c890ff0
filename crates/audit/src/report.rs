//! Report types: one [`PeerRecord`] per address, a [`SwarmSummary`], and churn between rounds.

use crate::sources::SourceReport;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::wire::Bitfield;

/// Most have events kept per peer.
pub const MAX_HAVE_EVENTS: usize = 4096;
/// Most PEX neighbours kept per peer.
pub const MAX_PEX_NEIGHBOURS: usize = 500;
/// Most warnings kept per peer.
pub const MAX_WARNINGS: usize = 16;

/// Why a peer could not be audited (or what went wrong after the handshake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// Connection refused (nothing listens there).
    Refused,
    /// No answer in time (connect or handshake).
    Timeout,
    /// The answer was not a BitTorrent handshake.
    BadHandshake,
    /// The handshake named another torrent.
    WrongInfoHash,
    /// The peer closed the connection before we were done.
    Disconnected,
    /// The peer broke the protocol (oversized message, bad bitfield, bad metadata...).
    ProtocolError,
    /// No route to the address.
    Unreachable,
    /// Any other socket error.
    Io,
}

impl FailureReason {
    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Refused => "refused",
            FailureReason::Timeout => "timeout",
            FailureReason::BadHandshake => "bad_handshake",
            FailureReason::WrongInfoHash => "wrong_info_hash",
            FailureReason::Disconnected => "disconnected",
            FailureReason::ProtocolError => "protocol_error",
            FailureReason::Unreachable => "unreachable",
            FailureReason::Io => "io",
        }
    }
}

/// A failure with its reason, the stage it happened in and details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Why.
    pub reason: FailureReason,
    /// "connect", "handshake" or "session".
    pub stage: &'static str,
    /// Human-readable detail.
    pub detail: String,
}

impl Failure {
    /// Build a failure.
    pub fn new(reason: FailureReason, stage: &'static str, detail: impl Into<String>) -> Failure {
        Failure {
            reason,
            stage,
            detail: detail.into(),
        }
    }
}

/// Fields of a peer's BEP 10 extension handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExtInfo {
    /// `p`: its listen port.
    pub p: Option<u16>,
    /// `reqq`.
    pub reqq: Option<i64>,
    /// `yourip`: our address as it sees it.
    pub yourip: Option<String>,
    /// `metadata_size`.
    pub metadata_size: Option<u64>,
    /// `upload_only`.
    pub upload_only: Option<bool>,
}

/// One have message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HaveEvent {
    /// Milliseconds since the connection was established.
    pub ms: u64,
    /// Piece index.
    pub piece: u32,
}

/// Result of `--probe-pieces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeResult {
    /// Pieces chosen to download.
    pub pieces_wanted: usize,
    /// Pieces downloaded whose SHA-1 matched.
    pub pieces_verified: usize,
    /// Pieces downloaded whose SHA-1 did not match.
    pub pieces_failed: usize,
    /// Payload bytes received.
    pub bytes: u64,
    /// Time from the first request to the last block, seconds.
    pub seconds: f64,
    /// Measured download rate, bytes per second.
    pub rate_bps: Option<f64>,
    /// Whether the peer ever unchoked us.
    pub unchoked: bool,
    /// Why probing stopped early, if it did.
    pub note: Option<String>,
}

/// Everything recorded about one peer address.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerRecord {
    /// `ip:port` (peers are identified by address, never by peer id).
    pub addr: String,
    /// Sources that named this address ("http_tracker", "udp_tracker", "dht", "pex", "manual", "magnet").
    pub sources: Vec<String>,
    /// Whether the BitTorrent handshake succeeded.
    pub reached: bool,
    /// What failed (before the handshake if `reached` is false, after it otherwise).
    pub failure: Option<Failure>,
    /// How the session ended: "done", "budget", "peer_closed", "error".
    pub ended: String,
    /// TCP connect time, milliseconds.
    pub connect_ms: Option<u64>,
    /// Time spent with the peer, milliseconds.
    pub duration_ms: u64,
    /// Reserved bytes of its handshake, hex.
    pub reserved: Option<String>,
    /// Reserved bit: extension protocol (BEP 10).
    pub supports_extensions: bool,
    /// Reserved bit: DHT (BEP 5).
    pub supports_dht: bool,
    /// Reserved bit: fast extension (BEP 6).
    pub supports_fast: bool,
    /// Its peer id, hex.
    pub peer_id: Option<String>,
    /// Printable first 8 bytes of the peer id.
    pub peer_id_prefix: Option<String>,
    /// Client name from the peer id.
    pub client_from_peer_id: Option<String>,
    /// Client name from the extension handshake's `v`.
    pub client_version: Option<String>,
    /// Best available client name.
    pub client: Option<String>,
    /// Extensions it enabled in `m`, by name.
    pub extensions: Vec<String>,
    /// Other extension-handshake fields.
    pub ext: Option<ExtInfo>,
    /// How it announced its pieces: "bitfield", "have_all", "have_none", "haves_only", "nothing".
    pub pieces_announced: Option<String>,
    /// Pieces it has (bitfield plus haves), when the piece count is known.
    pub pieces_have: Option<usize>,
    /// Pieces in the torrent, when known.
    pub num_pieces: Option<usize>,
    /// Completion in [0, 1].
    pub completion: Option<f64>,
    /// Seed (complete) or leecher.
    pub seed: Option<bool>,
    /// Have messages seen (first [`MAX_HAVE_EVENTS`]).
    pub have_events: Vec<HaveEvent>,
    /// Have messages seen in total.
    pub haves_total: usize,
    /// Download rate implied by the have messages, bytes per second.
    pub have_rate_bps: Option<f64>,
    /// Whether it unchoked us.
    pub unchoked_us: bool,
    /// Piece probe result.
    pub probe: Option<ProbeResult>,
    /// Peers it named through ut_pex (first [`MAX_PEX_NEIGHBOURS`]).
    pub pex_neighbours: Vec<String>,
    /// ut_pex messages received.
    pub pex_messages: usize,
    /// PEX entries dropped because of caps.
    pub pex_truncated: usize,
    /// Port of its DHT node (BEP 5 `port` message).
    pub dht_port: Option<u16>,
    /// ut_metadata outcome when we needed the info dictionary: "fetched", "rejected", "bad_hash", ...
    pub metadata: Option<String>,
    /// Protocol oddities that did not end the session.
    pub warnings: Vec<String>,
}

impl PeerRecord {
    /// A fresh record for `addr`.
    pub fn new(addr: SocketAddr) -> PeerRecord {
        PeerRecord {
            addr: addr.to_string(),
            ended: "error".into(),
            ..PeerRecord::default()
        }
    }
    /// Add a warning (bounded).
    pub fn warn(&mut self, w: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w.into());
        }
    }
}

/// Raw piece evidence gathered by a session, interpreted once the piece count is known.
#[derive(Debug, Clone, Default)]
pub struct PieceEvidence {
    /// "bitfield", "have_all", "have_none".
    pub kind: Option<&'static str>,
    /// The raw bitfield message body.
    pub raw_bitfield: Option<Vec<u8>>,
    /// Pieces from have messages (bounded).
    pub haves: Vec<u32>,
    /// Time of the first piece announcement (bitfield/have_all/have_none), ms.
    pub first_ms: Option<u64>,
}

/// Most have indices kept before the piece count is known.
pub const MAX_HAVES_KEPT: usize = 1 << 16;

/// Fill in completion, seed and have-rate from `ev` once `info` is (maybe) known.
/// A bitfield of the wrong length becomes a protocol failure for this peer.
pub fn finalize(rec: &mut PeerRecord, ev: &PieceEvidence, info: Option<&Info>) {
    if !rec.reached {
        return;
    }
    rec.pieces_announced = Some(
        ev.kind
            .unwrap_or(if ev.haves.is_empty() {
                "nothing"
            } else {
                "haves_only"
            })
            .to_string(),
    );
    let Some(info) = info else {
        match ev.kind {
            Some("have_all") => {
                rec.completion = Some(1.0);
                rec.seed = Some(true);
            }
            Some("have_none") if ev.haves.is_empty() => {
                rec.completion = Some(0.0);
                rec.seed = Some(false);
            }
            _ => {}
        }
        return;
    };
    let n = info.num_pieces();
    rec.num_pieces = Some(n);
    let mut bf = match (ev.kind, &ev.raw_bitfield) {
        (Some("have_all"), _) => Bitfield::full(n),
        (Some("bitfield"), Some(raw)) => match Bitfield::from_bytes(raw, n) {
            Some(b) => b,
            None => {
                if rec.failure.is_none() {
                    rec.failure = Some(Failure::new(
                        FailureReason::ProtocolError,
                        "session",
                        format!(
                            "bitfield of wrong length: {} bytes for {} pieces (want {})",
                            raw.len(),
                            n,
                            n.div_ceil(8)
                        ),
                    ));
                }
                return;
            }
        },
        _ => Bitfield::new(n),
    };
    let before = bf.count();
    let mut bad = 0;
    let mut new_pieces = 0;
    for &h in &ev.haves {
        if (h as usize) < n {
            if !bf.has(h as usize) {
                new_pieces += 1;
            }
            bf.set(h as usize);
        } else {
            bad += 1;
        }
    }
    if bad > 0 {
        rec.warn(format!("{bad} have messages for pieces beyond {n}"));
    }
    let have = bf.count();
    rec.pieces_have = Some(have);
    rec.completion = Some(if n == 0 { 1.0 } else { have as f64 / n as f64 });
    rec.seed = Some(have == n);
    // Rate implied by new pieces announced over time after the initial announcement.
    if new_pieces > 0 && before < n {
        let start = ev.first_ms.unwrap_or(0);
        let last = rec.have_events.last().map(|e| e.ms).unwrap_or(0);
        if last > start {
            let secs = (last - start) as f64 / 1000.0;
            rec.have_rate_bps = Some(new_pieces as f64 * info.piece_length as f64 / secs);
        }
    }
}

/// Piece availability across reached peers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Availability {
    /// Fewest copies of any piece.
    pub min: usize,
    /// Mean copies per piece.
    pub mean: f64,
    /// Distributed copies (libtorrent's definition: min + fraction of pieces above min).
    pub distributed_copies: f64,
    /// Up to 10 rarest pieces, rarest first: (piece, copies).
    pub rarest: Vec<(usize, usize)>,
}

/// Per-swarm figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SwarmSummary {
    /// Distinct addresses found.
    pub peers_found: usize,
    /// Addresses found per source (an address named by two sources counts for both).
    pub found_by_source: BTreeMap<String, usize>,
    /// Handshakes that succeeded.
    pub reached: usize,
    /// Addresses recorded but not contacted (PEX peers with --no-pex).
    pub not_contacted: usize,
    /// Addresses that could not be audited.
    pub failed: usize,
    /// Failures by reason (unreached peers).
    pub failed_by_reason: BTreeMap<String, usize>,
    /// Errors after a successful handshake, by reason.
    pub errors_after_handshake: BTreeMap<String, usize>,
    /// Reached peers with all pieces.
    pub seeds: usize,
    /// Reached peers missing pieces.
    pub leechers: usize,
    /// Reached peers whose completion is unknown.
    pub completion_unknown: usize,
    /// Reached peers per client.
    pub clients: BTreeMap<String, usize>,
    /// Reached peers supporting each extension (`m` entries and reserved bits).
    pub extensions: BTreeMap<String, usize>,
    /// Piece availability, when the piece count is known.
    pub availability: Option<Availability>,
    /// Peers whose pieces were probed, and pieces verified / failed.
    pub probed_peers: usize,
    /// Probed pieces whose hash matched.
    pub probed_pieces_verified: usize,
    /// Probed pieces whose hash did not match.
    pub probed_pieces_failed: usize,
}

/// The per-swarm summary of `records`.
pub fn summarize(
    records: &[PeerRecord],
    evidence: &[PieceEvidence],
    info: Option<&Info>,
) -> SwarmSummary {
    let mut s = SwarmSummary {
        peers_found: records.len(),
        ..SwarmSummary::default()
    };
    for r in records {
        for src in &r.sources {
            *s.found_by_source.entry(src.clone()).or_default() += 1;
        }
        if r.ended == "not_contacted" {
            s.not_contacted += 1;
            continue;
        }
        if !r.reached {
            s.failed += 1;
            let reason = r
                .failure
                .as_ref()
                .map(|f| f.reason.as_str())
                .unwrap_or("unknown");
            *s.failed_by_reason.entry(reason.into()).or_default() += 1;
            continue;
        }
        s.reached += 1;
        if let Some(f) = &r.failure {
            *s.errors_after_handshake
                .entry(f.reason.as_str().into())
                .or_default() += 1;
        }
        match r.seed {
            Some(true) => s.seeds += 1,
            Some(false) => s.leechers += 1,
            None => s.completion_unknown += 1,
        }
        let client = r.client.clone().unwrap_or_else(|| "unknown".into());
        *s.clients.entry(client).or_default() += 1;
        let mut exts: BTreeSet<String> = r.extensions.iter().cloned().collect();
        for (flag, name) in [
            (r.supports_extensions, "bep10_extension_protocol"),
            (r.supports_dht, "bep5_dht"),
            (r.supports_fast, "bep6_fast"),
        ] {
            if flag {
                exts.insert(name.into());
            }
        }
        for e in exts {
            *s.extensions.entry(e).or_default() += 1;
        }
        if let Some(p) = &r.probe {
            s.probed_peers += 1;
            s.probed_pieces_verified += p.pieces_verified;
            s.probed_pieces_failed += p.pieces_failed;
        }
    }
    if let Some(info) = info {
        let n = info.num_pieces();
        if n > 0 {
            let mut copies = vec![0usize; n];
            for (r, ev) in records.iter().zip(evidence) {
                if !r.reached || r.pieces_have.is_none() {
                    continue;
                }
                let mut bf = match (ev.kind, &ev.raw_bitfield) {
                    (Some("have_all"), _) => Bitfield::full(n),
                    (Some("bitfield"), Some(raw)) => match Bitfield::from_bytes(raw, n) {
                        Some(b) => b,
                        None => continue,
                    },
                    _ => Bitfield::new(n),
                };
                for &h in &ev.haves {
                    bf.set(h as usize);
                }
                for (i, c) in copies.iter_mut().enumerate() {
                    if bf.has(i) {
                        *c += 1;
                    }
                }
            }
            let min = *copies.iter().min().unwrap_or(&0);
            let above = copies.iter().filter(|&&c| c > min).count();
            let mut order: Vec<(usize, usize)> = copies.iter().copied().enumerate().collect();
            order.sort_by_key(|&(i, c)| (c, i));
            s.availability = Some(Availability {
                min,
                mean: copies.iter().sum::<usize>() as f64 / n as f64,
                distributed_copies: min as f64 + above as f64 / n as f64,
                rarest: order.into_iter().take(10).collect(),
            });
        }
    }
    s
}

/// Differences between two rounds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Churn {
    /// Reached now, not reached in the previous round.
    pub joined: Vec<String>,
    /// Reached in the previous round, not now.
    pub left: Vec<String>,
    /// Peers whose completion changed: (addr, before, after).
    pub completion_changes: Vec<(String, f64, f64)>,
}

/// Churn from `prev` to `cur` (reached peers only).
pub fn churn(prev: &[PeerRecord], cur: &[PeerRecord]) -> Churn {
    let p: BTreeMap<&str, &PeerRecord> = prev
        .iter()
        .filter(|r| r.reached)
        .map(|r| (r.addr.as_str(), r))
        .collect();
    let c: BTreeMap<&str, &PeerRecord> = cur
        .iter()
        .filter(|r| r.reached)
        .map(|r| (r.addr.as_str(), r))
        .collect();
    let mut out = Churn::default();
    for (a, r) in &c {
        match p.get(a) {
            None => out.joined.push(a.to_string()),
            Some(old) => {
                if let (Some(x), Some(y)) = (old.completion, r.completion) {
                    if (x - y).abs() > 1e-9 {
                        out.completion_changes.push((a.to_string(), x, y));
                    }
                }
            }
        }
    }
    for a in p.keys() {
        if !c.contains_key(a) {
            out.left.push(a.to_string());
        }
    }
    out
}

/// One audit round.
#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    /// Round number, from 1.
    pub round: u32,
    /// Unix time the round started, seconds.
    pub started_unix: u64,
    /// Round duration, milliseconds.
    pub duration_ms: u64,
    /// Info-hash, hex.
    pub info_hash: String,
    /// Torrent name, if known.
    pub name: Option<String>,
    /// Pieces in the torrent, if known.
    pub num_pieces: Option<usize>,
    /// Piece length, if known.
    pub piece_length: Option<u64>,
    /// Whether the info dictionary was fetched with ut_metadata this round.
    pub metadata_fetched: bool,
    /// Trackers and DHT: what each gave.
    pub sources: Vec<SourceReport>,
    /// Per-swarm summary.
    pub summary: SwarmSummary,
    /// Changes since the previous round (with --watch).
    pub churn: Option<Churn>,
    /// Per-peer records, sorted by address.
    pub peers: Vec<PeerRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarmlab_bt_wire::bencode::{dict, Value};

    fn info(n: usize) -> Info {
        let raw = dict([
            ("length", Value::Int((n * 1000) as i64)),
            ("name", Value::bytes("x")),
            ("piece length", Value::Int(1000)),
            ("pieces", Value::Bytes(vec![0; 20 * n])),
        ])
        .encode();
        Info::from_bytes(&raw).unwrap()
    }

    fn reached(addr: &str) -> PeerRecord {
        let mut r = PeerRecord::new(addr.parse().unwrap());
        r.reached = true;
        r
    }

    #[test]
    fn completion_and_have_rate() {
        let info = info(10);
        let mut r = reached("127.0.0.2:1");
        r.have_events = vec![
            HaveEvent { ms: 1000, piece: 3 },
            HaveEvent { ms: 2000, piece: 4 },
        ];
        let ev = PieceEvidence {
            kind: Some("bitfield"),
            raw_bitfield: Some(vec![0b1100_0000, 0]),
            haves: vec![3, 4, 4, 99],
            first_ms: Some(0),
        };
        finalize(&mut r, &ev, Some(&info));
        assert_eq!(r.pieces_have, Some(4));
        assert_eq!(r.completion, Some(0.4));
        assert_eq!(r.seed, Some(false));
        // Two new pieces of 1000 bytes in 2 s.
        assert_eq!(r.have_rate_bps, Some(1000.0));
        assert!(r.warnings[0].contains("beyond 10"));
        // Unknown piece count: have_all still means seed.
        let mut s = reached("127.0.0.3:1");
        finalize(
            &mut s,
            &PieceEvidence {
                kind: Some("have_all"),
                ..Default::default()
            },
            None,
        );
        assert_eq!(
            (s.seed, s.completion, s.num_pieces),
            (Some(true), Some(1.0), None)
        );
        // Wrong-length bitfield: protocol failure, no completion.
        let mut b = reached("127.0.0.4:1");
        let ev = PieceEvidence {
            kind: Some("bitfield"),
            raw_bitfield: Some(vec![0xff; 5]),
            ..Default::default()
        };
        finalize(&mut b, &ev, Some(&info));
        assert_eq!(
            b.failure.as_ref().unwrap().reason,
            FailureReason::ProtocolError
        );
        assert_eq!(b.completion, None);
    }

    #[test]
    fn summary_and_availability() {
        let info = info(4);
        let mut recs = vec![
            reached("127.0.0.2:1"),
            reached("127.0.0.3:1"),
            PeerRecord::new("127.0.0.4:1".parse().unwrap()),
        ];
        recs[0].sources = vec!["http_tracker".into()];
        recs[0].extensions = vec!["ut_pex".into()];
        recs[0].supports_fast = true;
        recs[1].sources = vec!["http_tracker".into(), "pex".into()];
        recs[2].sources = vec!["dht".into()];
        recs[2].failure = Some(Failure::new(FailureReason::Timeout, "connect", "x"));
        let evs = vec![
            PieceEvidence {
                kind: Some("have_all"),
                ..Default::default()
            },
            PieceEvidence {
                kind: Some("bitfield"),
                raw_bitfield: Some(vec![0b1000_0000]),
                ..Default::default()
            },
            PieceEvidence::default(),
        ];
        for (r, e) in recs.iter_mut().zip(&evs) {
            finalize(r, e, Some(&info));
        }
        let s = summarize(&recs, &evs, Some(&info));
        assert_eq!(
            (s.peers_found, s.reached, s.failed, s.seeds, s.leechers),
            (3, 2, 1, 1, 1)
        );
        assert_eq!(s.found_by_source["http_tracker"], 2);
        assert_eq!(s.found_by_source["pex"], 1);
        assert_eq!(s.failed_by_reason["timeout"], 1);
        assert_eq!(s.extensions["ut_pex"], 1);
        assert_eq!(s.extensions["bep6_fast"], 1);
        let a = s.availability.unwrap();
        assert_eq!(a.min, 1);
        assert_eq!(a.mean, 5.0 / 4.0);
        assert_eq!(a.distributed_copies, 1.25);
        assert_eq!(a.rarest[0], (1, 1));
    }

    #[test]
    fn churn_between_rounds() {
        let mut a = reached("127.0.0.2:1");
        a.completion = Some(0.5);
        let b = reached("127.0.0.3:1");
        let mut a2 = a.clone();
        a2.completion = Some(0.75);
        let c = reached("127.0.0.4:1");
        let ch = churn(&[a, b], &[a2, c]);
        assert_eq!(ch.joined, vec!["127.0.0.4:1"]);
        assert_eq!(ch.left, vec!["127.0.0.3:1"]);
        assert_eq!(
            ch.completion_changes,
            vec![("127.0.0.2:1".to_string(), 0.5, 0.75)]
        );
    }
}
