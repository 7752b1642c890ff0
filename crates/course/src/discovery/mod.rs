//! Charlie's discovery: a chain of peer sources behind one small interface.
//!
//! A source adds what it learns to a [`Swarm`]: the file id, the file's description
//! (a [`Manifest`]: name and chunk hashes), holders of chunks (by hash) and peers of
//! the file whose holdings are unknown (presumed to hold everything). The families,
//! in the order a run uses them:
//!
//! 1. `swarm`: [`Swarm`], what is known so far (the file id, the manifest, holders per
//!    chunk, peers of the file, peers given up, failures per chunk, DHT nodes, all
//!    bounded); [`Found`], what one source adds; [`Cost`], what it spent.
//! 2. `chain`: [`PeerSource`], the one interface every source implements, asked with
//!    a [`Query`]; [`Chain`] runs the sources in order and stops as soon as no chunk
//!    is lacking, reporting each source's outcome in a [`StepReport`]. A chain runs
//!    first in [`Phase::Start`], and again in [`Phase::Refill`] during a download,
//!    when peers were given up ([`Swarm::mark_dead`]) or failed for a chunk
//!    ([`Swarm::mark_failed`]) and some chunks are left without a usable holder
//!    ([`Swarm::lacking`]). [`PeerSource::close`] ends a source (the DHT node saves
//!    its state).
//! 3. `file_id`: what is known before any network ([`FileRef`] from a magnet or a
//!    bare id, [`IdentitySource`], the manifest of a torrent).
//! 4. The sources, one file each: `config` ([`ConfigSource`], step 1), `tracker`
//!    ([`TrackerSource`] and [`get_file_info`], step 2), `broadcast`
//!    ([`BroadcastSource`], [`discover_trackers`], [`tracker_order`], step 3), `dht`
//!    ([`DhtSource`]: lookups of the file id and of lacking chunks' hashes),
//!    `metadata` ([`MetadataSource`]: BEP 9 from a peer), `pex` ([`PexSource`]:
//!    BEP 11).
//! 5. `visit`: one BitTorrent visit of a peer on its course port ([`visit()`]: its
//!    pieces, DHT port, PEX list, the info dictionary), bounded; `visits`: many at
//!    once and what they add up to (shared by `metadata`, `pex` and `dht`).
//!
//! Sources give peers by chunk *hash*, not index, so a lookup keyed by a chunk's hash
//! fits as it is.

mod broadcast;
mod chain;
mod config;
mod dht;
mod file_id;
mod metadata;
mod pex;
mod swarm;
mod tracker;
mod visit;
mod visits;

#[cfg(test)]
pub(crate) mod test_peer;

pub use broadcast::{
    default_broadcast_destinations, discover_trackers, tracker_order, Answer, BroadcastSource,
};
pub use chain::{Chain, PeerSource, Phase, Query, StepReport};
pub use config::ConfigSource;
pub use dht::{DhtOptions, DhtSource, MAX_PEERS_PER_LOOKUP, MAX_PORT_VISITS};
pub use file_id::{manifest_of, torrent_of_metadata, FileRef, IdentitySource};
pub use metadata::MetadataSource;
pub use pex::{PexSource, MAX_PENDING};
pub use swarm::{Added, Cost, Found, Manifest, Swarm, MAX_DHT_NODES, MAX_PEERS};
pub use tracker::{get_file_info, TrackerSource, MAX_FILE_INFO};
pub use visit::{visit, Holdings, Visit, VisitConfig, MAX_HAVES, MAX_PEX_KEPT};
