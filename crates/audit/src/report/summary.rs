//! The per-swarm summary of a round's records.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use swarmlab_bt_wire::metainfo::Info;

use super::{PeerRecord, PieceEvidence};

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
                if ev.announced(n).is_none() {
                    continue;
                }
                let bf = ev.pieces(n);
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

#[cfg(test)]
mod tests {
    use super::super::evidence::test_util::*;
    use super::*;
    use crate::report::{finalize, Failure, FailureReason};

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
}
