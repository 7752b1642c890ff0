//! Many visits at once, and what they add up to: the PEX and metadata sources visit
//! known peers with [`visit_all`] and turn the visits into a [`Found`] with
//! [`Tally::found`].

use std::net::SocketAddr;

use futures::stream::{self, StreamExt};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::InfoHash;

use crate::discovery::visit::{visit, Visit, VisitConfig};
use crate::discovery::{manifest_of, torrent_of_metadata, Found, Manifest};
use crate::error::DiscoveryError;
use crate::torrent::CourseTorrent;

/// Visits `peers`, `parallel` at a time; the visits come back in `peers`' order.
pub(crate) async fn visit_all(
    peers: &[SocketAddr],
    file_id: InfoHash,
    info: Option<&Info>,
    cfg: &VisitConfig,
    parallel: usize,
) -> Vec<Visit> {
    stream::iter(peers.iter().copied())
        .map(|p| visit(p, file_id, info, cfg))
        .buffered(parallel.max(1))
        .collect()
        .await
}

/// What a series of visits learned, merged.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Visits made.
    pub visited: usize,
    /// Visits where the peer served the file id.
    pub answered: usize,
    /// The torrent, from the first peer whose info dictionary is a course file.
    pub torrent: Option<CourseTorrent>,
    /// The first unusable info dictionary, if any.
    pub bad_metadata: Option<DiscoveryError>,
    /// (peer, its pieces, or None when it did not announce them).
    pub peers: Vec<(SocketAddr, Option<crate::discovery::Holdings>)>,
    /// DHT nodes (peer address, `port`).
    pub dht_nodes: Vec<SocketAddr>,
    /// PEX messages taken, ignored, and entries over the caps.
    pub pex_messages: u64,
    /// PEX messages ignored for coming too often.
    pub pex_ignored: u64,
    /// PEX entries over the caps.
    pub pex_truncated: usize,
}

impl Tally {
    /// Adds one visit; returns the peers its PEX listed.
    pub(crate) fn add(&mut self, v: Visit, file_id: InfoHash) -> Vec<SocketAddr> {
        self.visited += 1;
        self.pex_messages += v.pex_messages;
        self.pex_ignored += v.pex_ignored;
        self.pex_truncated += v.pex_truncated;
        if !v.established {
            tracing::debug!(peer = %v.addr, "visit: {:?}", v.error);
            return Vec::new();
        }
        self.answered += 1;
        if let (None, Some(raw)) = (&self.torrent, &v.metadata) {
            match torrent_of_metadata(raw) {
                Ok(t) if t.file_id() == file_id => self.torrent = Some(t),
                Ok(_) => {}
                Err(source) => {
                    self.bad_metadata
                        .get_or_insert(DiscoveryError::BadMetadata {
                            peer: v.addr,
                            source,
                        });
                }
            }
        }
        if let Some(p) = v.dht_port {
            let node = SocketAddr::new(v.addr.ip(), p);
            if !self.dht_nodes.contains(&node) {
                self.dht_nodes.push(node);
            }
        }
        self.peers.push((v.addr, v.holdings));
        v.pex
    }

    /// The description, from the info dictionary fetched (when any).
    pub(crate) fn manifest(&self) -> Option<Manifest> {
        self.torrent.as_ref().map(manifest_of)
    }

    /// What the visits found, given the description known (`manifest`, or the one
    /// fetched): peers that announced their pieces become holders of exactly those
    /// (and are no longer presumed); the others become peers of the file.
    pub(crate) fn found(&self, manifest: Option<&Manifest>, detail: String) -> Found {
        let fetched = self.manifest();
        let m = manifest.or(fetched.as_ref());
        let mut f = Found {
            file_id: self.torrent.as_ref().map(CourseTorrent::file_id),
            manifest: fetched.clone(),
            dht_nodes: self.dht_nodes.clone(),
            detail,
            ..Found::default()
        };
        for (addr, holdings) in &self.peers {
            match (m, holdings) {
                (Some(m), Some(h)) => {
                    f.resolved.push(*addr);
                    f.peers.extend(
                        h.indices(m.chunks.len())
                            .into_iter()
                            .map(|i| (m.chunks[i], *addr)),
                    );
                }
                _ => f.file_peers.push(*addr),
            }
        }
        f
    }
}
