//! What the server serves from: the [`PieceSource`] trait, one per torrent.
//!
//! The server never touches storage itself. A source says which pieces it holds
//! *now* (the server announces new ones with `have` as they appear), reads a block
//! of a piece when a peer asks for one, gives the info dictionary that ut_metadata
//! serves, and names the peers it knows for ut_pex. The course's peers implement it
//! with their chunk directory; `seed` with files.

use std::net::SocketAddr;
use std::sync::Arc;

use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_bt_wire::InfoHash;

use crate::error::PieceError;

/// The storage of one torrent, as the server sees it. Every method may be called
/// from several connections at once.
pub trait PieceSource: Send + Sync + 'static {
    /// The torrent's info dictionary: its info-hash, piece layout and the bytes
    /// ut_metadata serves.
    fn info(&self) -> &Info;

    /// The pieces held now, one bit per piece of [`PieceSource::info`]. Called on
    /// every connection's tick (see [`crate::server::ServerConfig::tick`]), so it
    /// should be cheap: a snapshot the source refreshes on its own schedule.
    fn held(&self) -> Arc<Bitfield>;

    /// Reads `length` bytes at offset `begin` of piece `index`. The server checked
    /// that the range lies inside the piece and that it announced the piece, but the
    /// piece may have gone since (a source cannot un-announce): say so with
    /// [`PieceError::NotHeld`]. It runs on a blocking thread, so it may do file I/O.
    fn read(&self, index: u32, begin: u32, length: u32) -> Result<Vec<u8>, PieceError>;

    /// Peers of this torrent the source knows (besides those the server saw
    /// connect), to list in ut_pex. The server sends at most BEP 11's 50 per message.
    fn pex_peers(&self) -> Vec<SocketAddr>;
}

/// The info-hash of a source.
pub(crate) fn info_hash(source: &dyn PieceSource) -> InfoHash {
    source.info().info_hash
}
