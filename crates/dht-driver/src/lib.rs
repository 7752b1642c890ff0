//! The tokio driver of the sans-IO DHT node ([`swarmlab_dht::Node`]): it owns the UDP
//! socket(s) and the clock, feeds datagrams and timeouts to the node, sends what the node
//! wants sent, keeps the state file, and offers an async API ([`Dht`]).
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`DriverConfig`]: sockets, node configuration, bootstrap names, state file |
//! | `handle.rs` | [`Dht`]: start a node, then `lookup`, `get_peers`, `announce`, `snapshot`, `table`, `wait_for_nodes`, `shutdown` |
//! | `event_loop.rs` | the node's task: sockets, timers and commands, lookups merged over both families |
//! | `stack.rs` | socket I/O of one stack: batched receive and send, [`RECV_BUF`] |
//! | `mmsg.rs` | `recvmmsg`/`sendmmsg` on Linux (the one `unsafe` module) |
//! | `snapshot.rs` | [`Snapshot`]: table, peer store and counters of a running node |
//! | `state.rs` | [`State`]: the state file (id and routing table), written durably |
//! | `testnet.rs` | [`testnet()`]: many nodes on loopback in one process |
//! | `error.rs` | [`DriverError`] |
//!
//! ```no_run
//! # async fn demo() -> Result<(), swarmlab_dht_driver::DriverError> {
//! use swarmlab_dht_driver::{Dht, DriverConfig};
//!
//! let mut cfg = DriverConfig::new("127.0.0.1:6881".parse().unwrap());
//! cfg.bootstrap = vec!["127.0.0.2:6881".into()];
//! let dht = Dht::start(cfg).await?;
//! let found = dht.get_peers(swarmlab_krpc::Id([0x42; 20])).await?;
//! for peer in &found.peers {
//!     // connect to the peer
//! #   let _ = peer;
//! }
//! dht.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod error;
mod event_loop;
mod handle;
#[cfg(target_os = "linux")]
mod mmsg;
mod snapshot;
mod stack;
mod state;
mod testnet;
#[cfg(test)]
mod tests;

pub use config::DriverConfig;
pub use error::DriverError;
pub use handle::Dht;
pub use snapshot::Snapshot;
pub use stack::RECV_BUF;
pub use state::{SavedNode, State};
pub use testnet::testnet;
