//! The course family: `demo`, `peer`, `tracker`, `charlie`, `chunks`.

pub mod charlie;
pub mod chunks;
pub mod demo;
pub mod peer;
pub mod progress;
pub mod tracker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_course::config::PeersIni;
use swarmlab_course::server::ServerLimits;
use swarmlab_course::Layout;
use swarmlab_dht_driver::{Dht, DriverConfig};

/// Options of both course servers (peers and trackers).
#[derive(Args)]
pub struct ServerArgs {
    /// Listen here instead of the address of config/peers.ini.
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// Close a connection idle for this many seconds.
    #[arg(long, default_value_t = 120)]
    pub idle_timeout: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 4096)]
    pub max_conns: usize,
}

/// The limits these options set.
pub fn limits(a: &ServerArgs) -> ServerLimits {
    ServerLimits {
        idle_timeout: Duration::from_secs(a.idle_timeout.max(1)),
        max_conns: a.max_conns.max(1),
        ..ServerLimits::default()
    }
}

/// `bind`, or the address of `[section]` in config/peers.ini.
pub fn configured_addr(
    layout: &Layout,
    section: &str,
    bind: Option<SocketAddr>,
) -> Result<SocketAddr> {
    if let Some(b) = bind {
        return Ok(b);
    }
    let peers = PeersIni::load(&layout.peers_ini())?;
    let a = peers.get(section).with_context(|| {
        format!(
            "{} has no section [{section}] (or pass --bind)",
            layout.peers_ini().display()
        )
    })?;
    Ok(SocketAddr::V4(a))
}

/// The DHT node of a peer or a tracker.
#[derive(Args)]
pub struct DhtArgs {
    /// Run a DHT node (BEP 5) in this process.
    #[arg(long)]
    pub dht: bool,
    /// UDP address of the DHT node (default: the TCP address's IP and port).
    #[arg(long, value_name = "ADDR", requires = "dht")]
    pub dht_bind: Option<SocketAddr>,
    /// Bootstrap node of the DHT (host:port), repeatable.
    #[arg(long, value_name = "HOST:PORT", requires = "dht")]
    pub dht_bootstrap: Vec<String>,
    /// State file of the DHT node: its id and routing table, loaded and saved.
    #[arg(long, value_name = "FILE", requires = "dht")]
    pub dht_state: Option<PathBuf>,
}

impl DhtArgs {
    /// Starts the node when `--dht` is given, on `--dht-bind` or else on `tcp`'s
    /// address (UDP and TCP share the number, as BitTorrent clients do).
    pub async fn start(&self, tcp: SocketAddr) -> Result<Option<Dht>> {
        if !self.dht {
            return Ok(None);
        }
        let mut cfg = DriverConfig::new(self.dht_bind.unwrap_or(tcp));
        cfg.bootstrap = self.dht_bootstrap.clone();
        cfg.state_file = self.dht_state.clone();
        let dht = Dht::start(cfg).await?;
        Ok(Some(dht))
    }
}
