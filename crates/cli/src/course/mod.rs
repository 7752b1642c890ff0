//! The course family: `demo`, `peer`, `tracker`, `charlie`, `chunks`.

pub mod charlie;
pub mod chunks;
pub mod demo;
pub mod peer;
pub mod progress;
pub mod tracker;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_course::config::PeersIni;
use swarmlab_course::server::ServerLimits;
use swarmlab_course::Layout;

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
