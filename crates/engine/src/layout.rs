//! A torrent's pieces and their blocks: [`Layout`] checks sizes before anything is
//! allocated from them; [`Block`] is one request.

use crate::error::LayoutError;

/// The request size of BitTorrent (BEP 3 clients drop peers that ask for more).
pub const BLOCK_SIZE: u32 = 16 * 1024;

/// Bounds on what a (hostile) torrent may ask the engine to allocate or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutLimits {
    /// Largest piece length accepted (default 64 MiB).
    pub max_piece_length: u64,
    /// Largest total size accepted (default 1 TiB).
    pub max_total: u64,
}

impl Default for LayoutLimits {
    fn default() -> Self {
        LayoutLimits {
            max_piece_length: 64 << 20,
            max_total: 1 << 40,
        }
    }
}

/// One request: `length` bytes at offset `begin` of piece `piece`. In a
/// [`Layout::whole_pieces`] layout every block is a whole piece of unknown size:
/// `begin` and `length` are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block {
    /// Piece index.
    pub piece: u32,
    /// Offset in the piece.
    pub begin: u32,
    /// Length in bytes (0: the whole piece, size unknown).
    pub length: u32,
}

/// The pieces of a download and how each is cut into blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    total: u64,
    piece_length: u64,
    num_pieces: u32,
    /// Block size; 0 for whole pieces.
    block: u32,
}

impl Layout {
    /// A torrent of `total` bytes in pieces of `piece_length`, with `hashes` piece
    /// hashes, cut into [`BLOCK_SIZE`] blocks. Checked against `limits`: the piece
    /// length must be a power of two (BEP 3 practice; libtorrent refuses others),
    /// not 0, not over the limit; the total not over its limit; the hash count must
    /// be the piece count.
    pub fn new(
        total: u64,
        piece_length: u64,
        hashes: usize,
        limits: &LayoutLimits,
    ) -> Result<Layout, LayoutError> {
        if piece_length == 0 {
            return Err(LayoutError::PieceLengthZero);
        }
        if !piece_length.is_power_of_two() {
            return Err(LayoutError::PieceLengthNotPowerOfTwo(piece_length));
        }
        if total > limits.max_total {
            return Err(LayoutError::TotalTooLarge {
                total,
                max: limits.max_total,
            });
        }
        if piece_length > limits.max_piece_length {
            return Err(LayoutError::PieceLengthTooLarge {
                length: piece_length,
                max: limits.max_piece_length,
            });
        }
        let expected = total.div_ceil(piece_length);
        if expected != hashes as u64 || u32::try_from(expected).is_err() {
            return Err(LayoutError::PieceCount {
                expected,
                got: hashes,
            });
        }
        Ok(Layout {
            total,
            piece_length,
            num_pieces: expected as u32,
            block: BLOCK_SIZE.min(piece_length as u32),
        })
    }

    /// `n` pieces of unknown sizes, each fetched with one request (Charlie's chunks:
    /// one GET_CHUNK per chunk). Sizes and offsets read 0.
    pub fn whole_pieces(n: u32) -> Layout {
        Layout {
            total: 0,
            piece_length: 0,
            num_pieces: n,
            block: 0,
        }
    }

    /// Total size in bytes (0 for [`Layout::whole_pieces`]).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes per piece (0 for [`Layout::whole_pieces`]).
    pub fn piece_length(&self) -> u64 {
        self.piece_length
    }

    /// Number of pieces.
    pub fn num_pieces(&self) -> u32 {
        self.num_pieces
    }

    /// True for a [`Layout::whole_pieces`] layout.
    pub fn is_whole_pieces(&self) -> bool {
        self.block == 0
    }

    /// Size of piece `i` (the last may be shorter; 0 out of range or unknown).
    pub fn piece_size(&self, i: u32) -> u32 {
        if i >= self.num_pieces {
            return 0;
        }
        let start = u64::from(i) * self.piece_length;
        self.total.saturating_sub(start).min(self.piece_length) as u32
    }

    /// Offset of piece `i` in the torrent.
    pub fn piece_offset(&self, i: u32) -> u64 {
        u64::from(i) * self.piece_length
    }

    /// Number of blocks of piece `i` (1 for whole pieces).
    pub fn blocks_in(&self, i: u32) -> u32 {
        if self.block == 0 {
            return 1;
        }
        self.piece_size(i).div_ceil(self.block)
    }

    /// Block `j` of piece `i`.
    pub fn block(&self, i: u32, j: u32) -> Block {
        if self.block == 0 {
            return Block {
                piece: i,
                begin: 0,
                length: 0,
            };
        }
        let begin = j * self.block;
        Block {
            piece: i,
            begin,
            length: (self.piece_size(i) - begin).min(self.block),
        }
    }

    /// The index within its piece of a block of this layout, if `b` is one
    /// (right offset, right length).
    pub fn block_index(&self, b: &Block) -> Option<u32> {
        if b.piece >= self.num_pieces {
            return None;
        }
        if self.block == 0 {
            return (b.begin == 0).then_some(0);
        }
        if b.begin % self.block != 0 {
            return None;
        }
        let j = b.begin / self.block;
        (j < self.blocks_in(b.piece) && self.block(b.piece, j) == *b).then_some(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_before_use() {
        let l = LayoutLimits::default();
        assert_eq!(
            Layout::new(100, 0, 1, &l),
            Err(LayoutError::PieceLengthZero)
        );
        assert_eq!(
            Layout::new(100, 48 * 1024, 1, &l),
            Err(LayoutError::PieceLengthNotPowerOfTwo(48 * 1024))
        );
        assert!(matches!(
            Layout::new(1 << 50, 1 << 20, 1 << 30, &l),
            Err(LayoutError::TotalTooLarge { .. })
        ));
        assert!(matches!(
            Layout::new(100, 1 << 30, 1, &l),
            Err(LayoutError::PieceLengthTooLarge { .. })
        ));
        assert!(matches!(
            Layout::new(100_000, 32768, 3, &l),
            Err(LayoutError::PieceCount { expected: 4, .. })
        ));
    }

    #[test]
    fn blocks_cover_each_piece_and_the_short_last_one() {
        let l = Layout::new(70_000, 32768, 3, &LayoutLimits::default()).unwrap();
        assert_eq!(l.piece_size(2), 70_000 - 65536);
        assert_eq!(l.blocks_in(0), 2);
        assert_eq!(l.blocks_in(2), 1);
        let last = l.block(2, 0);
        assert_eq!((last.begin, last.length), (0, 70_000 - 65536));
        assert_eq!(l.block_index(&last), Some(0));
        let wrong = Block {
            length: 100,
            ..last
        };
        assert_eq!(l.block_index(&wrong), None);
        let small = Layout::new(8192, 4096, 2, &LayoutLimits::default()).unwrap();
        assert_eq!(small.block(1, 0).length, 4096);
    }
}
