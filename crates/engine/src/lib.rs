//! The download engine shared by `swarmlab fetch` (BitTorrent request/piece) and
//! Charlie (the course's GET_CHUNK/CHUNK): everything about a download except the
//! wire. It is sans-IO in the protocol sense: no socket, no clock, no task, no global
//! RNG (the picker's tie-break is seeded by the caller). Storage does file I/O, behind
//! the [`Storage`] trait, so a driver may run it on a blocking thread.
//!
//! # The order of calls
//!
//! 1. **Layout**: [`Layout::new`] checks a torrent's sizes (piece length a power of
//!    two, bounded; total bounded; piece count) before anything is allocated.
//! 2. **Storage**: [`FileStorage::open`] checks every path of a torrent's files
//!    under the output directory (no `..`, no absolute path, no empty or `.`
//!    component, no symlink on the way) and knows which files are complete and which
//!    are `.part`. Charlie implements [`Storage`] for its chunk directory.
//! 3. **Resume**: [`resume::verify_existing`] hashes every piece the storage has
//!    bytes for and returns the verified ones; give them to
//!    [`Picker::set_have`] and [`Storage::piece_verified`].
//! 4. **Download**, per peer, in any order the wire dictates:
//!    - availability: [`Picker::add_peer`], [`Picker::peer_has`],
//!      [`Picker::peer_has_bitfield`], [`Picker::peer_has_all`],
//!      [`Picker::peer_lacks`]; [`Picker::is_interesting`] for interest;
//!    - requests: [`Picker::pick`] (rarest first, partial pieces first, endgame
//!      duplicates at the end), then [`Picker::block_received`] (which names the
//!      duplicates to cancel and says when a piece is complete) or
//!      [`Picker::block_failed`] (reject, choke, timeout);
//!    - a complete piece: write its blocks with [`Storage::write`] as they come,
//!      hash it with [`verify::hash_piece`], then [`Picker::piece_verified`] +
//!      [`Storage::piece_verified`] (files whose pieces are all verified are
//!      fsynced and renamed), or [`Picker::piece_failed`] (blocks back to missing,
//!      the peers that sent blocks of it charged, banned after
//!      [`PickerConfig::max_bad_pieces`]) + [`Storage::piece_failed`];
//!    - a peer gone: [`Picker::remove_peer`].
//! 5. **Done** when [`Picker::is_complete`].
//!
//! # Files
//!
//! | file | concern |
//! |---|---|
//! | `layout.rs` | [`Layout`], [`Block`], [`LayoutLimits`]: pieces and 16 KiB blocks |
//! | `picker/mod.rs` | [`Picker`], [`PickerConfig`], [`Received`] |
//! | `picker/peer.rs` | what the picker knows per peer (holdings, in flight, bad pieces) |
//! | `picker/piece.rs` | per-piece state and its blocks |
//! | `picker/tests.rs` | rarest first, endgame, bad pieces, bans |
//! | `storage/mod.rs` | the [`Storage`] trait |
//! | `storage/path.rs` | [`safe_relative_path`]: the checks on a peer-given path |
//! | `storage/files.rs` | [`FileStorage`]: a torrent's files under a directory |
//! | `verify.rs` | SHA-1 of a piece |
//! | `resume.rs` | verifying what is on disk at start |
//! | `error.rs` | [`LayoutError`], [`StorageError`] |

mod error;
mod layout;
mod picker;
pub mod resume;
mod storage;
pub mod verify;

pub use error::{LayoutError, StorageError};
pub use layout::{Block, Layout, LayoutLimits, BLOCK_SIZE};
pub use picker::{Picker, PickerConfig, Received};
pub use storage::{safe_relative_path, FileSpec, FileStorage, Storage};
