//! Simulated addresses: node `i` is `10.0.0.0 + (i + 1)` on port 6881, so up to
//! 16,777,214 nodes over a run (churn gives every newcomer a new address). The
//! addresses are private, so BEP 42 exempts them and nodes keep their random ids.

use std::net::{Ipv4Addr, SocketAddr};

/// Most nodes a simulation can create over its run.
pub const MAX_NODES: usize = 0x00ff_fffe;

/// The simulated address of node `i`.
pub fn sim_addr(i: usize) -> SocketAddr {
    let i = (i as u32).wrapping_add(1) & 0x00ff_ffff;
    SocketAddr::from((Ipv4Addr::from(0x0a00_0000 | i), 6881))
}

/// The node index of a simulated address (the inverse of [`sim_addr`]).
pub fn sim_index(addr: SocketAddr) -> Option<usize> {
    match addr {
        SocketAddr::V4(a) if a.port() == 6881 => {
            let ip = u32::from(*a.ip());
            (ip >> 24 == 10 && ip & 0x00ff_ffff != 0).then(|| (ip & 0x00ff_ffff) as usize - 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_indices_are_inverse() {
        for i in [0, 1, 255, 65_536, MAX_NODES - 1] {
            assert_eq!(sim_index(sim_addr(i)), Some(i));
        }
        assert_eq!(sim_index("10.0.0.0:6881".parse().unwrap()), None);
        assert_eq!(sim_index("10.0.0.1:6882".parse().unwrap()), None);
        assert_eq!(sim_index("11.0.0.1:6881".parse().unwrap()), None);
    }
}
