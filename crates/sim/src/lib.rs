//! swarmlab's DHT simulator: many real `swarmlab_dht::Node`s (the code that runs on
//! UDP) in one process, in simulated time, over a network model with regions, access
//! delays, loss and unreachable nodes, with churn, built by growing or from global
//! knowledge, and the runners of the experiments in `experiments/`.
//!
//! | module | what |
//! |---|---|
//! | `engine/` | [`Sim`]: the event queue, nodes arriving and leaving, delivering datagrams, waking nodes ([`SimConfig`], [`NetStats`]) |
//! | [`network`] | [`NetworkModel`]: fixed latency or regions with an RTT matrix (SimBlock 2019), access delay, jitter, loss, filtering NATs |
//! | [`init`] | [`Join`] for grown networks, [`GlobalKnowledge`] for tables filled by the simulator |
//! | [`churn`] | [`Churn`]: Weibull sessions (Stutzbach and Rejaie's fits), departures and arrivals |
//! | [`workload`] | lookups started over time ([`LookupSpec`]) and what became of each ([`LookupRecord`]) |
//! | [`truth`] | the live ids sorted: the true k closest nodes to a target |
//! | [`measure`] | one CSV row per lookup, summaries, percentiles, resident memory |
//! | [`experiment`] | scenarios, the catalogue of experiments, the regimes, size-estimation rows |
//! | [`addr`] | simulated addresses (10.x.y.z:6881) |
//! | [`error`] | [`SimError`] |
//!
//! ```
//! use std::time::Duration;
//! use swarmlab_sim::{Join, Sim, SimConfig};
//! use swarmlab_dht::{LookupKind, NodeConfig};
//!
//! let mut sim = Sim::new(SimConfig::default()).unwrap();
//! sim.grow(40, &NodeConfig::default(), Join::Random(3), Duration::from_millis(100))
//!     .unwrap();
//! sim.run_for(Duration::from_secs(30));
//! let target = sim.node(7).id();
//! let r = sim
//!     .run_lookup(3, LookupKind::FindNode, target, Duration::from_secs(60))
//!     .unwrap();
//! assert_eq!(r.closest[0].0, target);
//! ```

pub mod addr;
pub mod churn;
mod engine;
pub mod error;
pub mod experiment;
pub mod init;
pub mod measure;
pub mod network;
pub mod truth;
pub mod workload;

pub use addr::{sim_addr, sim_index};
pub use churn::Churn;
pub use engine::{NetStats, Sim, SimConfig};
pub use error::SimError;
pub use init::{GlobalKnowledge, Join};
pub use network::{Latency, NetworkModel, RegionModel};
pub use workload::{LookupRecord, LookupSpec, Origin, Target};
