//! ut_pex (BEP 11): the message, decoded with a cap on the peers kept.

use crate::bencode::{self, dict, Value};
use crate::error::ExtError;
use std::net::SocketAddr;
use swarmlab_net::compact;

/// Most peers kept from one ut_pex message (libtorrent sends at most 100 per message).
pub const MAX_PEX_PEERS: usize = 500;
/// A decoded ut_pex message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PexMessage {
    /// Peers added (IPv4 then IPv6), at most [`MAX_PEX_PEERS`].
    pub added: Vec<SocketAddr>,
    /// `added.f` flags, parallel to the IPv4 part of `added` when present.
    pub added_flags: Vec<u8>,
    /// Peers dropped, at most [`MAX_PEX_PEERS`].
    pub dropped: Vec<SocketAddr>,
    /// Entries present in the message but not kept because of the cap.
    pub truncated: usize,
}

/// Flag bits of `added.f`.
pub mod pex_flags {
    /// Prefers encryption.
    pub const ENCRYPTION: u8 = 0x01;
    /// Seed or upload-only.
    pub const SEED: u8 = 0x02;
    /// Supports uTP.
    pub const UTP: u8 = 0x04;
    /// Supports holepunch.
    pub const HOLEPUNCH: u8 = 0x08;
    /// Reachable (outgoing connection).
    pub const OUTGOING: u8 = 0x10;
}

impl PexMessage {
    /// Decode a ut_pex payload, keeping at most [`MAX_PEX_PEERS`] added and dropped peers.
    pub fn decode(payload: &[u8]) -> Result<PexMessage, ExtError> {
        let v = bencode::decode(payload)?;
        v.as_dict().ok_or(ExtError::NotDict)?;
        let bytes = |k: &str| v.get(k).and_then(Value::as_bytes).unwrap_or(&[]);
        let mut m = PexMessage::default();
        let (a4, a6) = (bytes("added"), bytes("added6"));
        let total_added = a4.len() / 6 + a6.len() / 18;
        m.added = compact::decode_peers4(a4, MAX_PEX_PEERS);
        let flags = bytes("added.f");
        m.added_flags = flags.iter().take(m.added.len()).copied().collect();
        let room = MAX_PEX_PEERS - m.added.len();
        m.added.extend(compact::decode_peers6(a6, room));
        let (d4, d6) = (bytes("dropped"), bytes("dropped6"));
        let total_dropped = d4.len() / 6 + d6.len() / 18;
        m.dropped = compact::decode_peers4(d4, MAX_PEX_PEERS);
        let room = MAX_PEX_PEERS - m.dropped.len();
        m.dropped.extend(compact::decode_peers6(d6, room));
        m.truncated = total_added - m.added.len() + total_dropped - m.dropped.len();
        Ok(m)
    }

    /// Encode (no cap: used by tests and tools).
    pub fn encode(&self) -> Vec<u8> {
        let (a4, a6) = compact::encode_peers(&self.added);
        let (d4, d6) = compact::encode_peers(&self.dropped);
        dict([
            ("added", Value::Bytes(a4)),
            ("added.f", Value::Bytes(self.added_flags.clone())),
            ("added6", Value::Bytes(a6)),
            ("dropped", Value::Bytes(d4)),
            ("dropped6", Value::Bytes(d6)),
        ])
        .encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pex_roundtrip_and_cap() {
        let added: Vec<SocketAddr> =
            vec!["127.0.0.2:1".parse().unwrap(), "[::1]:2".parse().unwrap()];
        let m = PexMessage {
            added: added.clone(),
            added_flags: vec![pex_flags::SEED],
            dropped: vec!["127.0.0.3:3".parse().unwrap()],
            truncated: 0,
        };
        assert_eq!(PexMessage::decode(&m.encode()).unwrap(), m);
        // 10,000 peers: bounded.
        let many: Vec<SocketAddr> = (0..10_000u32)
            .map(|i| SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 6881)))
            .collect();
        let m = PexMessage {
            added: many,
            ..Default::default()
        };
        let d = PexMessage::decode(&m.encode()).unwrap();
        assert_eq!(d.added.len(), MAX_PEX_PEERS);
        assert_eq!(d.truncated, 10_000 - MAX_PEX_PEERS);
        assert!(PexMessage::decode(b"i3e").is_err());
        assert!(PexMessage::decode(b"d5:added").is_err());
        // Odd-length compact strings drop the tail.
        let d = PexMessage::decode(b"d5:added7:\x7f\x00\x00\x01\x1a\xe1\x00e").unwrap();
        assert_eq!(
            d.added,
            vec!["127.0.0.1:6881".parse::<SocketAddr>().unwrap()]
        );
    }
}
