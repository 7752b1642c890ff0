//! [`Announce`]: what the source signs for each piece, so that any viewer can check
//! a piece that came from any peer.
//!
//! The signed bytes are `"swarmlab-stream/1"` (17 bytes), the stream's public key
//! (32), the piece number (8, big-endian), its length (4, big-endian), its flags
//! (1) and its SHA-1 (20): 82 bytes, signed with ed25519 (RFC 8032).

use ed25519_dalek::{Signature, Signer, SigningKey};
use sha1::{Digest, Sha1};

use crate::id::StreamId;

/// Domain separation: these signatures are for nothing else.
const SIGNING_CONTEXT: &[u8; 17] = b"swarmlab-stream/1";
/// The flag of the stream's last piece.
pub const FLAG_LAST: u8 = 0x01;
/// Every flag we know.
pub const KNOWN_FLAGS: u8 = FLAG_LAST;
/// Bytes of an encoded announcement (number, length, flags, hash, signature).
pub const ANNOUNCE_LEN: usize = 8 + 4 + 1 + 20 + 64;

/// A piece's announcement, signed by the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announce {
    /// The piece's number: 0, 1, 2, … in stream order.
    pub number: u64,
    /// Its length in bytes (at most [`crate::MAX_PIECE_SIZE`]; 0 only for an empty
    /// last piece).
    pub length: u32,
    /// [`FLAG_LAST`] on the stream's last piece.
    pub flags: u8,
    /// SHA-1 of its bytes.
    pub hash: [u8; 20],
    /// ed25519 signature of the signed bytes (see the module doc).
    pub signature: [u8; 64],
}

impl Announce {
    /// The announcement of piece `number` holding `data`, signed with `key`.
    pub fn sign(key: &SigningKey, number: u64, data: &[u8], last: bool) -> Announce {
        let id = StreamId::new(key.verifying_key());
        let mut a = Announce {
            number,
            length: data.len() as u32,
            flags: if last { FLAG_LAST } else { 0 },
            hash: Sha1::digest(data).into(),
            signature: [0; 64],
        };
        a.signature = key.sign(&a.signed_bytes(&id)).to_bytes();
        a
    }

    /// Whether the signature is the stream's key's.
    pub fn verify(&self, id: &StreamId) -> bool {
        let sig = Signature::from_bytes(&self.signature);
        id.key().verify_strict(&self.signed_bytes(id), &sig).is_ok()
    }

    /// Whether `data` is the piece this announces.
    pub fn matches(&self, data: &[u8]) -> bool {
        data.len() == self.length as usize && Sha1::digest(data).as_slice() == self.hash
    }

    /// The stream's last piece.
    pub fn is_last(&self) -> bool {
        self.flags & FLAG_LAST != 0
    }

    fn signed_bytes(&self, id: &StreamId) -> [u8; 82] {
        let mut b = [0u8; 82];
        b[..17].copy_from_slice(SIGNING_CONTEXT);
        b[17..49].copy_from_slice(id.as_bytes());
        b[49..57].copy_from_slice(&self.number.to_be_bytes());
        b[57..61].copy_from_slice(&self.length.to_be_bytes());
        b[61] = self.flags;
        b[62..82].copy_from_slice(&self.hash);
        b
    }

    /// Append the encoded announcement ([`ANNOUNCE_LEN`] bytes).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        out.push(self.flags);
        out.extend_from_slice(&self.hash);
        out.extend_from_slice(&self.signature);
    }

    /// Decode [`ANNOUNCE_LEN`] bytes (the caller checked the length).
    pub(crate) fn decode(b: &[u8; ANNOUNCE_LEN]) -> Announce {
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&b[13..33]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&b[33..97]);
        Announce {
            number: u64::from_be_bytes(b[..8].try_into().unwrap_or_default()),
            length: u32::from_be_bytes(b[8..12].try_into().unwrap_or_default()),
            flags: b[12],
            hash,
            signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_announcement_verifies_and_every_change_breaks_it() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let id = StreamId::new(key.verifying_key());
        let a = Announce::sign(&key, 5, b"hello", false);
        assert!(a.verify(&id));
        assert!(a.matches(b"hello") && !a.matches(b"hellp") && !a.matches(b"hell"));
        let other = StreamId::new(SigningKey::from_bytes(&[2; 32]).verifying_key());
        assert!(!a.verify(&other), "another stream's key");
        for change in [
            Announce { number: 6, ..a },
            Announce { length: 4, ..a },
            Announce {
                flags: FLAG_LAST,
                ..a
            },
            Announce { hash: [0; 20], ..a },
        ] {
            assert!(!change.verify(&id), "{change:?}");
        }
        let mut bytes = Vec::new();
        a.encode_into(&mut bytes);
        assert_eq!(Announce::decode(&bytes.try_into().unwrap()), a);
    }
}
