//! Magnet links (BEP 9): `magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=..&tr=..&x.pe=..`.

use crate::error::MagnetError;
use crate::{percent, InfoHash};

/// Longest magnet link accepted.
pub const MAX_MAGNET_LEN: usize = 64 * 1024;

/// A parsed magnet link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magnet {
    /// The v1 info-hash.
    pub info_hash: InfoHash,
    /// `dn`, the display name.
    pub display_name: Option<String>,
    /// `tr` tracker URLs, in order, deduplicated.
    pub trackers: Vec<String>,
    /// `x.pe` peer addresses (`host:port`), as given.
    pub peers: Vec<String>,
}

impl Magnet {
    /// Parse a magnet link. Unknown parameters are ignored; the first btih `xt` wins.
    pub fn parse(link: &str) -> Result<Magnet, MagnetError> {
        if link.len() > MAX_MAGNET_LEN {
            return Err(MagnetError::TooLong(link.len()));
        }
        let link = link.trim();
        let query = link
            .strip_prefix("magnet:?")
            .or_else(|| {
                link.get(..8)
                    .filter(|p| p.eq_ignore_ascii_case("magnet:?"))
                    .map(|_| &link[8..])
            })
            .ok_or(MagnetError::NotMagnet)?;
        let mut info_hash = None;
        let mut display_name = None;
        let mut trackers: Vec<String> = Vec::new();
        let mut peers = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let value = String::from_utf8_lossy(&percent::decode(v)?).into_owned();
            // Parameters may carry a numeric suffix (xt.1, tr.2).
            let key = k.split('.').next().unwrap_or(k);
            match (key, k) {
                ("xt", _) => {
                    let lower = value.to_ascii_lowercase();
                    if let Some(h) = lower.strip_prefix("urn:btih:") {
                        if info_hash.is_none() {
                            let raw = &value[value.len() - h.len()..];
                            info_hash = Some(InfoHash::parse(raw)?);
                        }
                    }
                }
                ("dn", _) => display_name = Some(value),
                ("tr", _) if !trackers.contains(&value) && trackers.len() < 256 => {
                    trackers.push(value);
                }
                (_, "x.pe") if peers.len() < 256 => peers.push(value),
                _ => {}
            }
        }
        Ok(Magnet {
            info_hash: info_hash.ok_or(MagnetError::NoInfoHash)?,
            display_name,
            trackers,
            peers,
        })
    }

    /// Format a magnet link for `info_hash` with optional name and trackers.
    pub fn to_link(&self) -> String {
        let mut s = format!("magnet:?xt=urn:btih:{}", self.info_hash.to_hex());
        if let Some(dn) = &self.display_name {
            s.push_str("&dn=");
            s.push_str(&percent::encode(dn.as_bytes()));
        }
        for t in &self.trackers {
            s.push_str("&tr=");
            s.push_str(&percent::encode(t.as_bytes()));
        }
        for p in &self.peers {
            // Endpoints verbatim: libtorrent 2.0 does not unescape `x.pe`.
            s.push_str("&x.pe=");
            s.push_str(&percent::encode_keeping(p.as_bytes(), b":[]"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PercentError;

    #[test]
    fn parses_hex_and_base32_with_params() {
        let m = Magnet::parse("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A&dn=Some+File%20x&tr=udp%3A%2F%2F127.0.0.1%3A6969&tr=http://127.0.0.1:80/announce&x.pe=127.0.0.2:6881").unwrap();
        assert_eq!(
            m.info_hash.to_hex(),
            "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
        );
        assert_eq!(m.display_name.as_deref(), Some("Some File x"));
        assert_eq!(
            m.trackers,
            vec!["udp://127.0.0.1:6969", "http://127.0.0.1:80/announce"]
        );
        assert_eq!(m.peers, vec!["127.0.0.2:6881"]);
        let b = Magnet::parse("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK").unwrap();
        assert_eq!(b.info_hash, m.info_hash);
        let again = Magnet::parse(&m.to_link()).unwrap();
        assert_eq!(again, m);
        assert!(
            m.to_link().ends_with("&x.pe=127.0.0.2:6881"),
            "{}",
            m.to_link()
        );
        let v6 = Magnet {
            peers: vec!["[::1]:6881".into()],
            ..m.clone()
        };
        assert!(
            v6.to_link().ends_with("&x.pe=[::1]:6881"),
            "{}",
            v6.to_link()
        );
    }

    #[test]
    fn malformed_magnets_are_errors() {
        assert_eq!(
            Magnet::parse("http://example/x"),
            Err(MagnetError::NotMagnet)
        );
        assert_eq!(Magnet::parse("magnet:?dn=x"), Err(MagnetError::NoInfoHash));
        assert!(matches!(
            Magnet::parse("magnet:?xt=urn:btih:1234"),
            Err(MagnetError::BadInfoHash(_))
        ));
        assert!(matches!(
            Magnet::parse("magnet:?xt=urn:btih:zz2fe1c06bba254a9dc9f519b335aa7c1367a88a"),
            Err(MagnetError::BadInfoHash(_))
        ));
        assert_eq!(
            Magnet::parse("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%G1"),
            Err(MagnetError::BadEscape(PercentError::BadEscape(0)))
        );
        assert!(matches!(
            Magnet::parse("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%4"),
            Err(MagnetError::BadEscape(_))
        ));
        assert_eq!(
            Magnet::parse(&"magnet:?".repeat(20_000)),
            Err(MagnetError::TooLong(160_000))
        );
        // Only a v2 hash: no btih.
        assert_eq!(
            Magnet::parse("magnet:?xt=urn:btmh:1220abcd"),
            Err(MagnetError::NoInfoHash)
        );
    }

    /// The length cap: a valid link of exactly [`MAX_MAGNET_LEN`] bytes parses, one
    /// byte more is refused before anything is decoded (without the cap it would parse).
    #[test]
    fn length_cap_is_exact() {
        let head = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=";
        let at_cap = format!("{head}{}", "n".repeat(MAX_MAGNET_LEN - head.len()));
        assert_eq!(at_cap.len(), MAX_MAGNET_LEN);
        let m = Magnet::parse(&at_cap).unwrap();
        assert_eq!(
            m.display_name.map(|d| d.len()),
            Some(MAX_MAGNET_LEN - head.len())
        );
        let over = format!("{at_cap}n");
        assert_eq!(
            Magnet::parse(&over),
            Err(MagnetError::TooLong(MAX_MAGNET_LEN + 1))
        );
    }
}
