//! `seed`: serve a torrent's files with the one BitTorrent server of this crate
//! ([`crate::Server`], the one the course peers run), over a [`StorageSource`]: the
//! engine's storage as a [`PieceSource`].
//!
//! # The order of calls
//!
//! 1. A torrent: [`make_torrent`] hashes a file or a directory (or the caller
//!    parses a `.torrent`);
//! 2. [`StorageSource::open`] checks the sizes and paths and verifies the pieces on
//!    disk (or [`StorageSource::complete`] for storage a download just finished);
//! 3. [`crate::Server::add_torrent`] with it, [`crate::Server::serve`] on a
//!    listener, and an [`crate::fetch::Announcer`] with `dht_announce` set to
//!    announce it to the trackers and the DHT.
//!
//! | file | concern |
//! |---|---|
//! | `make.rs` | [`make_torrent`]: the info dictionary of a file or a directory |
//! | `source.rs` | [`StorageSource`]: a [`PieceSource`] over the engine's storage |
//! | `live.rs` | [`LiveSeed`]: a download's verified pieces served while it runs |
//!
//! A download serves as it goes with a [`LiveSeed`] as its
//! [`crate::fetch::FetchConfig::uploader`]: the storage is added to the server as a
//! [`StorageSource::growing`] once open, and each piece once verified.

mod live;
mod make;
mod source;

pub use live::{LiveSeed, DOWNLOAD_UNCHOKE_SLOTS};
pub use make::{default_piece_length, make_torrent};
pub use source::StorageSource;

#[cfg(doc)]
use crate::PieceSource;
