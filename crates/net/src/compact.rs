//! The compact peer encoding: 4 (IPv4) or 16 (IPv6) address bytes, then the port,
//! big-endian.
//!
//! | what | bytes | used by |
//! |---|---|---|
//! | IPv4 peer | 6 | KRPC `values` and `ip` (BEP 5, 42), PEX `added` (BEP 11), UDP tracker replies (BEP 15), `peers` (BEP 23) |
//! | IPv6 peer | 18 | KRPC (BEP 32), PEX `added6`, UDP tracker replies over IPv6, `peers6` (BEP 7) |

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Length of a compact IPv4 peer (address + port).
pub const PEER4_LEN: usize = 6;
/// Length of a compact IPv6 peer (address + port).
pub const PEER6_LEN: usize = 18;

/// The 6-byte compact form of `addr`.
pub fn encode_peer4(addr: &SocketAddrV4) -> [u8; PEER4_LEN] {
    let mut out = [0u8; PEER4_LEN];
    out[..4].copy_from_slice(&addr.ip().octets());
    out[4..].copy_from_slice(&addr.port().to_be_bytes());
    out
}

/// The 18-byte compact form of `addr` (flow info and scope id are not carried).
pub fn encode_peer6(addr: &SocketAddrV6) -> [u8; PEER6_LEN] {
    let mut out = [0u8; PEER6_LEN];
    out[..16].copy_from_slice(&addr.ip().octets());
    out[16..].copy_from_slice(&addr.port().to_be_bytes());
    out
}

/// The compact form of `addr`, 6 bytes for IPv4 and 18 for IPv6: a buffer and the
/// length used.
pub fn encode_peer(addr: &SocketAddr) -> ([u8; PEER6_LEN], usize) {
    let mut out = [0u8; PEER6_LEN];
    match addr {
        SocketAddr::V4(a) => {
            out[..PEER4_LEN].copy_from_slice(&encode_peer4(a));
            (out, PEER4_LEN)
        }
        SocketAddr::V6(a) => (encode_peer6(a), PEER6_LEN),
    }
}

/// Length of the compact form of `addr` (6 or 18).
pub fn peer_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => PEER4_LEN,
        SocketAddr::V6(_) => PEER6_LEN,
    }
}

/// Parses a 6-byte compact IPv4 peer; `None` for any other length.
pub fn decode_peer4(b: &[u8]) -> Option<SocketAddrV4> {
    let b: &[u8; PEER4_LEN] = b.try_into().ok()?;
    let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
    Some(SocketAddrV4::new(ip, u16::from_be_bytes([b[4], b[5]])))
}

/// Parses an 18-byte compact IPv6 peer; `None` for any other length.
pub fn decode_peer6(b: &[u8]) -> Option<SocketAddrV6> {
    let b: &[u8; PEER6_LEN] = b.try_into().ok()?;
    let mut ip = [0u8; 16];
    ip.copy_from_slice(&b[..16]);
    Some(SocketAddrV6::new(
        Ipv6Addr::from(ip),
        u16::from_be_bytes([b[16], b[17]]),
        0,
        0,
    ))
}

/// Parses a compact peer of 6 (IPv4) or 18 (IPv6) bytes; `None` for any other length.
pub fn decode_peer(b: &[u8]) -> Option<SocketAddr> {
    match b.len() {
        PEER4_LEN => decode_peer4(b).map(SocketAddr::V4),
        PEER6_LEN => decode_peer6(b).map(SocketAddr::V6),
        _ => None,
    }
}

/// Parses a string of compact IPv4 peers, keeping at most `cap`; a trailing partial
/// entry is ignored.
pub fn decode_peers4(bytes: &[u8], cap: usize) -> Vec<SocketAddr> {
    bytes
        .chunks_exact(PEER4_LEN)
        .take(cap)
        .filter_map(|c| decode_peer4(c).map(SocketAddr::V4))
        .collect()
}

/// Parses a string of compact IPv6 peers, keeping at most `cap`; a trailing partial
/// entry is ignored.
pub fn decode_peers6(bytes: &[u8], cap: usize) -> Vec<SocketAddr> {
    bytes
        .chunks_exact(PEER6_LEN)
        .take(cap)
        .filter_map(|c| decode_peer6(c).map(SocketAddr::V6))
        .collect()
}

/// Encodes peers as two strings: the IPv4 ones (6 bytes each) and the IPv6 ones (18
/// bytes each), in the order given.
pub fn encode_peers(peers: &[SocketAddr]) -> (Vec<u8>, Vec<u8>) {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for p in peers {
        match p {
            SocketAddr::V4(a) => v4.extend_from_slice(&encode_peer4(a)),
            SocketAddr::V6(a) => v6.extend_from_slice(&encode_peer6(a)),
        }
    }
    (v4, v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_peer_round_trips() {
        let a4: SocketAddr = "1.2.3.4:6881".parse().unwrap();
        let (b, n) = encode_peer(&a4);
        assert_eq!(&b[..n], &[1, 2, 3, 4, 0x1a, 0xe1]);
        assert_eq!(decode_peer(&b[..n]), Some(a4));
        let a6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let (b, n) = encode_peer(&a6);
        assert_eq!(n, 18);
        assert_eq!(&b[16..18], &[0x01, 0xbb]);
        assert_eq!(decode_peer(&b[..n]), Some(a6));
        assert_eq!(decode_peer(&[0; 7]), None);
        assert_eq!(decode_peer(&[]), None);
        assert_eq!(peer_len(&a4), 6);
        assert_eq!(peer_len(&a6), 18);
    }

    #[test]
    fn peer_strings_round_trip_with_caps() {
        let peers: Vec<SocketAddr> = vec![
            "127.0.0.2:6881".parse().unwrap(),
            "[::1]:51413".parse().unwrap(),
            "10.1.2.3:1".parse().unwrap(),
        ];
        let (v4, v6) = encode_peers(&peers);
        assert_eq!(v4.len(), 12);
        assert_eq!(v6.len(), 18);
        let mut back = decode_peers4(&v4, 100);
        back.extend(decode_peers6(&v6, 100));
        assert_eq!(back, vec![peers[0], peers[2], peers[1]]);
        assert_eq!(decode_peers4(&v4, 1), vec![peers[0]], "cap");
        assert_eq!(decode_peers4(&v4[..7], 10), vec![peers[0]], "partial entry");
        assert!(decode_peers6(&v6[..17], 10).is_empty());
    }
}
