//! The 68-byte BEP 3 handshake: protocol string, reserved bits, info-hash, peer id.

use super::{HANDSHAKE_LEN, PROTOCOL};
use crate::error::WireError;
use crate::{InfoHash, PeerId};

/// The 68-byte handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Reserved bits.
    pub reserved: [u8; 8],
    /// The torrent's info-hash.
    pub info_hash: InfoHash,
    /// The sender's peer id.
    pub peer_id: PeerId,
}

impl Handshake {
    /// Encode to 68 bytes.
    pub fn encode(&self) -> [u8; HANDSHAKE_LEN] {
        let mut b = [0u8; HANDSHAKE_LEN];
        b[0] = 19;
        b[1..20].copy_from_slice(PROTOCOL);
        b[20..28].copy_from_slice(&self.reserved);
        b[28..48].copy_from_slice(&self.info_hash.0);
        b[48..68].copy_from_slice(&self.peer_id);
        b
    }
    /// Decode 68 bytes.
    pub fn decode(b: &[u8; HANDSHAKE_LEN]) -> Result<Handshake, WireError> {
        if b[0] != 19 || &b[1..20] != PROTOCOL {
            return Err(WireError::BadHandshake);
        }
        let mut reserved = [0u8; 8];
        reserved.copy_from_slice(&b[20..28]);
        let mut ih = [0u8; 20];
        ih.copy_from_slice(&b[28..48]);
        let mut peer_id = [0u8; 20];
        peer_id.copy_from_slice(&b[48..68]);
        Ok(Handshake {
            reserved,
            info_hash: InfoHash(ih),
            peer_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::reserved;
    use super::*;

    #[test]
    fn handshake_roundtrip_and_reserved_bits() {
        let h = Handshake {
            reserved: reserved::ours(),
            info_hash: InfoHash([3; 20]),
            peer_id: *b"-SL0001-abcdefghijkl",
        };
        let b = h.encode();
        assert_eq!(b[0], 19);
        assert_eq!(b[25], 0x10);
        assert_eq!(b[27], 0x05);
        assert_eq!(Handshake::decode(&b).unwrap(), h);
        let mut bad = b;
        bad[3] = b'x';
        assert_eq!(Handshake::decode(&bad), Err(WireError::BadHandshake));
        assert!(reserved::has(&h.reserved, reserved::FAST));
        assert!(!reserved::has(&[0; 8], reserved::EXTENSION));
    }
}
