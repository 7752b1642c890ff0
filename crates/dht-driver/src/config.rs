//! How to run a node: its sockets, the node's own configuration, where it joins, its
//! state file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use swarmlab_dht::node::NodeConfig;

/// How to run a node.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// The UDP address of the (first) node.
    pub bind: SocketAddr,
    /// A second socket for the other address family (normally IPv6, e.g. `[::]:6881`):
    /// it runs a second node with the same id and its own routing table (BEP 32), and
    /// lookups run on both.
    pub bind6: Option<SocketAddr>,
    /// The sans-IO node's configuration (the second node's seed is this one plus 1).
    pub node: NodeConfig,
    /// `host:port` names, resolved when the node starts (and again while the table is
    /// empty and none resolved).
    pub bootstrap: Vec<String>,
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
            state_file: None,
            save_interval: Duration::from_secs(60),
        }
    }
}
