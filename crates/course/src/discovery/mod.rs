//! Charlie's discovery: a chain of peer sources behind one small interface.
//!
//! A source adds what it learns to a [`Swarm`]: the file's description (a
//! [`Manifest`]: name and chunk hashes) and peers for chunk hashes. The families, in
//! the order a run uses them:
//!
//! 1. `swarm`: [`Swarm`], what is known so far (the manifest, peers per chunk, peers
//!    given up); [`Found`], what one source adds; [`Cost`], what it spent.
//! 2. `chain`: [`PeerSource`], the one interface every source implements, asked with
//!    a [`Query`]; [`Chain`] runs the sources in order and stops as soon as every chunk
//!    has a live peer, reporting each source's outcome in a [`StepReport`]. A chain
//!    runs first in [`Phase::Start`], and may run again in [`Phase::Refill`] during a
//!    download, when peers were given up ([`Swarm::mark_dead`]) and some chunks are
//!    left without a live holder ([`Swarm::lacking`]): sources that learn something
//!    new by then (a DHT lookup of a chunk hash, peer exchange) answer for those.
//! 3. The sources of the course's steps, one file each: `config` ([`ConfigSource`],
//!    step 1), `tracker` ([`TrackerSource`] and [`get_file_info`], step 2),
//!    `broadcast` ([`BroadcastSource`], [`discover_trackers`], [`tracker_order`],
//!    step 3). Sources give peers by chunk *hash*, not index, so a lookup keyed by a
//!    chunk's hash fits as it is.

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
