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
//! Storage beyond the [`PieceSource`] trait, a piece picker, `fetch` and `seed` will
//! live beside them.
#![forbid(unsafe_code)]

pub mod connection;
pub mod error;
pub mod server;

pub use connection::Connection;
pub use error::{ConnectionError, PieceError};
pub use server::{PieceSource, Server, ServerConfig, ServerStats};
