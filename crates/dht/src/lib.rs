//! The sans-IO core of swarmlab's Mainline DHT (BEP 5, with BEP 32, 42, 43, 44 and 51)
//! node.
//!
//! Everything here is a deterministic state machine: time is passed in as
//! [`std::time::Instant`], randomness comes from a caller-supplied (seeded)
//! RNG, and nothing touches a socket or a clock. The tokio driver
//! (`swarmlab-dht-driver`), the tests and the simulator (`swarmlab-sim`) all run the
//! same [`Node`].
//!
//! | module | what |
//! |---|---|
//! | [`routing`] | the BEP 5 routing table: k-buckets, splitting, replacement cache, node states, one entry per IP, refresh, own-id change |
//! | [`bep42`] | BEP 42 node ids: derivation from the external IP and validation (crc32c) |
//! | [`bep44`] | BEP 44 items (immutable, mutable with ed25519 signatures) and the bounded, expiring item store |
//! | [`token`] | `announce_peer` tokens with a rotating secret |
//! | [`peer_store`] | info-hash → peers, with expiry and hard bounds |
//! | [`limits`] | per-IP and global rate limits with bounded memory |
//! | [`lookup`] | iterative find_node / get_peers / announce lookups with traces, and [`LookupResult::merge`] |
//! | [`node`] | the node: `handle(now, from, bytes)`, `poll_transmit()`, `poll_timeout()`, events out |
//! | [`estimate`] | the number of nodes in the network, from the distances of lookups' closest nodes |
//! | [`crawl`] | a BEP 51 crawl as pure scheduling, with its politeness rules |
//! | [`error`] | [`ConfigError`], [`LookupError`], [`ItemError`] |
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rand::{rngs::StdRng, SeedableRng};
//! use swarmlab_dht::routing::{InsertOutcome, RoutingTable};
//! use swarmlab_dht::token::TokenManager;
//! use swarmlab_dht::Id;
//!
//! let t0 = Instant::now(); // the driver's clock, read outside the core
//! let mut rng = StdRng::seed_from_u64(1);
//! let mut table = RoutingTable::new(t0, Id::random(&mut rng));
//! let mut tokens = TokenManager::new(t0, &mut rng);
//!
//! // A node queried us: it becomes an unverified candidate to ping.
//! let (id, addr) = (Id::random(&mut rng), "198.51.100.7:6881".parse().unwrap());
//! let out = table.on_query(t0, id, addr);
//! assert!(matches!(out, InsertOutcome::Added { ping: Some(_) }));
//! assert!(table.closest(t0, &id, 8).is_empty()); // not verified yet
//! table.on_response(t0 + Duration::from_secs(1), id, addr); // it answered our ping
//! assert_eq!(table.closest(t0, &id, 8)[0].id, id);
//!
//! let info_hash = Id::random(&mut rng);
//! let token = tokens.issue(t0, addr, &info_hash);
//! assert!(tokens.verify(t0 + Duration::from_secs(400), addr, &info_hash, token.as_bytes()));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bep42;
pub mod bep44;
pub mod crawl;
pub mod error;
pub mod estimate;
pub mod limits;
pub mod lookup;
pub mod node;
pub mod peer_store;
pub mod routing;
pub mod token;

pub use lookup::{LookupId, LookupKind, LookupResult};
pub use node::{Event, Node, NodeConfig, Stats, Transmit, MAX_DATAGRAM_IN};

pub use error::{ConfigError, ItemError, LookupError, MAX_CONFIG_DURATION};
pub use swarmlab_krpc::Id;
