//! Raw piece evidence gathered by a session, and the record's completion, seed
//! flag and have-rate computed from it once the piece count is (maybe) known.

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::wire::Bitfield;

use super::{Failure, FailureReason, PeerRecord};

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

impl PieceEvidence {
    /// The pieces of a torrent of `n` pieces that the peer announced up front
    /// (bitfield, have_all; nothing for have_none or no announcement), haves not
    /// included; `None` for a bitfield that does not fit `n` pieces.
    pub fn announced(&self, n: usize) -> Option<Bitfield> {
        match (self.kind, &self.raw_bitfield) {
            (Some("have_all"), _) => Some(Bitfield::full(n)),
            (Some("bitfield"), raw) => raw.as_deref().and_then(|r| Bitfield::from_bytes(r, n)),
            _ => Some(Bitfield::new(n)),
        }
    }

    /// The pieces announced up front plus those of the haves (in range), with a
    /// bitfield that does not fit counted as nothing.
    pub fn pieces(&self, n: usize) -> Bitfield {
        let mut bf = self.announced(n).unwrap_or_else(|| Bitfield::new(n));
        for &h in &self.haves {
            bf.set(h as usize);
        }
        bf
    }
}

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
    let Some(mut bf) = ev.announced(n) else {
        // A bitfield that arrived before the piece count was known, and does not
        // fit it (one refused by the session on arrival has its failure already).
        if rec.failure.is_none() {
            let len = ev.raw_bitfield.as_ref().map_or(0, Vec::len);
            rec.failure = Some(Failure::new(
                FailureReason::ProtocolError,
                "session",
                format!(
                    "bitfield of wrong length: {len} bytes for {n} pieces (want {})",
                    n.div_ceil(8)
                ),
            ));
        }
        return;
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

#[cfg(test)]
pub(super) mod test_util {
    use super::*;
    use crate::report::PeerRecord;
    use swarmlab_bt_wire::bencode::{dict, Value};

    pub(crate) fn info(n: usize) -> Info {
        let raw = dict([
            ("length", Value::Int((n * 1000) as i64)),
            ("name", Value::bytes("x")),
            ("piece length", Value::Int(1000)),
            ("pieces", Value::Bytes(vec![0; 20 * n])),
        ])
        .encode();
        Info::from_bytes(&raw).unwrap()
    }

    pub(crate) fn reached(addr: &str) -> PeerRecord {
        let mut r = PeerRecord::new(addr.parse().unwrap());
        r.reached = true;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;
    use crate::report::HaveEvent;

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
}
