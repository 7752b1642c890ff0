//! Canonical addresses and address validity.

use std::net::{IpAddr, SocketAddr};

/// The canonical form of `addr`: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
/// becomes the IPv4 address it maps, so that one host is one key whichever socket
/// family it reached us on.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// True for an IPv6 address that is an IPv4-mapped one (`::ffff:a.b.c.d`).
pub fn is_v4_mapped(addr: &SocketAddr) -> bool {
    matches!(addr.ip(), IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// True when `addr` can be a peer or a node: a port other than 0, and an address
/// that is not unspecified (`0.0.0.0`, `::`), multicast or the IPv4 broadcast
/// address. Loopback and private addresses are valid (testnets live there).
pub fn is_valid_peer(addr: &SocketAddr) -> bool {
    let ip = addr.ip().to_canonical();
    addr.port() != 0
        && !ip.is_unspecified()
        && !ip.is_multicast()
        && !matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn mapped_addresses_become_ipv4() {
        assert_eq!(canonical(a("[::ffff:1.2.3.4]:80")), a("1.2.3.4:80"));
        assert_eq!(canonical(a("[2001:db8::1]:80")), a("[2001:db8::1]:80"));
        assert_eq!(canonical(a("1.2.3.4:80")), a("1.2.3.4:80"));
        assert!(is_v4_mapped(&a("[::ffff:1.2.3.4]:80")));
        assert!(!is_v4_mapped(&a("[::1]:80")));
        assert!(!is_v4_mapped(&a("1.2.3.4:80")));
    }

    #[test]
    fn validity() {
        for ok in ["1.2.3.4:1", "127.0.0.1:6881", "10.0.0.1:65535", "[::1]:1"] {
            assert!(is_valid_peer(&a(ok)), "{ok}");
        }
        for bad in [
            "1.2.3.4:0",
            "0.0.0.0:6881",
            "[::]:6881",
            "224.0.0.1:6881",
            "255.255.255.255:6881",
            "[ff02::1]:6881",
            "[::ffff:255.255.255.255]:6881",
            "[::ffff:0.0.0.0]:6881",
        ] {
            assert!(!is_valid_peer(&a(bad)), "{bad}");
        }
    }
}
