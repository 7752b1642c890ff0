//! The tracker: FILE_INFO over TCP from peers.ini + file.ini (merged with the DHT's
//! peers of the file under `--dht`), TRACKER_INFO over UDP.
//!
//! - `file_info`: [`file_info`] builds the FILE_INFO from the two configuration files,
//!   [`file_info_with`] merges a [`DhtPeers`] into it; [`TrackerResponder`] answers
//!   GET_FILE_INFO with it in the request loop of [`crate::server::serve`].
//! - `dht`: [`DhtPeers`], the peers the DHT knows for the file id (and chunk ids),
//!   kept fresh by [`dht::refresh`] and probed before they are listed.
//! - `probe`: the two questions asked of such a peer (course protocol? which chunks?).
//! - `udp`: the discovery socket. [`bind_discovery`] binds it (0.0.0.0:9000,
//!   SO_REUSEADDR, SO_BROADCAST), [`serve_discovery`] answers every datagram with
//!   [`discovery_reply`], sent as two datagrams (the header, then the body) as
//!   deployed trackers send it (rule 4.5).

pub mod dht;
mod file_info;
pub mod probe;
mod udp;

pub use dht::{DhtOptions, DhtPeers};
pub use file_info::{file_info, file_info_with, TrackerResponder};
pub use udp::{bind_discovery, discovery_addr, discovery_reply, serve_discovery, tracker_info};

/// The fixed UDP port of tracker discovery.
pub const DISCOVERY_PORT: u16 = 9000;

#[cfg(test)]
mod tests;
