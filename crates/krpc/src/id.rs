//! 160-bit identifiers (node ids and info-hashes) and the XOR metric.

use std::fmt;

/// A 160-bit DHT identifier: a node id or an info-hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id(pub [u8; 20]);

impl Id {
    /// Length in bytes.
    pub const LEN: usize = 20;
    /// The all-zero id.
    pub const ZERO: Id = Id([0; 20]);

    /// A uniformly random id.
    pub fn random<R: rand::Rng + ?Sized>(rng: &mut R) -> Id {
        let mut b = [0u8; 20];
        rng.fill_bytes(&mut b);
        Id(b)
    }

    /// Parses exactly 20 bytes; `None` for any other length.
    pub fn from_slice(b: &[u8]) -> Option<Id> {
        <[u8; 20]>::try_from(b).ok().map(Id)
    }

    /// Parses 40 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Id> {
        let mut b = [0u8; 20];
        hex::decode_to_slice(s.trim(), &mut b).ok()?;
        Some(Id(b))
    }

    /// 40 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw 20 bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// XOR distance to `other`.
    pub fn distance(&self, other: &Id) -> Id {
        let mut d = [0u8; 20];
        for (i, x) in d.iter_mut().enumerate() {
            *x = self.0[i] ^ other.0[i];
        }
        Id(d)
    }

    /// Number of leading zero bits (160 for the zero id).
    pub fn leading_zeros(&self) -> u32 {
        let mut n = 0;
        for b in self.0 {
            if b == 0 {
                n += 8;
            } else {
                return n + b.leading_zeros();
            }
        }
        n
    }

    /// Length of the common prefix of `self` and `other`, in bits (0..=160).
    pub fn common_prefix_len(&self, other: &Id) -> u32 {
        self.distance(other).leading_zeros()
    }

    /// "Distance bits" as lookup traces print it: 160 - common prefix length,
    /// i.e. log2 of the XOR distance rounded up (0 for the same id).
    pub fn distance_bits(&self, other: &Id) -> u32 {
        160 - self.common_prefix_len(other)
    }

    /// Bit `i` (0 = most significant).
    pub fn bit(&self, i: usize) -> bool {
        (self.0[i / 8] >> (7 - (i % 8))) & 1 == 1
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.to_hex())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Ids serialize as 40 lowercase hex digits (traces and reports). Not the KRPC wire
/// form: the wire encoder in this crate writes ids as 20-byte strings itself.
impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_prefix() {
        let a = Id::from_hex("ff00000000000000000000000000000000000000").unwrap();
        let b = Id::from_hex("f000000000000000000000000000000000000001").unwrap();
        assert_eq!(a.common_prefix_len(&b), 4);
        assert_eq!(a.distance_bits(&b), 156);
        assert_eq!(a.distance_bits(&a), 0);
        assert_eq!(Id::ZERO.leading_zeros(), 160);
        assert!(a.bit(0) && !a.bit(8));
        assert!(Id::from_hex("zz").is_none());
        assert!(Id::from_slice(&[0; 19]).is_none());
    }
}
