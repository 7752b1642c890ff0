//! What the host says: this process's memory, the UDP datagrams sent, and the small
//! helpers the reports use.

use std::net::{IpAddr, Ipv4Addr};

/// Value at percentile `p` of sorted `v` (nearest rank); 0 when empty.
pub fn percentile<T: Copy + Default>(v: &[T], p: f64) -> T {
    if v.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Consecutive IPv4 addresses from `first`.
pub fn ip_range(first: Ipv4Addr, n: usize) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(u32::from(first) + i as u32)))
        .collect()
}

/// Resident set size of this process, bytes (Linux `/proc/self/statm`).
pub fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// UDP datagrams sent by this network namespace (`/proc/net/snmp`, `Udp: OutDatagrams`).
pub fn udp_out_datagrams() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut lines = s.lines().filter(|l| l.starts_with("Udp:"));
    let head: Vec<&str> = lines.next()?.split_whitespace().collect();
    let vals: Vec<&str> = lines.next()?.split_whitespace().collect();
    let i = head.iter().position(|h| *h == "OutDatagrams")?;
    vals.get(i)?.parse().ok()
}
