//! Tests of the routing table: the helpers and invariants they share, then one file per
//! family of rules.

mod buckets;
mod closest;
mod ip;
mod refresh;
mod states;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use swarmlab_krpc::Id;

use super::distance::copy_prefix;
use super::*;
use crate::bep42;

const MIN: Duration = Duration::from_secs(60);

fn addr(n: u32) -> SocketAddr {
    // Distinct public-looking IPv4 per n.
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + n)), 6881)
}

/// An id with the given first byte and `n` in the tail.
fn id_with(first: u8, n: u32) -> Id {
    let mut b = [0u8; 20];
    b[0] = first;
    b[16..].copy_from_slice(&n.to_be_bytes());
    Id(b)
}

fn check_invariants(t: &RoutingTable) {
    let mut ips = HashSet::new();
    let mut ids = HashSet::new();
    let mut len = 0;
    let last = t.buckets.len() - 1;
    assert!(t.buckets.len() <= MAX_BUCKETS);
    for (i, b) in t.buckets.iter().enumerate() {
        assert!(b.nodes.len() <= t.cfg.k, "bucket {i} over k");
        assert!(b.cache.len() <= t.cfg.replacement_cache);
        len += b.nodes.len();
        for e in b.nodes.iter().chain(b.cache.iter()) {
            let cpl = t.our_id.common_prefix_len(&e.id) as usize;
            if i < last {
                assert_eq!(cpl, i, "node in wrong bucket");
            } else {
                assert!(cpl >= last);
            }
            assert_ne!(e.id, t.our_id);
            let a = e.addr.socket();
            assert!(ips.insert(a.ip()), "duplicate ip {a}");
            assert!(ids.insert(e.id), "duplicate id");
            assert_eq!(t.id_for_ip(a.ip()), Some(e.id));
        }
    }
    // The IP index holds exactly one fingerprint per entry.
    let mut want: Vec<u32> = ips
        .iter()
        .map(|ip| super::node_addr::fingerprint(&super::node_addr::ip_bytes(*ip)))
        .collect();
    want.sort_unstable();
    assert_eq!(t.ips.fingerprints(), &want[..]);
    assert_eq!(len, t.len);
}

fn table(now: Instant, our: Id) -> RoutingTable {
    RoutingTable::new(now, our)
}
