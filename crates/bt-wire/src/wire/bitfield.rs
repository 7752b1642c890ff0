//! A peer's pieces as a bitfield (high bit of the first byte is piece 0).

/// A peer's pieces, with validation against the torrent's piece count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitfield {
    bits: Vec<u8>,
    len: usize,
}

impl Bitfield {
    /// An empty bitfield of `len` pieces.
    pub fn new(len: usize) -> Bitfield {
        Bitfield {
            bits: vec![0; len.div_ceil(8)],
            len,
        }
    }
    /// A full bitfield of `len` pieces.
    pub fn full(len: usize) -> Bitfield {
        let mut b = Bitfield::new(len);
        for i in 0..len {
            b.set(i);
        }
        b
    }
    /// Validate raw bitfield bytes for `len` pieces: exactly `ceil(len/8)` bytes,
    /// spare bits clear. Returns `None` if the length or spare bits are wrong.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Option<Bitfield> {
        if bytes.len() != len.div_ceil(8) {
            return None;
        }
        let spare = bytes.len() * 8 - len;
        if spare > 0 {
            let mask = (1u8 << spare) - 1;
            if bytes[bytes.len() - 1] & mask != 0 {
                return None;
            }
        }
        Some(Bitfield {
            bits: bytes.to_vec(),
            len,
        })
    }
    /// Number of pieces.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when there are no pieces at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether piece `i` is present.
    pub fn has(&self, i: usize) -> bool {
        i < self.len && self.bits[i / 8] & (0x80 >> (i % 8)) != 0
    }
    /// Mark piece `i` present; false if out of range.
    pub fn set(&mut self, i: usize) -> bool {
        if i >= self.len {
            return false;
        }
        self.bits[i / 8] |= 0x80 >> (i % 8);
        true
    }
    /// Pieces present.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }
    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfield_validation() {
        assert!(Bitfield::from_bytes(&[0xff, 0xc0], 10).is_some());
        assert!(
            Bitfield::from_bytes(&[0xff, 0xe0], 10).is_none(),
            "spare bit"
        );
        assert!(Bitfield::from_bytes(&[0xff], 10).is_none(), "too short");
        assert!(
            Bitfield::from_bytes(&[0xff, 0, 0], 10).is_none(),
            "too long"
        );
        let b = Bitfield::from_bytes(&[0xa0, 0x40], 10).unwrap();
        assert_eq!(b.count(), 3);
        assert!(b.has(0) && !b.has(1) && b.has(2) && b.has(9) && !b.has(10));
        let mut f = Bitfield::new(10);
        assert!(f.set(9));
        assert!(!f.set(10));
        assert_eq!(Bitfield::full(10).count(), 10);
    }
}
