//! What the chain knows so far, and what one source adds to it.

use std::collections::HashMap;
use std::net::SocketAddr;

use swarmlab_course_wire::{ChunkHash, FileInfo};

/// What is downloaded: the file name and its chunk hashes in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The file's name (from the network when a tracker gave it: check it before
    /// building a path).
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
    /// The file's description, when the source knows it.
    pub manifest: Option<Manifest>,
    /// Peers by chunk hash (a DHT lookup answers for a hash, not an index).
    pub peers: Vec<(ChunkHash, SocketAddr)>,
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
        }
    }
}

/// What the chain knows so far.
#[derive(Debug, Clone, Default)]
pub struct Swarm {
    /// The file's description, from the first source that gave one.
    pub manifest: Option<Manifest>,
    /// Peers per chunk index, in the order sources gave them (first = preferred).
    pub holders: Vec<Vec<SocketAddr>>,
    /// Peers given up (they stopped answering): still listed, no longer live.
    pub dead: Vec<SocketAddr>,
}

impl Swarm {
    /// True when the description is known and every chunk has at least one live peer.
    pub fn is_complete(&self) -> bool {
        self.manifest.is_some() && self.lacking().is_empty()
    }

    /// The chunk indices without a live peer (none before the description is known).
    pub fn lacking(&self) -> Vec<usize> {
        self.holders
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.iter().any(|p| self.is_live(p)))
            .map(|(i, _)| i)
            .collect()
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

    /// The live peers of every chunk index, for the download engine.
    pub fn live_holders(&self) -> Vec<Vec<SocketAddr>> {
        self.holders
            .iter()
            .map(|h| h.iter().copied().filter(|p| self.is_live(p)).collect())
            .collect()
    }

    /// Merges what a source found; returns how many (chunk, peer) pairs are new. A
    /// description is taken from the first source that gives one; peers for hashes it
    /// does not list are ignored.
    pub fn add(&mut self, found: Found) -> usize {
        if self.manifest.is_none() {
            if let Some(m) = found.manifest {
                self.holders = vec![Vec::new(); m.chunks.len()];
                self.manifest = Some(m);
            }
        }
        let Some(m) = &self.manifest else { return 0 };
        let mut index: HashMap<ChunkHash, Vec<usize>> = HashMap::new();
        for (i, h) in m.chunks.iter().enumerate() {
            index.entry(*h).or_default().push(i);
        }
        let mut added = 0;
        for (hash, peer) in found.peers {
            for &i in index.get(&hash).map(Vec::as_slice).unwrap_or_default() {
                if !self.holders[i].contains(&peer) {
                    self.holders[i].push(peer);
                    added += 1;
                }
            }
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_merges_by_hash_and_ignores_unknown_hashes() {
        let p1: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let p2: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let mut s = Swarm::default();
        assert_eq!(
            s.add(Found {
                peers: vec![([1; 20], p1)],
                ..Default::default()
            }),
            0
        );
        let m = Manifest {
            filename: "f".into(),
            chunks: vec![[1; 20], [2; 20], [1; 20]],
        };
        let added = s.add(Found {
            manifest: Some(m),
            peers: vec![([1; 20], p1)],
            detail: String::new(),
        });
        assert_eq!(added, 2); // the hash stands at indices 0 and 2
        assert!(!s.is_complete());
        assert_eq!(s.lacking(), [1]);
        assert_eq!(
            s.add(Found {
                peers: vec![([2; 20], p2), ([9; 20], p2), ([1; 20], p1)],
                ..Default::default()
            }),
            1
        );
        assert!(s.is_complete());
        assert_eq!(s.holders[1], vec![p2]);
    }

    #[test]
    fn a_dead_peer_leaves_its_chunks_lacking() {
        let p1: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let p2: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let mut s = Swarm::default();
        s.add(Found {
            manifest: Some(Manifest {
                filename: "f".into(),
                chunks: vec![[1; 20], [2; 20]],
            }),
            peers: vec![([1; 20], p1), ([2; 20], p1), ([2; 20], p2)],
            detail: String::new(),
        });
        assert!(s.is_complete());
        s.mark_dead(p1);
        assert_eq!(s.lacking(), [0]);
        assert!(!s.is_complete());
        assert_eq!(s.live_holders(), vec![vec![], vec![p2]]);
    }
}
