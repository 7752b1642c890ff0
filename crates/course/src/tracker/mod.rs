//! The tracker: FILE_INFO over TCP from peers.ini + file.ini, TRACKER_INFO over UDP.
//!
//! - `file_info`: [`file_info`] builds the FILE_INFO from the two configuration files;
//!   [`TrackerResponder`] answers GET_FILE_INFO with it in the request loop of
//!   [`crate::server::serve`].
//! - `udp`: the discovery socket. [`bind_discovery`] binds it (0.0.0.0:9000,
//!   SO_REUSEADDR, SO_BROADCAST), [`serve_discovery`] answers every datagram with
//!   [`discovery_reply`], sent as two datagrams (the header, then the body) as
//!   deployed trackers send it (rule 4.5).

mod file_info;
mod udp;

pub use file_info::{file_info, TrackerResponder};
pub use udp::{bind_discovery, discovery_addr, discovery_reply, serve_discovery, tracker_info};

/// The fixed UDP port of tracker discovery.
pub const DISCOVERY_PORT: u16 = 9000;
