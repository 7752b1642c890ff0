//! The tokio driver of the sans-IO DHT node ([`swarmlab_dht::Node`]): it owns the UDP
//! socket(s) and the clock, feeds datagrams and timeouts to the node, sends what the node
//! wants sent, keeps the state file, and offers an async API ([`Dht`]).
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`DriverConfig`]: sockets, node configuration, bootstrap names, state file |
//! | `bootstrap.rs` | [`PUBLIC_ROUTERS`], the [`Resolver`] task with its [`Backoff`] (DNS never blocks the node) |
//! | `handle.rs` | [`Dht`]: start a node, then `lookup`, `get_peers`, `announce`, `get` and `put` (BEP 44), `query`, `snapshot`, `table`, `wait_for_nodes`, `shutdown` |
//! | `event_loop.rs` | the node's task: sockets, timers, resolved bootstrap addresses and commands; lookups merged over both families, the id and `want` shared between them |
//! | `crawl.rs` | [`crawl()`]: a BEP 51 crawl driven over a running node |
//! | `metrics.rs` | [`render_metrics`]: a snapshot in Prometheus text format (`prometheus-client`) |
//! | `metrics_http.rs` | [`serve_metrics`]: the HTTP endpoint that serves it |
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

mod bootstrap;
mod config;
mod crawl;
mod error;
mod event_loop;
mod handle;
mod metrics;
mod metrics_http;
#[cfg(target_os = "linux")]
mod mmsg;
mod snapshot;
mod stack;
mod state;
mod testnet;
#[cfg(test)]
mod tests;

pub use bootstrap::{Backoff, Resolver, PUBLIC_ROUTERS};
pub use config::DriverConfig;
pub use crawl::crawl;
pub use error::DriverError;
pub use handle::{Dht, QueryReply};
pub use metrics::render as render_metrics;
pub use metrics_http::serve_metrics;
pub use snapshot::Snapshot;
pub use stack::RECV_BUF;
pub use state::{SavedNode, State};
pub use testnet::testnet;
