//! What the chain knows so far, and what one source adds to it.
//!
//! A peer is known in one of two ways:
//! - as a **holder** of given chunks: a FILE_INFO lists it for them, a DHT lookup of a
//!   chunk's hash returned it, or its BitTorrent bitfield says so (its holdings are
//!   then *known*);
//! - as a **peer of the file** whose holdings are unknown: a DHT lookup of the file id
//!   returned it, or a magnet's `x.pe` named it. Such a peer is *presumed* to hold
//!   every chunk: the download asks it, and a CHUNK_NOT_FOUND teaches otherwise.
//!
//! A chunk is *lacking* when no live peer that has not failed for it holds it or is
//! presumed to. Every list is bounded: at most [`MAX_PEERS`] distinct peers, at most
//! [`MAX_HOLDERS_PER_CHUNK`] listed per chunk (presumed peers are one list, not a copy
//! in every chunk's).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use swarmlab_bt_wire::InfoHash;
use swarmlab_course_wire::{ChunkHash, FileInfo};

pub use crate::engine::MAX_HOLDERS_PER_CHUNK;

/// Most distinct peers a swarm keeps (holders and peers of the file); more are
/// counted in [`Swarm::dropped`] and ignored.
pub const MAX_PEERS: usize = 1024;

/// Most DHT node addresses kept from peers' `port` messages.
pub const MAX_DHT_NODES: usize = 64;

/// What is downloaded: the file name and its chunk hashes in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The file's name (from the network when a tracker or a peer gave it: check it
    /// before building a path).
    pub filename: String,
    /// The chunk hashes, in file order (a hash may stand at several indices).
    pub chunks: Vec<ChunkHash>,
}

/// What a source spent: datagrams sent and TCP connections opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// UDP datagrams sent.
    pub datagrams: u64,
    /// TCP connections opened (or tried).
    pub connections: u64,
}

/// What one source found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The file id (the info-hash of the file's torrent), when the source knows it.
    pub file_id: Option<InfoHash>,
    /// The file's description, when the source knows it.
    pub manifest: Option<Manifest>,
    /// Holders by chunk hash (a DHT lookup answers for a hash, not an index).
    pub peers: Vec<(ChunkHash, SocketAddr)>,
    /// Peers of the file whose holdings are unknown (presumed to hold every chunk).
    pub file_peers: Vec<SocketAddr>,
    /// Peers whose holdings `peers` now gives exactly (their bitfield was read): no
    /// longer presumed to hold everything.
    pub resolved: Vec<SocketAddr>,
    /// DHT nodes (a peer's address with the port of its `port` message).
    pub dht_nodes: Vec<SocketAddr>,
    /// One line for the report (e.g. which tracker answered).
    pub detail: String,
}

impl Found {
    /// Everything a FILE_INFO says, with a line for the report.
    pub fn from_file_info(fi: FileInfo, detail: String) -> Found {
        let peers = fi
            .chunks
            .iter()
            .flat_map(|c| c.peers.iter().map(move |p| (c.hash, SocketAddr::V4(*p))))
            .collect();
        Found {
            manifest: Some(Manifest {
                filename: fi.filename,
                chunks: fi.chunks.iter().map(|c| c.hash).collect(),
            }),
            peers,
            detail,
            ..Found::default()
        }
    }

    /// Nothing found, with a line saying why.
    pub fn nothing(detail: impl Into<String>) -> Found {
        Found {
            detail: detail.into(),
            ..Found::default()
        }
    }
}

/// What [`Swarm::add`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    /// New (chunk index, holder) pairs.
    pub pairs: usize,
    /// Peers not known before in any role.
    pub new_peers: usize,
}

/// What the chain knows so far.
#[derive(Debug, Clone, Default)]
pub struct Swarm {
    /// The file id, from the first source that gave one.
    pub file_id: Option<InfoHash>,
    /// The file's description, from the first source that gave one.
    pub manifest: Option<Manifest>,
    /// Holders per chunk index, in the order sources gave them (first = preferred).
    pub holders: Vec<Vec<SocketAddr>>,
    /// Peers of the file whose holdings are unknown, presumed to hold every chunk.
    pub file_peers: Vec<SocketAddr>,
    /// Peers given up (they stopped answering): still listed, no longer live.
    pub dead: Vec<SocketAddr>,
    /// Per chunk index: peers that failed for it (CHUNK_NOT_FOUND, a wrong digest…).
    pub failed: Vec<Vec<SocketAddr>>,
    /// DHT nodes learned from peers (BEP 5 `port`), to bootstrap from.
    pub dht_nodes: Vec<SocketAddr>,
    /// Peers ignored because the swarm already held [`MAX_PEERS`], or (chunk, peer)
    /// pairs because the chunk already listed [`MAX_HOLDERS_PER_CHUNK`].
    pub dropped: usize,
    /// Every peer known, in any role.
    known: HashSet<SocketAddr>,
}

impl Swarm {
    /// True when the description is known and no chunk is lacking.
    pub fn is_complete(&self) -> bool {
        self.manifest.is_some() && self.lacking().is_empty()
    }

    /// The chunk indices that no usable peer holds or is presumed to hold (none
    /// before the description is known).
    pub fn lacking(&self) -> Vec<usize> {
        (0..self.holders.len())
            .filter(|&i| self.candidates(i).next().is_none())
            .collect()
    }

    /// The usable peers of chunk `i`: its live holders that have not failed for it,
    /// then the live peers of the file presumed to hold it.
    fn candidates(&self, i: usize) -> impl Iterator<Item = &SocketAddr> + '_ {
        let usable = move |p: &&SocketAddr| {
            self.is_live(p) && !self.failed.get(i).is_some_and(|f| f.contains(p))
        };
        self.holders[i]
            .iter()
            .filter(usable)
            .chain(self.file_peers.iter().filter(usable))
    }

    /// False for a peer given up.
    pub fn is_live(&self, peer: &SocketAddr) -> bool {
        !self.dead.contains(peer)
    }

    /// Gives a peer up: it no longer counts as a holder of anything.
    pub fn mark_dead(&mut self, peer: SocketAddr) {
        if !self.dead.contains(&peer) {
            self.dead.push(peer);
        }
    }

    /// `peer` failed for chunk `i`: it no longer counts as a holder of that chunk.
    pub fn mark_failed(&mut self, i: usize, peer: SocketAddr) {
        if let Some(f) = self.failed.get_mut(i) {
            if !f.contains(&peer) {
                f.push(peer);
            }
        }
    }

    /// The usable listed holders of every chunk index, for the download engine (the
    /// peers presumed to hold every chunk are [`Swarm::live_file_peers`]).
    pub fn live_holders(&self) -> Vec<Vec<SocketAddr>> {
        (0..self.holders.len())
            .map(|i| {
                self.holders[i]
                    .iter()
                    .filter(|p| self.is_live(p) && !self.failed[i].contains(p))
                    .copied()
                    .collect()
            })
            .collect()
    }

    /// The live peers of the file presumed to hold every chunk.
    pub fn live_file_peers(&self) -> Vec<SocketAddr> {
        self.file_peers
            .iter()
            .filter(|p| self.is_live(p))
            .copied()
            .collect()
    }

    /// Every live peer known, in any role, in the order first met.
    pub fn live_peers(&self) -> Vec<SocketAddr> {
        let mut out: Vec<SocketAddr> = Vec::new();
        let mut seen = HashSet::new();
        for p in self.holders.iter().flatten().chain(&self.file_peers) {
            if self.is_live(p) && seen.insert(*p) {
                out.push(*p);
            }
        }
        out
    }

    /// True for a peer known in any role.
    pub fn knows(&self, peer: &SocketAddr) -> bool {
        self.known.contains(peer)
    }

    /// Records `peer` as known; false when the swarm is full (it is then dropped).
    fn admit(&mut self, peer: SocketAddr, added: &mut Added) -> bool {
        if self.known.contains(&peer) {
            return true;
        }
        if self.known.len() >= MAX_PEERS {
            self.dropped += 1;
            return false;
        }
        self.known.insert(peer);
        added.new_peers += 1;
        true
    }

    /// Merges what a source found. The file id and the description are taken from
    /// the first source that gives each (a different one later is ignored and
    /// logged); holders for hashes the description does not list are ignored.
    pub fn add(&mut self, found: Found) -> Added {
        let mut added = Added::default();
        match (self.file_id, found.file_id) {
            (None, Some(id)) => self.file_id = Some(id),
            (Some(a), Some(b)) if a != b => {
                tracing::warn!("a source gave file id {b}, not {a}: ignored")
            }
            _ => {}
        }
        match (&self.manifest, found.manifest) {
            (None, Some(m)) => {
                self.holders = vec![Vec::new(); m.chunks.len()];
                self.failed = vec![Vec::new(); m.chunks.len()];
                self.manifest = Some(m);
            }
            (Some(a), Some(b)) if *a != b => tracing::warn!(
                "a source described {:?} ({} chunks) differently: ignored",
                b.filename,
                b.chunks.len()
            ),
            _ => {}
        }
        for n in found.dht_nodes {
            if !self.dht_nodes.contains(&n) && self.dht_nodes.len() < MAX_DHT_NODES {
                self.dht_nodes.push(n);
            }
        }
        for p in &found.resolved {
            self.file_peers.retain(|q| q != p);
            self.admit(*p, &mut added);
        }
        for p in found.file_peers {
            let resolved = found.resolved.contains(&p);
            let holds_some = self.holders.iter().any(|h| h.contains(&p));
            if resolved || holds_some || self.file_peers.contains(&p) {
                continue;
            }
            if self.admit(p, &mut added) {
                self.file_peers.push(p);
            }
        }
        let Some(m) = &self.manifest else {
            return added;
        };
        let mut index: HashMap<ChunkHash, Vec<usize>> = HashMap::new();
        for (i, h) in m.chunks.iter().enumerate() {
            index.entry(*h).or_default().push(i);
        }
        for (hash, peer) in found.peers {
            let Some(at) = index.get(&hash) else { continue };
            let room: Vec<usize> = at
                .iter()
                .copied()
                .filter(|&i| {
                    let h = &self.holders[i];
                    !h.contains(&peer) && h.len() < MAX_HOLDERS_PER_CHUNK
                })
                .collect();
            if room.is_empty() {
                if !at.iter().any(|&i| self.holders[i].contains(&peer)) {
                    self.dropped += 1;
                }
                continue;
            }
            if !self.admit(peer, &mut added) {
                continue;
            }
            for i in room {
                self.holders[i].push(peer);
                added.pairs += 1;
            }
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], n))
    }

    fn manifest(chunks: Vec<ChunkHash>) -> Option<Manifest> {
        Some(Manifest {
            filename: "f".into(),
            chunks,
        })
    }

    #[test]
    fn swarm_merges_by_hash_and_ignores_unknown_hashes() {
        let (p1, p2) = (p(1), p(2));
        let mut s = Swarm::default();
        let before = s.add(Found {
            peers: vec![([1; 20], p1)],
            ..Default::default()
        });
        assert_eq!(before.pairs, 0);
        let added = s.add(Found {
            manifest: manifest(vec![[1; 20], [2; 20], [1; 20]]),
            peers: vec![([1; 20], p1)],
            ..Default::default()
        });
        assert_eq!(added.pairs, 2); // the hash stands at indices 0 and 2
        assert!(!s.is_complete());
        assert_eq!(s.lacking(), [1]);
        let added = s.add(Found {
            peers: vec![([2; 20], p2), ([9; 20], p2), ([1; 20], p1)],
            ..Default::default()
        });
        assert_eq!(
            added,
            Added {
                pairs: 1,
                new_peers: 1
            }
        );
        assert!(s.is_complete());
        assert_eq!(s.holders[1], vec![p2]);
    }

    #[test]
    fn a_dead_peer_leaves_its_chunks_lacking() {
        let (p1, p2) = (p(1), p(2));
        let mut s = Swarm::default();
        s.add(Found {
            manifest: manifest(vec![[1; 20], [2; 20]]),
            peers: vec![([1; 20], p1), ([2; 20], p1), ([2; 20], p2)],
            ..Default::default()
        });
        assert!(s.is_complete());
        s.mark_dead(p1);
        assert_eq!(s.lacking(), [0]);
        assert!(!s.is_complete());
        assert_eq!(s.live_holders(), vec![vec![], vec![p2]]);
    }

    #[test]
    fn peers_of_the_file_are_presumed_holders_until_resolved_or_failed() {
        let (a, b) = (p(1), p(2));
        let mut s = Swarm::default();
        // Known before the description: kept.
        s.add(Found {
            file_id: Some(InfoHash([7; 20])),
            file_peers: vec![a, b, a],
            ..Default::default()
        });
        assert_eq!(s.file_peers, [a, b]);
        assert!(!s.is_complete(), "no description yet");
        s.add(Found {
            manifest: manifest(vec![[1; 20], [2; 20]]),
            ..Default::default()
        });
        assert!(s.is_complete());
        assert_eq!(s.live_holders(), vec![vec![], vec![]]);
        assert_eq!(s.live_file_peers(), [a, b]);
        // a's bitfield is read: it holds chunk 0 only.
        s.add(Found {
            peers: vec![([1; 20], a)],
            resolved: vec![a],
            ..Default::default()
        });
        assert_eq!(s.live_holders(), vec![vec![a], vec![]]);
        assert_eq!(s.live_file_peers(), [b]);
        // b answers CHUNK_NOT_FOUND for chunk 1: lacking.
        s.mark_failed(1, b);
        assert_eq!(s.lacking(), [1]);
        assert_eq!(s.live_peers(), [a, b]);
        // A presumed peer named again is not duplicated, nor a resolved one re-presumed.
        let again = s.add(Found {
            file_peers: vec![a, b],
            ..Default::default()
        });
        assert_eq!(again, Added::default());
        assert_eq!(s.file_peers, [b]);
    }

    #[test]
    fn the_swarm_keeps_at_most_max_peers() {
        let mut s = Swarm::default();
        s.add(Found {
            manifest: manifest(vec![[1; 20], [2; 20]]),
            ..Default::default()
        });
        let many: Vec<SocketAddr> = (0..MAX_PEERS as u32 + 10)
            .map(|i| SocketAddr::from(([127, 1, (i >> 8) as u8, i as u8], 1)))
            .collect();
        // Holders of chunk 0: at most MAX_HOLDERS_PER_CHUNK listed, the others dropped.
        let added = s.add(Found {
            peers: many[..40].iter().map(|a| ([1; 20], *a)).collect(),
            ..Default::default()
        });
        assert_eq!(added.pairs, MAX_HOLDERS_PER_CHUNK);
        assert_eq!(s.holders[0], many[..MAX_HOLDERS_PER_CHUNK]);
        assert_eq!(s.dropped, 40 - MAX_HOLDERS_PER_CHUNK);
        // Peers of the file: at most MAX_PEERS known in all.
        let added = s.add(Found {
            file_peers: many.clone(),
            ..Default::default()
        });
        assert_eq!(added.new_peers, MAX_PEERS - MAX_HOLDERS_PER_CHUNK);
        assert_eq!(s.dropped, 40 - MAX_HOLDERS_PER_CHUNK + 10);
        assert_eq!(s.live_peers().len(), MAX_PEERS);
        // DHT nodes learned from peers: at most MAX_DHT_NODES, without duplicates.
        let mut nodes = many[..100].to_vec();
        nodes.push(many[0]);
        s.add(Found {
            dht_nodes: nodes,
            ..Default::default()
        });
        assert_eq!(s.dht_nodes, many[..MAX_DHT_NODES]);
    }
}
