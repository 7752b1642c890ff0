//! BitTorrent on tokio.
//!
//! For now one thing: the connection driver.
//!
//! - [`connection`]: [`Connection`] moves bytes between a `TcpStream` and a sans-IO
//!   [`swarmlab_bt_wire::session::Session`]: it reads into the session (while the
//!   session wants input), writes what the session gives, wakes on the session's
//!   timeout, and hands the session's events to the caller, who answers with the
//!   session's commands. The auditor drives it; the course peers' BitTorrent mode,
//!   `fetch` and `seed` will share it.
//! - [`error`]: [`ConnectionError`], why a connection ended.
//!
//! The server (one listener for many torrents), storage, piece picker, `fetch` and
//! `seed` will live beside it.
#![forbid(unsafe_code)]

pub mod connection;
pub mod error;

pub use connection::Connection;
pub use error::ConnectionError;
