//! Compact node and peer info (BEP 5, BEP 32).
//!
//! | what                       | layout                          | bytes |
//! |----------------------------|---------------------------------|-------|
//! | IPv4 peer (`values`, `ip`) | 4 ip + 2 port (big endian)      | 6     |
//! | IPv6 peer (`values`, `ip`) | 16 ip + 2 port                  | 18    |
//! | IPv4 node (`nodes`)        | 20 id + 4 ip + 2 port           | 26    |
//! | IPv6 node (`nodes6`)       | 20 id + 16 ip + 2 port          | 38    |

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::Id;

/// Length of a compact IPv4 peer (address + port).
pub const PEER4_LEN: usize = 6;
/// Length of a compact IPv6 peer (address + port).
pub const PEER6_LEN: usize = 18;
/// Length of one compact IPv4 node in `nodes`.
pub const NODE4_LEN: usize = 26;
/// Length of one compact IPv6 node in `nodes6` (BEP 32).
pub const NODE6_LEN: usize = 38;

/// A node reachable over IPv4, as carried in `nodes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node4 {
    /// The node's id.
    pub id: Id,
    /// The node's UDP address.
    pub addr: SocketAddrV4,
}

/// A node reachable over IPv6, as carried in `nodes6` (BEP 32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node6 {
    /// The node's id.
    pub id: Id,
    /// The node's UDP address (flow info and scope id are not carried and decode as 0).
    pub addr: SocketAddrV6,
}

/// Writes the 6-byte compact form of `addr`.
pub fn encode_peer4(addr: &SocketAddrV4) -> [u8; PEER4_LEN] {
    let mut out = [0u8; PEER4_LEN];
    out[..4].copy_from_slice(&addr.ip().octets());
    out[4..].copy_from_slice(&addr.port().to_be_bytes());
    out
}

/// Writes the 18-byte compact form of `addr`.
pub fn encode_peer6(addr: &SocketAddrV6) -> [u8; PEER6_LEN] {
    let mut out = [0u8; PEER6_LEN];
    out[..16].copy_from_slice(&addr.ip().octets());
    out[16..].copy_from_slice(&addr.port().to_be_bytes());
    out
}

/// Compact form of `addr`: 6 bytes for IPv4, 18 for IPv6. Returns a buffer and the used length.
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

fn port_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Parses a 6-byte compact IPv4 peer; `None` for any other length.
pub fn decode_peer4(b: &[u8]) -> Option<SocketAddrV4> {
    let b: &[u8; PEER4_LEN] = b.try_into().ok()?;
    let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
    Some(SocketAddrV4::new(ip, port_at(b, 4)))
}

/// Parses an 18-byte compact IPv6 peer; `None` for any other length.
pub fn decode_peer6(b: &[u8]) -> Option<SocketAddrV6> {
    let b: &[u8; PEER6_LEN] = b.try_into().ok()?;
    let mut ip = [0u8; 16];
    ip.copy_from_slice(&b[..16]);
    Some(SocketAddrV6::new(Ipv6Addr::from(ip), port_at(b, 16), 0, 0))
}

/// Parses a compact peer of 6 (IPv4) or 18 (IPv6) bytes; `None` for any other length.
pub fn decode_peer(b: &[u8]) -> Option<SocketAddr> {
    match b.len() {
        PEER4_LEN => decode_peer4(b).map(SocketAddr::V4),
        PEER6_LEN => decode_peer6(b).map(SocketAddr::V6),
        _ => None,
    }
}

/// Appends the 26-byte compact form of each node to `out`.
pub fn encode_nodes4(nodes: &[Node4], out: &mut Vec<u8>) {
    out.reserve(nodes.len() * NODE4_LEN);
    for n in nodes {
        out.extend_from_slice(&n.id.0);
        out.extend_from_slice(&encode_peer4(&n.addr));
    }
}

/// Appends the 38-byte compact form of each node to `out`.
pub fn encode_nodes6(nodes: &[Node6], out: &mut Vec<u8>) {
    out.reserve(nodes.len() * NODE6_LEN);
    for n in nodes {
        out.extend_from_slice(&n.id.0);
        out.extend_from_slice(&encode_peer6(&n.addr));
    }
}

/// Parses a `nodes` string. Only whole 26-byte entries are decoded: trailing bytes
/// (a length that is not a multiple of 26) are ignored, as libtorrent does.
pub fn decode_nodes4(b: &[u8]) -> Vec<Node4> {
    b.chunks_exact(NODE4_LEN)
        .filter_map(|c| {
            Some(Node4 {
                id: Id::from_slice(&c[..Id::LEN])?,
                addr: decode_peer4(&c[Id::LEN..])?,
            })
        })
        .collect()
}

/// Parses a `nodes6` string. Only whole 38-byte entries are decoded; trailing bytes are ignored.
pub fn decode_nodes6(b: &[u8]) -> Vec<Node6> {
    b.chunks_exact(NODE6_LEN)
        .filter_map(|c| {
            Some(Node6 {
                id: Id::from_slice(&c[..Id::LEN])?,
                addr: decode_peer6(&c[Id::LEN..])?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_round_trip() {
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
    }

    #[test]
    fn nodes_round_trip_and_truncation() {
        let n4 = Node4 {
            id: Id([7; 20]),
            addr: "9.8.7.6:65535".parse().unwrap(),
        };
        let mut b = Vec::new();
        encode_nodes4(&[n4, n4], &mut b);
        assert_eq!(b.len(), 52);
        assert_eq!(decode_nodes4(&b), vec![n4, n4]);
        b.extend_from_slice(&[1, 2, 3]);
        assert_eq!(decode_nodes4(&b), vec![n4, n4], "partial entry ignored");
        assert!(decode_nodes4(&b[..25]).is_empty());

        let n6 = Node6 {
            id: Id([9; 20]),
            addr: "[::1]:1".parse().unwrap(),
        };
        let mut b = Vec::new();
        encode_nodes6(&[n6], &mut b);
        assert_eq!(b.len(), 38);
        assert_eq!(decode_nodes6(&b), vec![n6]);
        assert!(decode_nodes6(&b[..37]).is_empty());
    }
}
