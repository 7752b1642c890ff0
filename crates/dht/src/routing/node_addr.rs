//! A node's address in 18 bytes (16 for the IP, IPv4 as IPv4-mapped IPv6, 2 for the
//! port) instead of the 32 of a `SocketAddr`, and the 4-byte fingerprint of its IP
//! that the table's IP index keeps.
//!
//! Addresses are stored canonical ([`swarmlab_net::canonical`]: an IPv4-mapped IPv6
//! address is IPv4), so a mapped address read back is always an IPv4 one. An IPv6
//! address keeps neither flow label nor scope id (a routing-table entry is a global
//! address).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// A canonical socket address, compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct NodeAddr {
    ip: [u8; 16],
    port: [u8; 2],
}

impl NodeAddr {
    pub(super) fn new(a: SocketAddr) -> NodeAddr {
        NodeAddr {
            ip: ip_bytes(a.ip()),
            port: a.port().to_be_bytes(),
        }
    }

    pub(super) fn socket(&self) -> SocketAddr {
        SocketAddr::new(
            Ipv6Addr::from(self.ip).to_canonical(),
            u16::from_be_bytes(self.port),
        )
    }

    /// True when the IP is `ip` (any port).
    pub(super) fn has_ip(&self, ip: &[u8; 16]) -> bool {
        self.ip == *ip
    }

    pub(super) fn ip_key(&self) -> [u8; 16] {
        self.ip
    }
}

/// The 16 bytes the table keys an IP by (IPv4 as IPv4-mapped IPv6).
pub(super) fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// A 32-bit fingerprint of an IP (FNV-1a): equal IPs have equal fingerprints; two IPs
/// with the same fingerprint are told apart by the entries themselves.
pub(super) fn fingerprint(ip: &[u8; 16]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in ip {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The fingerprints of every entry's IP, sorted: whether an IP may be in the table
/// in a binary search, 4 bytes per entry.
#[derive(Debug, Clone, Default)]
pub(super) struct IpIndex(Vec<u32>);

impl IpIndex {
    pub(super) fn insert(&mut self, ip: &[u8; 16]) {
        let f = fingerprint(ip);
        let i = self.0.partition_point(|&x| x < f);
        self.0.insert(i, f);
    }

    /// Removes one occurrence of `ip`'s fingerprint.
    pub(super) fn remove(&mut self, ip: &[u8; 16]) {
        let f = fingerprint(ip);
        if let Ok(i) = self.0.binary_search(&f) {
            self.0.remove(i);
        }
    }

    /// False when no entry can have this IP.
    pub(super) fn may_contain(&self, ip: &[u8; 16]) -> bool {
        self.0.binary_search(&fingerprint(ip)).is_ok()
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    #[cfg(test)]
    pub(super) fn fingerprints(&self) -> &[u32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_canonical() {
        for s in [
            "1.2.3.4:6881",
            "[2001:db8::1]:80",
            "10.0.0.1:1",
            "[::1]:65535",
        ] {
            let a: SocketAddr = s.parse().unwrap();
            assert_eq!(NodeAddr::new(a).socket(), a);
        }
        let mapped: SocketAddr = "[::ffff:1.2.3.4]:6881".parse().unwrap();
        assert_eq!(
            NodeAddr::new(mapped).socket(),
            "1.2.3.4:6881".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(std::mem::size_of::<NodeAddr>(), 18);
    }

    #[test]
    fn the_index_counts_every_occurrence() {
        let a = ip_bytes("1.2.3.4".parse().unwrap());
        let b = ip_bytes("5.6.7.8".parse().unwrap());
        let mut x = IpIndex::default();
        x.insert(&a);
        x.insert(&a);
        x.insert(&b);
        assert!(x.may_contain(&a) && x.may_contain(&b));
        x.remove(&a);
        assert!(x.may_contain(&a));
        x.remove(&a);
        assert!(!x.may_contain(&a));
        assert_eq!(x.len(), 1);
    }
}
