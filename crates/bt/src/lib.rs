//! BitTorrent on tokio.
//!
//! - [`connection`]: [`Connection`] moves bytes between a `TcpStream` and a sans-IO
//!   [`swarmlab_bt_wire::session::Session`]: it reads into the session (while the
//!   session wants input), writes what the session gives, wakes on the session's
//!   timeout, and hands the session's events to the caller, who answers with the
//!   session's commands. The auditor and the server drive it.
//! - [`server`]: [`Server`], a seed for any number of torrents and peers on one
//!   listener (or on streams accepted elsewhere): handshakes for its torrents only,
//!   the extension handshake, bitfield and `have` from a [`PieceSource`], requests
//!   served from it, ut_metadata, ut_pex, BEP 5 `port`, a choker. The course peers'
//!   BitTorrent mode and `seed` run it.
//! - [`error`]: [`ConnectionError`], why a connection ended; [`PieceError`], why a
//!   source could not give a block.
//!
//! - [`fetch`]: a whole torrent from a swarm on the shared download engine
//!   (`swarmlab-engine`): sources, metadata by BEP 9, one task per peer.
//! - [`seed`]: making a torrent and serving it with the [`Server`] over the
//!   engine's storage ([`seed::StorageSource`]).
//! - [`tracker`]: HTTP and UDP tracker clients (the auditor's too); [`dht`]: the
//!   [`dht::DhtLookup`] trait the binary implements with its DHT node.
#![forbid(unsafe_code)]

pub mod connection;
pub mod dht;
pub mod error;
pub mod fetch;
pub mod seed;
pub mod server;
pub mod tracker;

pub use connection::Connection;
pub use error::{AnnounceError, ConnectionError, FetchError, PieceError, SeedError};
pub use server::{PieceSource, Server, ServerConfig, ServerStats};
