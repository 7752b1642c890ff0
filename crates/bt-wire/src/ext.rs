//! The extension protocol (BEP 10) and two extensions: ut_metadata (BEP 9)
//! and ut_pex (BEP 11).

use crate::bencode::{self, dict, Value};
use crate::error::{AssembleError, ExtError};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use swarmlab_net::compact;

/// Extended message id of the extension handshake.
pub const HANDSHAKE_ID: u8 = 0;
/// The id we ask peers to use when they send us ut_pex.
pub const LOCAL_UT_PEX: u8 = 1;
/// The id we ask peers to use when they send us ut_metadata.
pub const LOCAL_UT_METADATA: u8 = 2;
/// ut_metadata piece size.
pub const METADATA_PIECE: usize = 16 * 1024;
/// Largest `metadata_size` we accept.
pub const MAX_METADATA_SIZE: u64 = crate::metainfo::MAX_INFO_SIZE as u64;
/// Most entries kept from one extension handshake's `m` dictionary.
pub const MAX_EXTENSIONS: usize = 64;
/// Most peers kept from one ut_pex message (libtorrent sends at most 100 per message).
pub const MAX_PEX_PEERS: usize = 500;
/// Longest client version string kept (characters).
pub const MAX_VERSION_LEN: usize = 128;

/// A decoded extension handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtHandshake {
    /// `m`: extension name to the id the sender wants for it (0 = disabled; kept).
    pub m: BTreeMap<String, u8>,
    /// `v`: client name and version.
    pub v: Option<String>,
    /// `p`: the sender's listen port.
    pub p: Option<u16>,
    /// `reqq`: how many outstanding requests it accepts.
    pub reqq: Option<i64>,
    /// `yourip`: our address as the sender sees it.
    pub yourip: Option<IpAddr>,
    /// `metadata_size` (BEP 9).
    pub metadata_size: Option<u64>,
    /// `upload_only` (BEP 21).
    pub upload_only: Option<bool>,
    /// Number of `m` entries dropped over [`MAX_EXTENSIONS`].
    pub m_dropped: usize,
}

impl ExtHandshake {
    /// The sender's id for extension `name`, if enabled.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.m.get(name).copied().filter(|&id| id != 0)
    }

    /// Decode an extension handshake payload.
    pub fn decode(payload: &[u8]) -> Result<ExtHandshake, ExtError> {
        let v = bencode::decode(payload)?;
        let d = v.as_dict().ok_or(ExtError::NotDict)?;
        let mut h = ExtHandshake::default();
        if let Some(m) = d.get(&b"m"[..]) {
            let m = m.as_dict().ok_or(ExtError::Field("m"))?;
            for (k, v) in m {
                let Some(id) = v.as_int() else { continue };
                if !(0..=255).contains(&id) {
                    continue;
                }
                if h.m.len() >= MAX_EXTENSIONS {
                    h.m_dropped += 1;
                    continue;
                }
                let name: String = String::from_utf8_lossy(k).chars().take(64).collect();
                h.m.insert(name, id as u8);
            }
        }
        h.v = d.get(&b"v"[..]).and_then(Value::as_bytes).map(|b| {
            String::from_utf8_lossy(b)
                .chars()
                .take(MAX_VERSION_LEN)
                .collect()
        });
        h.p = d
            .get(&b"p"[..])
            .and_then(Value::as_int)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0);
        h.reqq = d.get(&b"reqq"[..]).and_then(Value::as_int);
        h.yourip = d
            .get(&b"yourip"[..])
            .and_then(Value::as_bytes)
            .and_then(|b| match b.len() {
                4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
                16 => {
                    let a: [u8; 16] = b.try_into().ok()?;
                    Some(IpAddr::V6(Ipv6Addr::from(a)))
                }
                _ => None,
            });
        if let Some(ms) = d.get(&b"metadata_size"[..]) {
            let ms = ms.as_int().ok_or(ExtError::Field("metadata_size"))?;
            if ms <= 0 || ms as u64 > MAX_METADATA_SIZE {
                return Err(ExtError::Range("metadata_size"));
            }
            h.metadata_size = Some(ms as u64);
        }
        h.upload_only = d
            .get(&b"upload_only"[..])
            .and_then(Value::as_int)
            .map(|v| v != 0);
        Ok(h)
    }

    /// Encode (fields that are `None` are left out).
    pub fn encode(&self) -> Vec<u8> {
        let mut top: Vec<(&str, Value)> = vec![(
            "m",
            dict(
                self.m
                    .iter()
                    .map(|(k, v)| (k.as_bytes().to_vec(), Value::Int(i64::from(*v)))),
            ),
        )];
        if let Some(v) = &self.v {
            top.push(("v", Value::bytes(v.as_bytes())));
        }
        if let Some(p) = self.p {
            top.push(("p", Value::Int(i64::from(p))));
        }
        if let Some(r) = self.reqq {
            top.push(("reqq", Value::Int(r)));
        }
        if let Some(ip) = self.yourip {
            let b = match ip {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            };
            top.push(("yourip", Value::Bytes(b)));
        }
        if let Some(s) = self.metadata_size {
            top.push(("metadata_size", Value::Int(s as i64)));
        }
        if let Some(u) = self.upload_only {
            top.push(("upload_only", Value::Int(i64::from(u))));
        }
        dict(top).encode()
    }

    /// Our own extension handshake: ut_pex and ut_metadata, with `metadata_size` if known.
    pub fn ours(version: &str, metadata_size: Option<u64>) -> ExtHandshake {
        let mut m = BTreeMap::new();
        m.insert("ut_pex".to_string(), LOCAL_UT_PEX);
        m.insert("ut_metadata".to_string(), LOCAL_UT_METADATA);
        ExtHandshake {
            m,
            v: Some(version.to_string()),
            reqq: Some(250),
            metadata_size,
            ..ExtHandshake::default()
        }
    }
}

/// A ut_metadata message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataMsg {
    /// msg_type 0
    Request {
        /// Piece index.
        piece: u32,
    },
    /// msg_type 1, followed by the piece bytes.
    Data {
        /// Piece index.
        piece: u32,
        /// `total_size` of the info dictionary.
        total_size: u64,
        /// The piece's bytes (at most 16 KiB).
        data: Vec<u8>,
    },
    /// msg_type 2
    Reject {
        /// Piece index.
        piece: u32,
    },
}

impl MetadataMsg {
    /// Encode a ut_metadata payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MetadataMsg::Request { piece } => dict([
                ("msg_type", Value::Int(0)),
                ("piece", Value::Int(i64::from(*piece))),
            ])
            .encode(),
            MetadataMsg::Reject { piece } => dict([
                ("msg_type", Value::Int(2)),
                ("piece", Value::Int(i64::from(*piece))),
            ])
            .encode(),
            MetadataMsg::Data {
                piece,
                total_size,
                data,
            } => {
                let mut out = dict([
                    ("msg_type", Value::Int(1)),
                    ("piece", Value::Int(i64::from(*piece))),
                    ("total_size", Value::Int(*total_size as i64)),
                ])
                .encode();
                out.extend_from_slice(data);
                out
            }
        }
    }

    /// Decode a ut_metadata payload (a dictionary, plus the piece bytes for data).
    pub fn decode(payload: &[u8]) -> Result<MetadataMsg, ExtError> {
        let (v, used) = bencode::decode_prefix(payload)?;
        v.as_dict().ok_or(ExtError::NotDict)?;
        let msg_type = v
            .get("msg_type")
            .and_then(Value::as_int)
            .ok_or(ExtError::Field("msg_type"))?;
        let piece = v
            .get("piece")
            .and_then(Value::as_int)
            .ok_or(ExtError::Field("piece"))?;
        let piece = u32::try_from(piece).map_err(|_| ExtError::Range("piece"))?;
        let rest = &payload[used..];
        match msg_type {
            0 => Ok(MetadataMsg::Request { piece }),
            2 => Ok(MetadataMsg::Reject { piece }),
            1 => {
                let total = v
                    .get("total_size")
                    .and_then(Value::as_int)
                    .ok_or(ExtError::Field("total_size"))?;
                if total <= 0 || total as u64 > MAX_METADATA_SIZE {
                    return Err(ExtError::Range("total_size"));
                }
                if rest.len() > METADATA_PIECE {
                    return Err(ExtError::Range("piece data"));
                }
                Ok(MetadataMsg::Data {
                    piece,
                    total_size: total as u64,
                    data: rest.to_vec(),
                })
            }
            _ => Err(ExtError::Range("msg_type")),
        }
    }
}

/// Assembles an info dictionary from ut_metadata pieces, bounded by its declared size.
#[derive(Debug)]
pub struct MetadataAssembler {
    size: usize,
    buf: Vec<u8>,
    have: Vec<bool>,
}

impl MetadataAssembler {
    /// Start assembling `size` bytes (checked against [`MAX_METADATA_SIZE`] by the caller's
    /// decoding of `metadata_size`).
    pub fn new(size: u64) -> MetadataAssembler {
        let size = size.min(MAX_METADATA_SIZE) as usize;
        let n = size.div_ceil(METADATA_PIECE);
        MetadataAssembler {
            size,
            buf: vec![0; size],
            have: vec![false; n],
        }
    }
    /// Number of pieces.
    pub fn num_pieces(&self) -> u32 {
        self.have.len() as u32
    }
    /// Pieces still missing.
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        self.have
            .iter()
            .enumerate()
            .filter(|(_, h)| !**h)
            .map(|(i, _)| i as u32)
    }
    /// Add a received piece.
    pub fn add(&mut self, piece: u32, total_size: u64, data: &[u8]) -> Result<(), AssembleError> {
        if total_size != self.size as u64 {
            return Err(AssembleError::SizeMismatch {
                got: total_size,
                want: self.size as u64,
            });
        }
        let i = piece as usize;
        if i >= self.have.len() {
            return Err(AssembleError::PieceOutOfRange(piece));
        }
        let start = i * METADATA_PIECE;
        let want = (self.size - start).min(METADATA_PIECE);
        if data.len() != want {
            return Err(AssembleError::BadPieceLength {
                piece,
                got: data.len(),
                want,
            });
        }
        self.buf[start..start + want].copy_from_slice(data);
        self.have[i] = true;
        Ok(())
    }
    /// True when every piece has arrived.
    pub fn is_complete(&self) -> bool {
        self.have.iter().all(|h| *h)
    }
    /// The assembled bytes, if complete and hashing to `info_hash`.
    pub fn finish(self, info_hash: &crate::InfoHash) -> Result<Vec<u8>, AssembleError> {
        if crate::InfoHash::of(&self.buf) != *info_hash {
            return Err(AssembleError::HashMismatch);
        }
        Ok(self.buf)
    }
}

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
    use crate::InfoHash;

    #[test]
    fn ext_handshake_roundtrip_and_fields() {
        let mut h = ExtHandshake::ours("swarmlab/0.1", Some(1234));
        h.p = Some(6881);
        h.yourip = Some("127.0.0.1".parse().unwrap());
        h.upload_only = Some(true);
        let d = ExtHandshake::decode(&h.encode()).unwrap();
        assert_eq!(d, h);
        assert_eq!(d.id_of("ut_pex"), Some(LOCAL_UT_PEX));
        assert_eq!(d.id_of("lt_donthave"), None);
    }

    #[test]
    fn ext_handshake_from_libtorrent_like_bytes() {
        let raw = b"d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei123e4:reqqi500e11:upload_onlyi0e1:v18:libtorrent/2.0.8.06:yourip4:\x7f\x00\x00\x01e";
        let h = ExtHandshake::decode(raw).unwrap();
        assert_eq!(h.v.as_deref(), Some("libtorrent/2.0.8.0"));
        assert_eq!(h.id_of("ut_metadata"), Some(2));
        assert_eq!(h.id_of("ut_pex"), Some(1));
        assert_eq!(h.m.len(), 6);
        assert_eq!(h.metadata_size, Some(123));
        assert_eq!(h.reqq, Some(500));
        assert_eq!(h.yourip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(h.upload_only, Some(false));
    }

    #[test]
    fn ext_handshake_bad_input() {
        assert!(ExtHandshake::decode(b"le").is_err());
        assert!(ExtHandshake::decode(b"d1:m").is_err());
        assert!(ExtHandshake::decode(b"d1:mi3ee").is_err());
        assert_eq!(
            ExtHandshake::decode(b"d13:metadata_sizei99999999999ee"),
            Err(ExtError::Range("metadata_size"))
        );
        // Many extensions are capped, not stored.
        let mut m = BTreeMap::new();
        for i in 0..1000 {
            m.insert(format!("x{i}"), 1u8);
        }
        let h = ExtHandshake {
            m,
            ..Default::default()
        };
        let d = ExtHandshake::decode(&h.encode()).unwrap();
        assert_eq!(d.m.len(), MAX_EXTENSIONS);
        assert_eq!(d.m_dropped, 1000 - MAX_EXTENSIONS);
    }

    #[test]
    fn metadata_messages_and_assembly() {
        let info = vec![b'x'; METADATA_PIECE + 100];
        let ih = InfoHash::of(&info);
        for m in [
            MetadataMsg::Request { piece: 3 },
            MetadataMsg::Reject { piece: 1 },
            MetadataMsg::Data {
                piece: 1,
                total_size: info.len() as u64,
                data: info[METADATA_PIECE..].to_vec(),
            },
        ] {
            assert_eq!(MetadataMsg::decode(&m.encode()).unwrap(), m);
        }
        let mut a = MetadataAssembler::new(info.len() as u64);
        assert_eq!(a.num_pieces(), 2);
        a.add(0, info.len() as u64, &info[..METADATA_PIECE])
            .unwrap();
        assert!(!a.is_complete());
        assert!(matches!(
            a.add(1, info.len() as u64, &info[..5]),
            Err(AssembleError::BadPieceLength { .. })
        ));
        assert!(matches!(
            a.add(2, info.len() as u64, &info[..100]),
            Err(AssembleError::PieceOutOfRange(2))
        ));
        assert!(matches!(
            a.add(1, 5, &info[..100]),
            Err(AssembleError::SizeMismatch { .. })
        ));
        a.add(1, info.len() as u64, &info[METADATA_PIECE..])
            .unwrap();
        assert!(a.is_complete());
        assert_eq!(a.finish(&ih).unwrap(), info);
        // A piece that does not hash to the info-hash.
        let mut a = MetadataAssembler::new(10);
        a.add(0, 10, b"0123456789").unwrap();
        assert_eq!(a.finish(&ih), Err(AssembleError::HashMismatch));
    }

    #[test]
    fn metadata_bad_input() {
        assert!(MetadataMsg::decode(b"d8:msg_typei9e5:piecei0ee").is_err());
        assert!(MetadataMsg::decode(b"d8:msg_typei0ee").is_err());
        assert!(MetadataMsg::decode(b"d8:msg_typei0e5:piecei-1ee").is_err());
        assert!(MetadataMsg::decode(b"d8:msg_typei1e5:piecei0ee").is_err());
        let mut big = b"d8:msg_typei1e5:piecei0e10:total_sizei99999ee".to_vec();
        big.extend(vec![0u8; METADATA_PIECE + 1]);
        assert_eq!(
            MetadataMsg::decode(&big),
            Err(ExtError::Range("piece data"))
        );
        assert!(MetadataMsg::decode(b"d8:msg_typei1e5:piecei0e10:total_sizei-5ee").is_err());
    }

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
