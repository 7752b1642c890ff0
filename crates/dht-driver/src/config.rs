//! How to run a node: its sockets, the node's own configuration, where it joins, its
//! state file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use swarmlab_dht::node::NodeConfig;

use crate::bootstrap::{Backoff, Resolver};

/// How to run a node.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// The UDP address of the (first) node.
    pub bind: SocketAddr,
    /// A second socket for the other address family (normally IPv6, e.g. `[::]:6881`):
    /// it runs a second node with the same id and its own routing table (BEP 32), and
    /// lookups run on both. The id follows the first node's: when its external address
    /// gives it a BEP 42 id, the second node takes the same id; each node answers
    /// `want` for the other family from the other's table.
    pub bind6: Option<SocketAddr>,
    /// The sans-IO node's configuration (the second node's seed is this one plus 1).
    pub node: NodeConfig,
    /// `host:port` names, resolved in a task of their own when the node starts (a
    /// name that fails is tried again with [`DriverConfig::resolve_backoff`]). Empty:
    /// no bootstrap (the CLI gives [`PUBLIC_ROUTERS`](crate::PUBLIC_ROUTERS) when the
    /// user gave neither bootstrap nor state).
    pub bootstrap: Vec<String>,
    /// How bootstrap names are resolved (the system's resolver by default).
    pub resolver: Resolver,
    /// The waits between two resolutions of a name that did not resolve.
    pub resolve_backoff: Backoff,
    /// Node id and routing table, loaded at start, saved periodically and on shutdown.
    pub state_file: Option<PathBuf>,
    /// Time between two saves of the state file.
    pub save_interval: Duration,
}

impl DriverConfig {
    /// A node on `bind` with a random seed, the default node configuration, no
    /// bootstrap, no state file, saves every minute.
    pub fn new(bind: SocketAddr) -> DriverConfig {
        DriverConfig {
            bind,
            bind6: None,
            node: NodeConfig {
                seed: rand::random(),
                ..NodeConfig::default()
            },
            bootstrap: Vec::new(),
            resolver: Resolver::system(),
            resolve_backoff: Backoff::default(),
            state_file: None,
            save_interval: Duration::from_secs(60),
        }
    }
}
