//! Benchmark tools for DHT nodes, usable against any BEP 5 node on loopback:
//!
//! * [`run_load`]: a load generator. Several UDP sockets (each on its own 127.x address,
//!   each on its own thread) keep a window of ping, find_node and get_peers queries
//!   outstanding against one node for a fixed time; it counts the answers and records
//!   every round trip ([`LoadReport`]).
//! * [`Fillers`]: many small fake nodes (one socket each, on distinct 127.x addresses)
//!   whose ids are spread over the distance classes of a target id. Each sends the node
//!   one `find_node` (its own id as sender and as target) and answers whatever the node
//!   asks back, so the node's routing table fills with a few hundred verified nodes.
//! * [`rss_bytes`]: the resident set size of this process.
//!
//! Queries are encoded by hand (fixed templates with the transaction id patched in) and
//! answers are parsed only as far as `t` and `y`, so that the generator spends as little
//! CPU as possible: on a 2-core machine it shares the cores with the node it measures.
//!
//! | file | what |
//! |---|---|
//! | `load.rs` | [`run_load`], [`LoadConfig`], [`LoadReport`] |
//! | `wire.rs` | the generator's KRPC: query and response templates, [`top_t_y`] |
//! | `fillers.rs` | [`Fillers`], [`ids_by_distance`] |
//! | `host.rs` | [`rss_bytes`], [`udp_out_datagrams`], [`percentile`], [`ip_range`] |
//!
//! The side-by-side comparison with the `mainline` crate is the bench target
//! `benches/compare/` (`cargo bench -p swarmlab-dht-bench --bench compare`).

mod fillers;
mod host;
mod load;
mod wire;

pub use fillers::{ids_by_distance, Fillers};
pub use host::{ip_range, percentile, rss_bytes, udp_out_datagrams};
pub use load::{run_load, Kind, LoadConfig, LoadReport};
pub use wire::{encode_query, encode_response, top_t_y};
#[cfg(test)]
mod tests;
