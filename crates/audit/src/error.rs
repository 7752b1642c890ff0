//! The audit's errors: resolving the target ([`TargetError`]) and asking a tracker
//! ([`SourceError`]). Nothing a peer does is an error of the audit: every peer's
//! outcome is a [`crate::report::Failure`] in its record.

use swarmlab_bt_wire::{MagnetError, MetainfoError};

/// Errors resolving a target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The .torrent file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than any .torrent may be
    /// ([`swarmlab_bt_wire::metainfo::MAX_TORRENT_SIZE`]); it was not read.
    #[error("{path} is {size} bytes: larger than a .torrent file may be")]
    TooLarge {
        /// The path given.
        path: String,
        /// Its size.
        size: u64,
    },
    /// The .torrent file is invalid.
    #[error("invalid .torrent file {path}: {source}")]
    Torrent {
        /// The path given.
        path: String,
        /// Why.
        source: MetainfoError,
    },
    /// The magnet link is invalid.
    #[error("invalid magnet link: {0}")]
    Magnet(#[from] MagnetError),
    /// Neither a file, a magnet link, nor an info-hash.
    #[error("TARGET must be a .torrent file, a magnet link or a 40-hex info-hash: {0:?} is none of these")]
    Unrecognised(String),
}

/// Errors from a tracker query: the tracker clients live in `swarmlab-bt`
/// ([`swarmlab_bt::tracker`]), shared with `fetch` and `seed`.
pub use swarmlab_bt::AnnounceError as SourceError;
