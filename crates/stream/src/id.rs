//! The stream's name: [`StreamId`], the source's ed25519 public key, written as 64
//! hex digits. Its [`StreamId::info_hash`] is what the swarm meets under: the
//! BitTorrent handshake's info-hash and the DHT key.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use sha1::{Digest, Sha1};
use swarmlab_bt_wire::InfoHash;

use crate::error::IdError;

/// Prefix hashed with the key into the info-hash, so that a stream's info-hash is
/// no torrent's and no BEP 44 target.
const INFO_HASH_PREFIX: &[u8] = b"swarmlab-stream/1:";

/// A stream: the public key that signs its pieces.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamId(VerifyingKey);

impl StreamId {
    /// The stream signed with this key.
    pub fn new(key: VerifyingKey) -> StreamId {
        StreamId(key)
    }
    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.0
    }
    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
    /// SHA-1 of `"swarmlab-stream/1:"` and the key: the peer wire's info-hash and
    /// the DHT key of the swarm.
    pub fn info_hash(&self) -> InfoHash {
        let mut h = Sha1::new();
        h.update(INFO_HASH_PREFIX);
        h.update(self.as_bytes());
        InfoHash(h.finalize().into())
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.as_bytes()))
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({self})")
    }
}

impl FromStr for StreamId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<StreamId, IdError> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(IdError::BadLength(s.chars().count()));
        }
        let bytes: [u8; 32] = hex::decode(s)
            .map_err(|_| IdError::BadHex)?
            .try_into()
            .map_err(|_| IdError::BadHex)?;
        VerifyingKey::from_bytes(&bytes)
            .map(StreamId)
            .map_err(|_| IdError::NotAKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn ids_round_trip_and_bad_ones_are_refused() {
        let id = StreamId::new(SigningKey::from_bytes(&[7; 32]).verifying_key());
        let text = id.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<StreamId>().unwrap(), id);
        assert_eq!("ab".parse::<StreamId>(), Err(IdError::BadLength(2)));
        assert_eq!("zz".repeat(32).parse::<StreamId>(), Err(IdError::BadHex));
        let other = StreamId::new(SigningKey::from_bytes(&[8; 32]).verifying_key());
        assert_ne!(id.info_hash(), other.info_hash());
    }
}
