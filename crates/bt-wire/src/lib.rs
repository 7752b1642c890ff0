//! BitTorrent wire formats for swarmlab, with no sockets (sans-IO).
//!
//! - [`bencode`]: a bounded bencode reader/writer and the span scanner that finds
//!   the exact bytes of a `.torrent`'s `info` dictionary.
//! - [`metainfo`]: `.torrent` files (v1, single- and multi-file) and info dictionaries.
//! - [`magnet`]: magnet links (`xt=urn:btih:` hex or base32, `dn`, `tr`, `x.pe`).
//! - [`wire`]: the peer-wire handshake and messages (BEP 3, BEP 6 fast extension,
//!   the DHT `port` message) with an incremental, length-capped [`wire::Decoder`].
//! - [`ext`]: the extension protocol (BEP 10) and its ut_metadata (BEP 9) and
//!   ut_pex (BEP 11) messages.
//! - [`tracker`]: HTTP announce URLs and responses (BEP 3, BEP 23) and the UDP
//!   tracker protocol (BEP 15).
//! - [`client`]: peer-id to client-name mapping (Azureus- and Shadow-style ids).
#![forbid(unsafe_code)]

pub mod bencode;
pub mod client;
pub mod ext;
pub mod magnet;
pub mod metainfo;
pub mod tracker;
pub mod wire;

mod infohash;
pub use infohash::{InfoHash, InfoHashParseError, PeerId};

/// Parse compact IPv4 peers (6 bytes each: address, port, big-endian), keeping at most `cap`.
pub fn parse_compact_v4(bytes: &[u8], cap: usize) -> Vec<std::net::SocketAddr> {
    bytes
        .chunks_exact(6)
        .take(cap)
        .map(|c| {
            let ip = std::net::Ipv4Addr::new(c[0], c[1], c[2], c[3]);
            std::net::SocketAddr::from((ip, u16::from_be_bytes([c[4], c[5]])))
        })
        .collect()
}

/// Parse compact IPv6 peers (18 bytes each), keeping at most `cap`.
pub fn parse_compact_v6(bytes: &[u8], cap: usize) -> Vec<std::net::SocketAddr> {
    bytes
        .chunks_exact(18)
        .take(cap)
        .map(|c| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&c[..16]);
            let ip = std::net::Ipv6Addr::from(a);
            std::net::SocketAddr::from((ip, u16::from_be_bytes([c[16], c[17]])))
        })
        .collect()
}

/// Encode peers compactly: IPv4 peers as 6 bytes into the first vector, IPv6 as 18 into the second.
pub fn encode_compact(peers: &[std::net::SocketAddr]) -> (Vec<u8>, Vec<u8>) {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for p in peers {
        match p {
            std::net::SocketAddr::V4(a) => {
                v4.extend_from_slice(&a.ip().octets());
                v4.extend_from_slice(&a.port().to_be_bytes());
            }
            std::net::SocketAddr::V6(a) => {
                v6.extend_from_slice(&a.ip().octets());
                v6.extend_from_slice(&a.port().to_be_bytes());
            }
        }
    }
    (v4, v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..200);
            let mut b: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            // Bias towards plausible starts.
            if rng.gen_bool(0.5) && !b.is_empty() {
                b[0] = *[b'd', b'l', b'i', b'1']
                    .get(rng.gen_range(0..4))
                    .unwrap_or(&b'd');
            }
            let _ = bencode::decode(&b);
            let _ = ext::ExtHandshake::decode(&b);
            let _ = ext::MetadataMsg::decode(&b);
            let _ = ext::PexMessage::decode(&b);
            let _ = tracker::parse_http_response(&b);
            let _ = tracker::udp_parse_request(&b);
            let _ = tracker::udp_parse_announce(&b, 0, rng.gen());
            let _ = metainfo::Metainfo::from_bytes(&b);
            let _ = metainfo::Info::from_bytes(&b);
            let _ = magnet::Magnet::parse(&String::from_utf8_lossy(&b));
            let mut d = wire::Decoder::new(1024);
            d.extend(&b);
            while let Ok(Some(_)) = d.next_message() {}
            if b.len() >= 20 {
                let id: [u8; 20] = b[..20].try_into().unwrap();
                let _ = client::client_from_peer_id(&id);
            }
        }
    }

    #[test]
    fn compact_roundtrip() {
        let peers: Vec<std::net::SocketAddr> = vec![
            "127.0.0.2:6881".parse().unwrap(),
            "[::1]:51413".parse().unwrap(),
            "10.1.2.3:1".parse().unwrap(),
        ];
        let (v4, v6) = encode_compact(&peers);
        assert_eq!(v4.len(), 12);
        assert_eq!(v6.len(), 18);
        let mut back = parse_compact_v4(&v4, 100);
        back.extend(parse_compact_v6(&v6, 100));
        assert_eq!(back.len(), 3);
        assert!(back.contains(&peers[0]) && back.contains(&peers[1]) && back.contains(&peers[2]));
        assert_eq!(parse_compact_v4(&v4, 1).len(), 1);
        assert_eq!(parse_compact_v4(&v4[..7], 10).len(), 1);
    }
}
