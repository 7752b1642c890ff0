//! Peer-id to client name.
//!
//! Two conventions cover almost every client (see BEP 20):
//! - Azureus style: `-XXVVVV-` then 12 random bytes, `XX` a client code.
//! - Shadow style: one client letter, up to five version characters from
//!   `0-9A-Za-z.-` padded with `-`, then random bytes; BitTorrent's own mainline
//!   uses `M7-2-2--` (digits separated by dashes).

/// Azureus-style two-letter codes.
const AZUREUS: &[(&str, &str)] = &[
    ("7T", "aTorrent"),
    ("AG", "Ares"),
    ("AR", "Arctic"),
    ("AT", "Artemis"),
    ("AX", "BitPump"),
    ("AZ", "Vuze"),
    ("BB", "BitBuddy"),
    ("BC", "BitComet"),
    ("BE", "BitTorrent SDK"),
    ("BF", "Bitflu"),
    ("BG", "BTG"),
    ("BI", "BiglyBT"),
    ("BL", "BitCometLite"),
    ("BN", "Baidu Netdisk"),
    ("BR", "BitRocket"),
    ("BT", "BitTorrent"),
    ("BW", "BitWombat"),
    ("BX", "BittorrentX"),
    ("CD", "Enhanced CTorrent"),
    ("CT", "CTorrent"),
    ("DE", "Deluge"),
    ("EB", "EBit"),
    ("ES", "Electric Sheep"),
    ("FD", "Free Download Manager"),
    ("FT", "FoxTorrent"),
    ("FW", "FrostWire"),
    ("FX", "Freebox BitTorrent"),
    ("GS", "GSTorrent"),
    ("HL", "Halite"),
    ("HN", "Hydranode"),
    ("KG", "KGet"),
    ("KT", "KTorrent"),
    ("LC", "LeechCraft"),
    ("LH", "LH-ABC"),
    ("LP", "Lphant"),
    ("LT", "libtorrent (Rasterbar)"),
    ("LW", "LimeWire"),
    ("MG", "MediaGet"),
    ("MO", "MonoTorrent"),
    ("MP", "MooPolice"),
    ("MT", "MoonlightTorrent"),
    ("NX", "Net Transport"),
    ("OS", "OneSwarm"),
    ("OT", "OmegaTorrent"),
    ("PD", "Pando"),
    ("PI", "PicoTorrent"),
    ("QD", "QQDownload"),
    ("QT", "Qt 4 Torrent example"),
    ("RT", "Retriever"),
    ("SB", "Swiftbit"),
    ("SD", "Thunder (XunLei)"),
    ("SL", "swarmlab"),
    ("SM", "SoMud"),
    ("SP", "BitSpirit"),
    ("SS", "SwarmScope"),
    ("ST", "SymTorrent"),
    ("SZ", "Shareaza"),
    ("TB", "Torch"),
    ("TE", "terasaur Seed Bank"),
    ("TL", "Tribler"),
    ("TN", "TorrentDotNET"),
    ("TR", "Transmission"),
    ("TS", "Torrentstorm"),
    ("TT", "TuoTu"),
    ("UL", "uLeecher!"),
    ("UM", "µTorrent Mac"),
    ("UT", "µTorrent"),
    ("UW", "µTorrent Web"),
    ("VG", "Vagaa"),
    ("WD", "WebTorrent Desktop"),
    ("WT", "BitLet"),
    ("WW", "WebTorrent"),
    ("WY", "FireTorrent"),
    ("XF", "Xfplay"),
    ("XL", "Xunlei"),
    ("XS", "XSwifter"),
    ("XT", "XanTorrent"),
    ("XX", "Xtorrent"),
    ("ZT", "ZipTorrent"),
    ("lt", "libTorrent (rakshasa)"),
    ("pX", "pHoeniX"),
    ("qB", "qBittorrent"),
    ("st", "SharkTorrent"),
];

/// Shadow-style client letters.
const SHADOW: &[(u8, &str)] = &[
    (b'A', "ABC"),
    (b'O', "Osprey Permaseed"),
    (b'Q', "BTQueue"),
    (b'R', "Tribler"),
    (b'S', "Shadow's client"),
    (b'T', "BitTornado"),
    (b'U', "UPnP NAT Bit Torrent"),
];

fn version_char(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 36),
        b'.' => Some(62),
        _ => None,
    }
}

fn azureus(id: &[u8; 20]) -> Option<String> {
    if id[0] != b'-' || id[7] != b'-' {
        return None;
    }
    let code = std::str::from_utf8(&id[1..3]).ok()?;
    let name = AZUREUS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)?;
    let v = &id[3..7];
    let version = match code {
        // Transmission: -TR2940- is 2.94, -TR3000- is 3.00, a trailing Z/X marks a dev build.
        "TR" if v.iter().all(u8::is_ascii_alphanumeric) => {
            let minor: String = v[1..3].iter().map(|&c| c as char).collect();
            let dev = matches!(v[3], b'Z' | b'X');
            format!("{}.{}{}", v[0] as char, minor, if dev { "+" } else { "" })
        }
        // µTorrent: -UT355S- is 3.5.5, the last character is a build type.
        "UT" | "UM" | "UW" => {
            let parts: Vec<String> = v[..3]
                .iter()
                .map(|&c| version_char(c).map(|n| n.to_string()))
                .collect::<Option<_>>()?;
            parts.join(".")
        }
        _ => {
            let mut parts: Vec<u32> = v.iter().map(|&c| version_char(c)).collect::<Option<_>>()?;
            if parts.len() == 4 && parts[3] == 0 {
                parts.pop();
            }
            parts
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        }
    };
    Some(format!("{name} {version}"))
}

fn mainline(id: &[u8; 20]) -> Option<String> {
    // M7-2-2-- or M10-1-0- : letter, then numbers separated by '-'.
    let (kind, name) = match id[0] {
        b'M' => ('M', "BitTorrent (Mainline)"),
        b'Q' => ('Q', "Queen Bee"),
        _ => return None,
    };
    let _ = kind;
    let head = &id[1..8];
    if !head[0].is_ascii_digit() {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let parts: Vec<&str> = text.split('-').filter(|s| !s.is_empty()).collect();
    if parts.len() < 2
        || parts.len() > 3
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    // It must really be dash-separated: a '-' right after the first number.
    if !text.contains('-') {
        return None;
    }
    Some(format!("{name} {}", parts.join(".")))
}

fn shadow(id: &[u8; 20]) -> Option<String> {
    let name = SHADOW.iter().find(|(c, _)| *c == id[0]).map(|(_, n)| *n)?;
    let mut parts = Vec::new();
    for &c in &id[1..6] {
        if c == b'-' {
            break;
        }
        parts.push(version_char(c)?);
    }
    if parts.is_empty() {
        return None;
    }
    // Version characters are padded with '-' to byte 6, then "---" ("S58B-----").
    if !id[1].is_ascii_digit() || id[1 + parts.len()..9].iter().any(|&c| c != b'-') {
        return None;
    }
    let v: Vec<String> = parts.iter().map(u32::to_string).collect();
    Some(format!("{name} {}", v.join(".")))
}

/// A readable client name for a peer id, or `None` when the style is unknown.
pub fn client_from_peer_id(id: &[u8; 20]) -> Option<String> {
    if let Some(n) = azureus(id) {
        return Some(n);
    }
    if id.starts_with(b"exbc") {
        return Some(format!("BitComet {}.{:02}", id[4], id[5]));
    }
    if id.starts_with(b"FUTB") {
        return Some("FuTorrent".into());
    }
    if id.starts_with(b"-ML") {
        return Some("MLDonkey".into());
    }
    if id.starts_with(b"OP") {
        return Some("Opera".into());
    }
    if id.starts_with(b"XBT") {
        return Some("XBT Client".into());
    }
    mainline(id).or_else(|| shadow(id))
}

/// A printable form of the id's prefix: the first 8 bytes with non-printable bytes escaped.
pub fn peer_id_prefix(id: &[u8; 20]) -> String {
    id[..8]
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(prefix: &str) -> [u8; 20] {
        let mut out = [b'x'; 20];
        out[..prefix.len()].copy_from_slice(prefix.as_bytes());
        out
    }

    #[test]
    fn azureus_style() {
        let cases = [
            ("-LT2080-", "libtorrent (Rasterbar) 2.0.8"),
            ("-LT1217-", "libtorrent (Rasterbar) 1.2.1.7"),
            ("-qB4630-", "qBittorrent 4.6.3"),
            ("-TR3000-", "Transmission 3.00"),
            ("-TR2940-", "Transmission 2.94"),
            ("-TR400Z-", "Transmission 4.00+"),
            ("-UT355S-", "µTorrent 3.5.5"),
            ("-DE13F0-", "Deluge 1.3.15"),
            ("-AZ5770-", "Vuze 5.7.7"),
            ("-lt0D60-", "libTorrent (rakshasa) 0.13.6"),
            ("-SL0001-", "swarmlab 0.0.0.1"),
        ];
        for (p, want) in cases {
            assert_eq!(client_from_peer_id(&id(p)).as_deref(), Some(want), "{p}");
        }
        assert_eq!(client_from_peer_id(&id("-ZZ1000-")), None);
        assert_eq!(client_from_peer_id(&id("-LT20\u{1}0-")), None);
    }

    #[test]
    fn shadow_and_mainline_style() {
        assert_eq!(
            client_from_peer_id(&id("M7-2-2--")).as_deref(),
            Some("BitTorrent (Mainline) 7.2.2")
        );
        assert_eq!(
            client_from_peer_id(&id("M10-1-0-")).as_deref(),
            Some("BitTorrent (Mainline) 10.1.0")
        );
        assert_eq!(
            client_from_peer_id(&id("S58B-----")).as_deref(),
            Some("Shadow's client 5.8.11")
        );
        assert_eq!(
            client_from_peer_id(&id("T03I-----")).as_deref(),
            Some("BitTornado 0.3.18")
        );
        assert_eq!(
            client_from_peer_id(&id("A310-----")).as_deref(),
            Some("ABC 3.1.0")
        );
        assert_eq!(client_from_peer_id(&[0u8; 20]), None);
        assert_eq!(client_from_peer_id(&id("Sxyz")), None);
        assert_eq!(peer_id_prefix(&id("-LT\u{0}")), "-LT\\x00xxxx");
    }
}
