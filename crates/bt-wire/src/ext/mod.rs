//! The extension protocol (BEP 10) and two extensions.
//!
//! - this file: the extension handshake ([`ExtHandshake`]) and the ids we announce;
//! - `metadata.rs`: ut_metadata (BEP 9): [`MetadataMsg`], [`MetadataAssembler`];
//! - `pex.rs`: ut_pex (BEP 11): [`PexMessage`], [`pex_flags`].

mod metadata;
mod pex;

pub use metadata::{MetadataAssembler, MetadataMsg, MAX_METADATA_SIZE, METADATA_PIECE};
pub use pex::{pex_flags, PexMessage, MAX_PEX_PEERS};

use crate::bencode::{self, dict, Value};
use crate::error::ExtError;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Extended message id of the extension handshake.
pub const HANDSHAKE_ID: u8 = 0;
/// The id we ask peers to use when they send us ut_pex.
pub const LOCAL_UT_PEX: u8 = 1;
/// The id we ask peers to use when they send us ut_metadata.
pub const LOCAL_UT_METADATA: u8 = 2;
/// The local id of the first of [`crate::session::ExtConfig::extra`]'s
/// extensions; the next ones follow.
pub const LOCAL_EXTRA_FIRST: u8 = 3;
/// Most extra extensions a session announces (ids 3 to 255).
pub const MAX_EXTRA_EXTENSIONS: usize = (u8::MAX - LOCAL_EXTRA_FIRST) as usize + 1;
/// Most entries kept from one extension handshake's `m` dictionary.
pub const MAX_EXTENSIONS: usize = 64;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
