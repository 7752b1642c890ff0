//! The DHT peer source: the [`DhtLookup`] trait, which lives in `swarmlab-bt`
//! ([`swarmlab_bt::dht`]) so that fetch and seed share it. The binary implements it
//! with swarmlab's own node and passes it in [`crate::RoundInputs::dht`]; with
//! `None`, the DHT source is reported as unavailable and the audit uses the others.

pub use swarmlab_bt::dht::{DhtError, DhtLookup, StaticDht};
