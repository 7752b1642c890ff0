//! The info-hash and peer-id types.

use crate::error::InfoHashParseError;
use std::fmt;

/// A v1 info-hash: the SHA-1 of the bencoded `info` dictionary.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

/// A 20-byte peer id.
pub type PeerId = [u8; 20];

impl InfoHash {
    /// SHA-1 of `bytes`.
    pub fn of(bytes: &[u8]) -> InfoHash {
        use sha1::{Digest, Sha1};
        InfoHash(Sha1::digest(bytes).into())
    }
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parse 40 hex digits (either case) or 32 base32 characters (RFC 4648, either case).
    pub fn parse(s: &str) -> Result<InfoHash, InfoHashParseError> {
        let s = s.trim();
        match s.len() {
            40 => {
                let mut out = [0u8; 20];
                hex::decode_to_slice(s, &mut out).map_err(|_| InfoHashParseError::BadChar)?;
                Ok(InfoHash(out))
            }
            32 => base32_decode(s).map(InfoHash),
            n => Err(InfoHashParseError::BadLength(n)),
        }
    }
}

fn base32_decode(s: &str) -> Result<[u8; 20], InfoHashParseError> {
    let mut out = [0u8; 20];
    let mut acc: u64 = 0;
    let mut bits = 0;
    let mut n = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(InfoHashParseError::BadChar),
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out[n] = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({})", self.to_hex())
    }
}

impl std::str::FromStr for InfoHash {
    type Err = InfoHashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InfoHash::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base32_agree() {
        let h = InfoHash::parse("c12fe1c06bba254a9dc9f519b335aa7c1367a88a").unwrap();
        // Same hash in base32.
        let b = InfoHash::parse("YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK").unwrap();
        assert_eq!(h, b);
        assert_eq!(
            InfoHash::parse("C12FE1C06BBA254A9DC9F519B335AA7C1367A88A").unwrap(),
            h
        );
        assert_eq!(h.to_string(), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
        assert!(matches!(
            InfoHash::parse("abc"),
            Err(InfoHashParseError::BadLength(3))
        ));
        assert!(InfoHash::parse("zz2fe1c06bba254a9dc9f519b335aa7c1367a88a").is_err());
        assert!(InfoHash::parse("YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1").is_err());
    }
}
