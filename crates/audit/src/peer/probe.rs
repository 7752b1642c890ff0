//! `--probe-pieces N`: download up to N pieces the peer has, verify each SHA-1, and
//! measure the rate.
//!
//! One piece at a time, 16 KiB blocks with [`PROBE_PIPELINE`] in flight. Blocks are
//! checked (index, offset, length, duplicates) and hashed in order; blocks that
//! arrive early wait in a map bounded by the pipeline, so memory per probe is about
//! 512 KiB whatever the piece size. A reject, or a choke that discards our
//! requests, restarts from the first missing block.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use sha1::{Digest, Sha1};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{BlockRef, Session};
use swarmlab_bt_wire::wire::BLOCK_SIZE;

use crate::report::{PeerRecord, PieceEvidence, ProbeResult};

/// Outstanding block requests while probing.
pub const PROBE_PIPELINE: usize = 32;
/// Rejects after which probing this peer stops.
const MAX_REJECTS: usize = 256;

#[derive(Debug, Default)]
pub(super) struct Probe {
    queue: VecDeque<u32>,
    /// The pieces were chosen (once the piece count and the peer's pieces are known).
    pub(super) chosen: bool,
    current: Option<ProbePiece>,
    started: Option<Instant>,
    pub(super) result: ProbeResult,
    interested_sent: bool,
    rejects: usize,
}

#[derive(Debug)]
struct ProbePiece {
    index: u32,
    size: usize,
    /// SHA-1 of the blocks received in order so far.
    hasher: Sha1,
    /// Next block to feed the hasher.
    next_hash: usize,
    /// Blocks that arrived ahead of `next_hash` (at most the request pipeline).
    ahead: BTreeMap<usize, Vec<u8>>,
    got: Vec<bool>,
    next_block: usize,
}

impl ProbePiece {
    fn restart(&mut self) {
        self.next_block = self.got.iter().position(|g| !g).unwrap_or(self.got.len());
    }
}

impl Probe {
    /// Downloading, or about to (pieces left and the peer unchoked us once).
    pub(super) fn active(&self) -> bool {
        self.current.is_some() || (!self.queue.is_empty() && self.result.unchoked)
    }

    /// Still something to probe: the session lingers at least the unchoke wait.
    pub(super) fn pending(&self) -> bool {
        !self.chosen || !self.queue.is_empty() || self.current.is_some()
    }

    /// Choose up to `wanted` pieces the peer has, lowest first.
    pub(super) fn choose(&mut self, ev: &PieceEvidence, info: &Info, wanted: usize) {
        self.chosen = true;
        let n = info.num_pieces();
        let have = ev.pieces(n);
        self.queue = (0..n as u32)
            .filter(|&i| have.has(i as usize))
            .take(wanted)
            .collect();
        self.result.pieces_wanted = self.queue.len();
        if self.queue.is_empty() {
            self.result.note = Some("peer has no pieces".into());
        }
    }

    /// Say `interested` once there is something to probe.
    pub(super) fn want_interest(&mut self) -> bool {
        if !self.queue.is_empty() && !self.interested_sent {
            self.interested_sent = true;
            return true;
        }
        false
    }

    /// Keep the pipeline full (called while the peer unchokes us).
    pub(super) fn fill(&mut self, s: &mut Session, info: &Info, now: Instant) {
        if self.current.is_none() {
            let Some(index) = self.queue.pop_front() else {
                return;
            };
            let size = info.piece_size(index as usize) as usize;
            let blocks = size.div_ceil(BLOCK_SIZE as usize);
            self.current = Some(ProbePiece {
                index,
                size,
                hasher: Sha1::new(),
                next_hash: 0,
                ahead: BTreeMap::new(),
                got: vec![false; blocks],
                next_block: 0,
            });
            self.started.get_or_insert(now);
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        while s.requests_in_flight() < PROBE_PIPELINE && cur.next_block < cur.got.len() {
            let b = cur.next_block;
            cur.next_block += 1;
            if cur.got[b] {
                continue;
            }
            let begin = b * BLOCK_SIZE as usize;
            let r = BlockRef {
                index: cur.index,
                begin: begin as u32,
                length: (cur.size - begin).min(BLOCK_SIZE as usize) as u32,
            };
            if s.request(r).is_err() {
                // Output full or the peer's reqq reached: again on the next wake.
                cur.next_block = b;
                break;
            }
        }
    }

    /// A block we requested.
    pub(super) fn on_block(
        &mut self,
        info: &Info,
        index: u32,
        begin: u32,
        data: &[u8],
        rec: &mut PeerRecord,
    ) {
        let Some(cur) = self.current.as_mut() else {
            rec.warn("piece data we did not request");
            return;
        };
        let b = begin as usize / BLOCK_SIZE as usize;
        let expected_len = (cur.size.saturating_sub(begin as usize)).min(BLOCK_SIZE as usize);
        if index != cur.index
            || begin % BLOCK_SIZE != 0
            || b >= cur.got.len()
            || data.len() != expected_len
            || cur.got[b]
        {
            rec.warn(format!(
                "unexpected block: piece {index} offset {begin} length {}",
                data.len()
            ));
            return;
        }
        cur.got[b] = true;
        self.result.bytes += data.len() as u64;
        // Hash in order; keep early blocks until their turn (bounded by the pipeline).
        if b == cur.next_hash {
            cur.hasher.update(data);
            cur.next_hash += 1;
            while let Some(next) = cur.ahead.remove(&cur.next_hash) {
                cur.hasher.update(&next);
                cur.next_hash += 1;
            }
        } else {
            cur.ahead.insert(b, data.to_vec());
        }
        if cur.next_hash == cur.got.len() {
            let digest: [u8; 20] = std::mem::take(&mut cur.hasher).finalize().into();
            if info.pieces.get(cur.index as usize) == Some(&digest) {
                self.result.pieces_verified += 1;
            } else {
                self.result.pieces_failed += 1;
            }
            self.current = None;
        }
    }

    /// The peer rejected a request: ask again from the first missing block, or give
    /// up after [`MAX_REJECTS`].
    pub(super) fn on_rejected(&mut self) {
        self.rejects += 1;
        if let Some(cur) = self.current.as_mut() {
            cur.restart();
        }
        if self.rejects > MAX_REJECTS {
            self.queue.clear();
            self.current = None;
            self.result.note = Some("peer rejected our requests".into());
        }
    }

    /// A choke discarded our requests: ask again from the first missing block.
    pub(super) fn on_requests_dropped(&mut self) {
        if let Some(cur) = self.current.as_mut() {
            cur.restart();
        }
    }

    /// The timing after a batch of events: seconds so far, and the rate once done.
    pub(super) fn tick(&mut self, now: Instant) -> bool {
        let Some(started) = self.started else {
            return false;
        };
        let p = &mut self.result;
        p.seconds = now.saturating_duration_since(started).as_secs_f64();
        if self.current.is_none() && self.queue.is_empty() && p.bytes > 0 && p.rate_bps.is_none() {
            p.rate_bps = Some(p.bytes as f64 / p.seconds.max(1e-6));
            self.started = None;
        }
        true
    }
}
