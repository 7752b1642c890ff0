//! BEP 42 ("DHT security extension"): node ids derived from the external IP.
//!
//! The first 21 bits of a node id must equal the top 21 bits of
//! `crc32c((ip & mask) | (r << 5 in the first octet))`, where `r` is the low
//! three bits of the id's last byte. IPv4 uses all 4 octets with mask
//! `03 0f 3f ff`; IPv6 uses the first 8 octets with mask
//! `01 03 07 0f 1f 3f 7f ff`. Local / private addresses are exempt.
//!
//! [`crc32c`] is implemented here (table-driven, Castagnoli polynomial,
//! reflected), no external crate.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::Rng;
use swarmlab_krpc::Id;

const V4_MASK: [u8; 4] = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK: [u8; 8] = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/// Reflected Castagnoli polynomial (0x1EDC6F41 bit-reversed).
const CASTAGNOLI_REFLECTED: u32 = 0x82F6_3B78;

const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ CASTAGNOLI_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-32C (Castagnoli) of `data`: init `0xffffffff`, reflected, final xor
/// `0xffffffff` (the iSCSI / SSE4.2 CRC; `crc32c(b"123456789") == 0xe3069283`).
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC32C_TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The BEP 42 crc for `ip` and the 3-bit random value `r` (only the low three
/// bits of `r` are used). The top 21 bits of the result are the id prefix.
pub fn ip_crc(ip: IpAddr, r: u8) -> u32 {
    let r = r & 0x07;
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let mut o = v4.octets();
            for (b, m) in o.iter_mut().zip(V4_MASK) {
                *b &= m;
            }
            o[0] |= r << 5;
            crc32c(&o)
        }
        IpAddr::V6(v6) => {
            let full = v6.octets();
            let mut o = [0u8; 8];
            for i in 0..8 {
                o[i] = full[i] & V6_MASK[i];
            }
            o[0] |= r << 5;
            crc32c(&o)
        }
    }
}

/// Builds the BEP 42 id for `ip` from explicit random inputs (deterministic;
/// used for the BEP test vectors). `rand` becomes the last byte (its low three
/// bits are `r`); `tail[0] & 7` fills the low bits of byte 2 and
/// `tail[1..17]` fill bytes 3..19.
pub fn derive_id_with(ip: IpAddr, rand: u8, tail: &[u8; 17]) -> Id {
    let crc = ip_crc(ip, rand);
    let mut id = [0u8; 20];
    id[0] = (crc >> 24) as u8;
    id[1] = (crc >> 16) as u8;
    id[2] = ((crc >> 8) as u8 & 0xf8) | (tail[0] & 0x07);
    id[3..19].copy_from_slice(&tail[1..17]);
    id[19] = rand;
    Id(id)
}

/// A fresh BEP 42 node id for our external address `ip`, random parts drawn
/// from `rng`. For exempt (local) addresses the result is still a valid
/// BEP 42 id for that address, which is harmless.
pub fn derive_id<R: Rng + ?Sized>(ip: IpAddr, rng: &mut R) -> Id {
    let rand: u8 = rng.gen();
    let mut tail = [0u8; 17];
    rng.fill_bytes(&mut tail);
    derive_id_with(ip, rand, &tail)
}

/// True when `ip` is exempt from BEP 42 checks: loopback, private
/// (10/8, 172.16/12, 192.168/16), link-local (169.254/16), unspecified, and
/// for IPv6 loopback, unique-local (fc00::/7) and link-local (fe80::/10).
/// IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_exempt(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4_exempt(v4),
        IpAddr::V6(v6) => v6_exempt(v6),
    }
}

fn v4_exempt(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
}

fn v6_exempt(ip: Ipv6Addr) -> bool {
    let s0 = ip.segments()[0];
    ip.is_loopback() || ip.is_unspecified() || (s0 & 0xfe00) == 0xfc00 || (s0 & 0xffc0) == 0xfe80
}

/// True when the first 21 bits of `id` match what BEP 42 requires for `ip`
/// (with `r` taken from the id's last byte), ignoring exemptions.
pub fn matches_ip(id: &Id, ip: IpAddr) -> bool {
    let b = &id.0;
    let crc = ip_crc(ip, b[19]);
    b[0] == (crc >> 24) as u8
        && b[1] == (crc >> 16) as u8
        && (b[2] & 0xf8) == ((crc >> 8) as u8 & 0xf8)
}

/// BEP 42 check as a node applies it to others: `true` if `ip` is exempt
/// ([`is_exempt`]) or `id` matches it ([`matches_ip`]).
pub fn is_valid(id: &Id, ip: IpAddr) -> bool {
    is_exempt(ip) || matches_ip(id, ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
        // RFC 3720 B.4: 32 bytes of zeros.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
    }

    /// The five vectors of BEP 42: (ip, rand, first three bytes with the low
    /// three bits of byte 2 random, full example id).
    const VECTORS: [(&str, u8, &str); 5] = [
        (
            "124.31.75.21",
            1,
            "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401",
        ),
        (
            "21.75.31.124",
            86,
            "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256",
        ),
        (
            "65.23.51.170",
            22,
            "a5d43220bc8f112a3d426c84764f8c2a1150e616",
        ),
        (
            "84.124.73.14",
            65,
            "1b0321dd1bb1fe518101ceef99462b947a01ff41",
        ),
        (
            "43.213.53.83",
            90,
            "e56f6cbf5b7c4be0237986d5243b87aa6d51305a",
        ),
    ];

    #[test]
    fn bep42_vectors_derive() {
        for (ip, rand, hex) in VECTORS {
            let example = Id::from_hex(hex).unwrap();
            let mut tail = [0u8; 17];
            tail[0] = example.0[2] & 7;
            tail[1..].copy_from_slice(&example.0[3..19]);
            let id = derive_id_with(v4(ip), rand, &tail);
            assert_eq!(id, example, "vector {ip}");
            assert_eq!(id.0[19], rand);
        }
    }

    #[test]
    fn bep42_vectors_validate() {
        for (ip, _rand, hex) in VECTORS {
            let id = Id::from_hex(hex).unwrap();
            assert!(matches_ip(&id, v4(ip)), "{ip}");
            assert!(is_valid(&id, v4(ip)));
            // Flipping any of the first 21 bits breaks it.
            for bit in [0usize, 7, 8, 15, 16, 20] {
                let mut bad = id;
                bad.0[bit / 8] ^= 0x80 >> (bit % 8);
                assert!(!matches_ip(&bad, v4(ip)), "{ip} bit {bit}");
            }
            // The low 3 bits of byte 2 and bytes 3..19 are free.
            let mut free = id;
            free.0[2] ^= 0x07;
            free.0[10] ^= 0xff;
            assert!(matches_ip(&free, v4(ip)));
            // Changing r (last byte's low 3 bits) changes the required prefix.
            let mut other_r = id;
            other_r.0[19] ^= 0x01;
            assert!(!matches_ip(&other_r, v4(ip)));
            // Wrong ip.
            assert!(!matches_ip(&id, v4("1.2.3.4")));
        }
    }

    #[test]
    fn derived_ids_validate_v4_and_v6() {
        let mut rng = StdRng::seed_from_u64(42);
        let ips = [
            v4("8.8.8.8"),
            v4("203.0.113.7"),
            "2001:db8:1:2:3:4:5:6".parse().unwrap(),
            "2a00:1450:4001:80b::200e".parse().unwrap(),
        ];
        for ip in ips {
            for _ in 0..50 {
                let id = derive_id(ip, &mut rng);
                assert!(matches_ip(&id, ip), "{ip} {id}");
                assert!(!is_exempt(ip));
            }
        }
        // IPv6: only the first 8 octets matter.
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let id = derive_id(a, &mut rng);
        assert!(matches_ip(&id, b));
        // IPv4-mapped IPv6 is judged as IPv4.
        let mapped: IpAddr = "::ffff:124.31.75.21".parse().unwrap();
        assert!(matches_ip(&Id::from_hex(VECTORS[0].2).unwrap(), mapped));
    }

    #[test]
    fn exemptions() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.3.4",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_exempt(ip), "{ip}");
            assert!(is_valid(&Id::ZERO, ip));
        }
        for ip in ["172.32.0.1", "8.8.8.8", "2001:db8::1", "11.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_exempt(ip), "{ip}");
        }
        assert!(!is_valid(&Id([0xff; 20]), v4("124.31.75.21")));
    }
}
