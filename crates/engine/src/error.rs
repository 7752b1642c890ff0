//! The engine's errors: [`LayoutError`] (a torrent's sizes refused before anything
//! is allocated) and [`StorageError`] (paths refused, file I/O).

use std::path::PathBuf;

/// Why a torrent's sizes were refused by [`crate::Layout::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// A piece length of 0.
    #[error("piece length is 0")]
    PieceLengthZero,
    /// A piece length that is not a power of two.
    #[error("piece length {0} is not a power of two")]
    PieceLengthNotPowerOfTwo(u64),
    /// A piece length over the limit.
    #[error("piece length {length} is over the limit of {max} bytes")]
    PieceLengthTooLarge {
        /// The length given.
        length: u64,
        /// The limit ([`crate::LayoutLimits::max_piece_length`]).
        max: u64,
    },
    /// A total size over the limit (say 2^50 bytes).
    #[error("total size {total} bytes is over the limit of {max} bytes")]
    TotalTooLarge {
        /// The size given.
        total: u64,
        /// The limit ([`crate::LayoutLimits::max_total`]).
        max: u64,
    },
    /// The number of piece hashes does not match the sizes.
    #[error("{got} piece hashes for {expected} pieces")]
    PieceCount {
        /// Pieces the sizes give.
        expected: u64,
        /// Hashes given.
        got: usize,
    },
}

/// Why storage refused a path or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A path from the torrent that would leave the output directory or is not a
    /// plain relative name (`..`, absolute, empty or `.` component, a separator or
    /// NUL inside a component).
    #[error("unsafe path {path:?} in the torrent: {reason}")]
    UnsafePath {
        /// The path as the torrent gave it (components joined by `/`).
        path: String,
        /// Which check failed.
        reason: &'static str,
    },
    /// Two files of the torrent at the same path, or a file where another needs a
    /// directory.
    #[error("the torrent names {0:?} twice (or as a file and a directory)")]
    DuplicatePath(String),
    /// A symbolic link on the way to a file: following it could leave the directory.
    #[error("{0} is a symbolic link; refusing to write through it")]
    Symlink(PathBuf),
    /// A read or write outside the torrent (a bug in the caller).
    #[error("piece {piece} offset {begin} length {length} is outside the torrent")]
    OutOfRange {
        /// Piece index.
        piece: u32,
        /// Offset in the piece.
        begin: u64,
        /// Length.
        length: u64,
    },
    /// The file sizes do not add up to the layout's total.
    #[error("the files add up to {files} bytes, the pieces to {layout}")]
    SizeMismatch {
        /// Sum of the file lengths.
        files: u64,
        /// The layout's total.
        layout: u64,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}
