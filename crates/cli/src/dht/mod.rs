//! The DHT family: `node`, `lookup`, `testnet`, `estimate`, `put` and `get` (BEP 44),
//! `crawl` (BEP 51); `key.rs` holds the ed25519 key file of `put`.

pub mod crawl;
pub mod estimate;
pub mod get;
pub mod key;
pub mod lookup;
pub mod node;
pub mod put;
pub mod testnet;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use swarmlab_dht::limits::Limits;
use swarmlab_dht::routing::Bep42Policy;
use swarmlab_dht_driver::{DriverConfig, State, PUBLIC_ROUTERS};
use swarmlab_krpc::Id;

/// What BEP 42 ids count for in the routing table (`--enforce-bep42`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Bep42Mode {
    /// Ids are not checked.
    Off,
    /// Secure ids replace insecure ones in full buckets (libtorrent's behaviour).
    Prefer,
    /// Insecure ids are refused (libtorrent's `dht_enforce_node_id`).
    Require,
}

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
    /// Bootstrap node (host:port), repeatable. With none and no saved table in --state,
    /// the public routers (router.bittorrent.com:6881, router.utorrent.com:6881,
    /// dht.transmissionbt.com:6881, dht.libtorrent.org:25401): the real DHT.
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
    /// BEP 42 node ids in the routing table: `prefer` (the default) lets a node whose
    /// id fits its IP replace one whose id does not in a full bucket; `require` (the
    /// flag alone) refuses ids that do not fit; `off` ignores them.
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        default_value = "prefer",
        num_args = 0..=1,
        default_missing_value = "require"
    )]
    pub enforce_bep42: Bep42Mode,
}

impl DhtOpts {
    /// The driver configuration these options describe.
    pub fn driver(&self) -> DriverConfig {
        let mut c = DriverConfig::new(self.bind);
        c.bind6 = self.bind6;
        c.bootstrap = self.bootstrap_names();
        c.state_file = self.state.clone();
        c.node.routing.bep42 = match self.enforce_bep42 {
            Bep42Mode::Off => Bep42Policy::Off,
            Bep42Mode::Prefer => Bep42Policy::Prefer,
            Bep42Mode::Require => Bep42Policy::Require,
        };
        c.node.alpha = self.alpha.max(1);
        c.node.read_only = self.read_only;
        c.node.request_timeout = Duration::from_secs_f64(self.timeout.clamp(0.05, 60.0));
        if self.no_limits {
            c.node.limits = Limits::unlimited();
        }
        c
    }

    /// The bootstrap names: those given, or the public routers when none is given and
    /// the state file holds no node to start from.
    pub fn bootstrap_names(&self) -> Vec<String> {
        if !self.bootstrap.is_empty() {
            return self.bootstrap.clone();
        }
        let saved = self
            .state
            .as_deref()
            .and_then(|p| State::load(p).ok().flatten())
            .is_some_and(|s| !s.nodes.is_empty());
        if saved {
            Vec::new()
        } else {
            PUBLIC_ROUTERS.iter().map(|r| r.to_string()).collect()
        }
    }
}

/// Parses a duration: a number of seconds, or a number followed by `s`, `m` or `h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (30s, 10m, 2h)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: the unit is s, m or h")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("{s:?} is not a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a node id or info-hash given as 40 hex digits.
pub fn parse_id(s: &str) -> Result<Id> {
    Id::from_hex(s).with_context(|| format!("{s:?} is not 40 hex digits"))
}
