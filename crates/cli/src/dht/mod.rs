//! The DHT family: `node`, `lookup`, `testnet`, `estimate`.

pub mod estimate;
pub mod lookup;
pub mod node;
pub mod testnet;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_dht::limits::Limits;
use swarmlab_dht_driver::DriverConfig;
use swarmlab_krpc::Id;

/// Options every DHT command shares.
#[derive(Args, Clone)]
pub struct DhtOpts {
    /// UDP address to bind.
    #[arg(long, default_value = "0.0.0.0:6881")]
    pub bind: SocketAddr,
    /// Also run on this IPv6 address (e.g. [::]:6881): a second routing table (BEP 32),
    /// lookups over both families.
    #[arg(long)]
    pub bind6: Option<SocketAddr>,
    /// Bootstrap node (host:port), repeatable.
    #[arg(long = "bootstrap", value_name = "HOST:PORT")]
    pub bootstrap: Vec<String>,
    /// State file: node id and routing table, loaded at start and saved.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Requests a lookup keeps in flight.
    #[arg(long, default_value_t = 3)]
    pub alpha: usize,
    /// Switch off every rate limit (benchmarks).
    #[arg(long)]
    pub no_limits: bool,
    /// BEP 43 read-only node: others do not add us to their tables.
    #[arg(long)]
    pub read_only: bool,
    /// Seconds before an unanswered request fails.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
}

impl DhtOpts {
    /// The driver configuration these options describe.
    pub fn driver(&self) -> DriverConfig {
        let mut c = DriverConfig::new(self.bind);
        c.bind6 = self.bind6;
        c.bootstrap = self.bootstrap.clone();
        c.state_file = self.state.clone();
        c.node.alpha = self.alpha.max(1);
        c.node.read_only = self.read_only;
        c.node.request_timeout = Duration::from_secs_f64(self.timeout.clamp(0.05, 60.0));
        if self.no_limits {
            c.node.limits = Limits::unlimited();
        }
        c
    }
}

/// Parses a node id or info-hash given as 40 hex digits.
pub fn parse_id(s: &str) -> Result<Id> {
    Id::from_hex(s).with_context(|| format!("{s:?} is not 40 hex digits"))
}
