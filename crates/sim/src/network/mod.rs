//! The network model: how long a datagram takes from one node to another, whether it
//! is lost, and which nodes cannot be reached.
//!
//! * **Latency.** [`Latency::Fixed`]: one delay plus uniform jitter for every
//!   datagram (a LAN, and the model of the first simulator). [`Latency::Regions`]:
//!   each node is placed in a region (by the regions' shares) and gets an access
//!   delay of its own (exponential, mean [`RegionModel::access_ms`], the last mile);
//!   a datagram from `a` to `b` takes `access(a) + rtt(region a, region b) / 2 +
//!   access(b)`, times `1 + U(0, jitter)`. The matrix is published measurement
//!   (`regions.rs`).
//! * **Loss.** Each datagram is lost with probability [`NetworkModel::loss`],
//!   independently.
//! * **Unreachable nodes.** A share [`NetworkModel::unreachable`] of the nodes sit
//!   behind a NAT that filters unsolicited datagrams (`nat.rs`): they send queries
//!   and get the replies, and a node they queried may reach them for
//!   [`NetworkModel::nat_timeout`] afterwards, but a third party that learned of them
//!   from a reply never gets an answer. Kademlia implementations measured this: mldht
//!   reports about half of the contacts that other nodes return as unreachable.
//!
//! Everything random (placement, access delay, jitter, loss) comes from the
//! simulation's seeded RNG.

mod nat;
pub mod regions;

use std::time::Duration;

use rand::Rng;

use crate::SimError;
pub(crate) use nat::Nat;
pub use regions::Region;

/// Network conditions of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkModel {
    /// How long datagrams take.
    pub latency: Latency,
    /// Probability that a datagram is lost (0 to 1).
    pub loss: f64,
    /// Share of the nodes behind a filtering NAT (0 to 1).
    pub unreachable: f64,
    /// How long a NAT lets a node's replies and queries in after it sent to that node
    /// (RFC 4787, REQ-5: a UDP mapping must not expire in less than 2 minutes).
    pub nat_timeout: Duration,
}

/// How long a datagram takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Latency {
    /// `one_way` plus `U(0, jitter)` for every datagram.
    Fixed {
        /// The one-way delay.
        one_way: Duration,
        /// The largest extra delay.
        jitter: Duration,
    },
    /// Regions with an RTT matrix and per-node access delays.
    Regions(RegionModel),
}

/// Nodes in regions with a round-trip-time matrix between them.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionModel {
    /// The regions and their shares of the nodes.
    pub regions: Vec<Region>,
    /// Round-trip times between regions, in milliseconds (`rtt_ms[a][b]`).
    pub rtt_ms: Vec<Vec<f64>>,
    /// Mean one-way access delay of a node (exponentially distributed), in ms.
    pub access_ms: f64,
    /// The largest extra delay of a datagram, as a fraction of its delay.
    pub jitter: f64,
}

impl RegionModel {
    /// SimBlock's 2019 regions and matrix (`regions.rs`), a 5 ms mean access delay
    /// and 10% jitter.
    pub fn simblock_2019() -> RegionModel {
        let (regions, rtt_ms) = regions::simblock_2019();
        RegionModel {
            regions,
            rtt_ms,
            access_ms: 5.0,
            jitter: 0.1,
        }
    }
}

impl Default for NetworkModel {
    fn default() -> Self {
        NetworkModel::lan()
    }
}

impl NetworkModel {
    /// 20 ms one way plus up to 10 ms of jitter, no loss, every node reachable: the
    /// first simulator's network.
    pub fn lan() -> NetworkModel {
        NetworkModel {
            latency: Latency::Fixed {
                one_way: Duration::from_millis(20),
                jitter: Duration::from_millis(10),
            },
            loss: 0.0,
            unreachable: 0.0,
            nat_timeout: Duration::from_secs(120),
        }
    }

    /// The Internet as the regions model gives it ([`RegionModel::simblock_2019`]),
    /// no loss, every node reachable (set `loss` and `unreachable` for those).
    pub fn internet() -> NetworkModel {
        NetworkModel {
            latency: Latency::Regions(RegionModel::simblock_2019()),
            ..NetworkModel::lan()
        }
    }

    /// Checks probabilities, the matrix's shape and the delays.
    pub fn validate(&self) -> Result<(), SimError> {
        let p = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !p(self.loss) {
            return Err(SimError::BadModel("loss"));
        }
        if !p(self.unreachable) {
            return Err(SimError::BadModel("unreachable"));
        }
        if let Latency::Regions(r) = &self.latency {
            let n = r.regions.len();
            if n == 0 || n > 255 {
                return Err(SimError::BadModel("regions"));
            }
            if r.rtt_ms.len() != n
                || r.rtt_ms
                    .iter()
                    .any(|row| row.len() != n || row.iter().any(|x| !x.is_finite() || *x < 0.0))
            {
                return Err(SimError::BadModel("rtt_ms"));
            }
            let total: f64 = r.regions.iter().map(|g| g.share).sum();
            if r.regions
                .iter()
                .any(|g| !g.share.is_finite() || g.share < 0.0)
                || total <= 0.0
            {
                return Err(SimError::BadModel("share"));
            }
            if !r.access_ms.is_finite() || r.access_ms < 0.0 {
                return Err(SimError::BadModel("access_ms"));
            }
            if !r.jitter.is_finite() || r.jitter < 0.0 {
                return Err(SimError::BadModel("jitter"));
            }
        }
        Ok(())
    }

    /// Where a new node lives: its region, access delay and whether it is behind a
    /// filtering NAT.
    pub(crate) fn place<R: Rng>(&self, rng: &mut R) -> Place {
        let nat = self.unreachable > 0.0 && rng.gen_bool(self.unreachable);
        match &self.latency {
            Latency::Fixed { .. } => Place {
                region: 0,
                nat,
                access_us: 0,
            },
            Latency::Regions(r) => {
                let total: f64 = r.regions.iter().map(|g| g.share).sum();
                let mut x = rng.gen::<f64>() * total;
                let mut region = r.regions.len() - 1;
                for (i, g) in r.regions.iter().enumerate() {
                    if x < g.share {
                        region = i;
                        break;
                    }
                    x -= g.share;
                }
                let u: f64 = rng.gen::<f64>();
                let access_ms = -r.access_ms * (1.0 - u).ln();
                Place {
                    region: region as u8,
                    nat,
                    access_us: (access_ms * 1e3).min(1e6) as u32,
                }
            }
        }
    }

    /// How long a datagram from `a` to `b` takes, in nanoseconds.
    pub(crate) fn delay_ns<R: Rng>(&self, a: &Place, b: &Place, rng: &mut R) -> u64 {
        match &self.latency {
            Latency::Fixed { one_way, jitter } => {
                let j = if jitter.is_zero() {
                    Duration::ZERO
                } else {
                    jitter.mul_f64(rng.gen::<f64>())
                };
                (*one_way + j).as_nanos() as u64
            }
            Latency::Regions(r) => {
                let rtt = r.rtt_ms[a.region as usize][b.region as usize];
                let base_us = f64::from(a.access_us) + rtt * 500.0 + f64::from(b.access_us);
                let j = if r.jitter > 0.0 {
                    1.0 + r.jitter * rng.gen::<f64>()
                } else {
                    1.0
                };
                (base_us * j * 1e3) as u64
            }
        }
    }

    /// Whether this datagram is lost.
    pub(crate) fn lost<R: Rng>(&self, rng: &mut R) -> bool {
        self.loss > 0.0 && rng.gen_bool(self.loss)
    }
}

/// Where a node lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Its region (an index into the model's regions; 0 for a fixed latency).
    pub region: u8,
    /// Behind a NAT that filters unsolicited datagrams.
    pub nat: bool,
    /// Its one-way access delay, in microseconds.
    pub access_us: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn regions_follow_their_shares_and_delays_the_matrix() {
        let m = NetworkModel::internet();
        m.validate().unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let places: Vec<Place> = (0..20_000).map(|_| m.place(&mut rng)).collect();
        let europe = places.iter().filter(|p| p.region == 1).count() as f64 / 20_000.0;
        assert!((europe - 0.4998).abs() < 0.02, "{europe}");
        let a = Place {
            region: 1,
            nat: false,
            access_us: 0,
        };
        let b = Place { region: 5, ..a };
        // Europe to Australia: 294 ms round trip, 147 ms one way, up to 10% jitter.
        let d = m.delay_ns(&a, &b, &mut rng) as f64 / 1e6;
        assert!((147.0..=161.7).contains(&d), "{d}");
        let mean_access =
            places.iter().map(|p| f64::from(p.access_us)).sum::<f64>() / places.len() as f64 / 1e3;
        assert!((mean_access - 5.0).abs() < 0.3, "{mean_access}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let mut m = NetworkModel::internet();
        m.loss = 1.5;
        assert_eq!(m.validate(), Err(SimError::BadModel("loss")));
        let mut m = NetworkModel::internet();
        if let Latency::Regions(r) = &mut m.latency {
            r.rtt_ms.pop();
        }
        assert_eq!(m.validate(), Err(SimError::BadModel("rtt_ms")));
    }
}
