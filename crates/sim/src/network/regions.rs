//! Regions with an inter-region round-trip-time matrix taken from published
//! measurements.
//!
//! The matrix is the one SimBlock (Aoki, Otsuki, Kaneko, Banno and Shudo, "SimBlock:
//! A Blockchain Network Simulator", IEEE INFOCOM Workshops 2019) measured between
//! nodes of the Bitcoin network in 2019 and publishes with its simulator
//! (`LATENCY_2019` in its `NetworkConfiguration`), with the share of nodes per region
//! measured at the same time (`REGION_DISTRIBUTION_BITCOIN_2019`). The values are in
//! milliseconds between end hosts: 11 ms inside Europe, 32 ms inside North America,
//! 124 ms between the two, 294 ms from Europe to Australia. SimBlock adds them as a
//! one-way delay; we read them as round-trip times between hosts (each direction
//! takes half), which is what ping-based measurements between end hosts give. The
//! shares are those of Bitcoin nodes, not of the DHT's: they are a parameter.

/// A region where nodes live.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Its name.
    pub name: &'static str,
    /// The share of nodes placed in it (the shares are normalised).
    pub share: f64,
}

/// SimBlock's regions, in the order of the matrix.
pub const NAMES: [&str; 6] = [
    "north_america",
    "europe",
    "south_america",
    "asia_pacific",
    "japan",
    "australia",
];

/// SimBlock's 2019 matrix (ms), read as round-trip times between end hosts.
pub const RTT_MS_2019: [[f64; 6]; 6] = [
    [32.0, 124.0, 184.0, 198.0, 151.0, 189.0],
    [124.0, 11.0, 227.0, 237.0, 252.0, 294.0],
    [184.0, 227.0, 88.0, 325.0, 301.0, 322.0],
    [198.0, 237.0, 325.0, 85.0, 58.0, 198.0],
    [151.0, 252.0, 301.0, 58.0, 12.0, 126.0],
    [189.0, 294.0, 322.0, 198.0, 126.0, 16.0],
];

/// SimBlock's share of Bitcoin nodes per region in 2019.
pub const SHARES_2019: [f64; 6] = [0.3316, 0.4998, 0.0090, 0.1177, 0.0224, 0.0195];

/// The regions of [`RTT_MS_2019`] with the shares of [`SHARES_2019`].
pub fn simblock_2019() -> (Vec<Region>, Vec<Vec<f64>>) {
    let regions = NAMES
        .iter()
        .zip(SHARES_2019)
        .map(|(name, share)| Region { name, share })
        .collect();
    let rtt = RTT_MS_2019.iter().map(|r| r.to_vec()).collect();
    (regions, rtt)
}
