//! Compact node and peer info (BEP 5, BEP 32).
//!
//! | what                       | layout                          | bytes |
//! |----------------------------|---------------------------------|-------|
//! | IPv4 peer (`values`, `ip`) | 4 ip + 2 port (big endian)      | 6     |
//! | IPv6 peer (`values`, `ip`) | 16 ip + 2 port                  | 18    |
//! | IPv4 node (`nodes`)        | 20 id + 4 ip + 2 port           | 26    |
//! | IPv6 node (`nodes6`)       | 20 id + 16 ip + 2 port          | 38    |
//!
//! The peer forms are [`swarmlab_net::compact`]'s (the same bytes serve PEX and the
//! trackers), re-exported here so that this module stays the one place for KRPC's
//! compact info; the node forms are KRPC's own.

use std::net::{SocketAddrV4, SocketAddrV6};

pub use swarmlab_net::compact::{
    decode_peer, decode_peer4, decode_peer6, encode_peer, encode_peer4, encode_peer6, peer_len,
    PEER4_LEN, PEER6_LEN,
};

use crate::Id;

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
