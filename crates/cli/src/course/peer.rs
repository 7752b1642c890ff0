//! `swarmlab peer NAME`: Alice, Bob, or any section of peers.ini, over the course
//! protocol and BitTorrent on one port, optionally announced on the DHT.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_bt::server::{random_peer_id, ServerConfig};
use swarmlab_course::announce::AnnounceConfig;
use swarmlab_course::layout::check_name;
use swarmlab_course::peer::{self, PeerOptions};
use swarmlab_course::Layout;

use super::{configured_addr, limits, DhtArgs, ServerArgs};

/// Arguments of `swarmlab peer`.
#[derive(Args)]
pub struct PeerArgs {
    /// Section of config/peers.ini, and directory under chunks/.
    pub name: String,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Serve the course protocol only (BitTorrent handshakes go to the course
    /// protocol, which answers them INVALID_MESSAGE_FORMAT).
    #[arg(long)]
    pub no_bittorrent: bool,
    /// BitTorrent connections served at once.
    #[arg(long, default_value_t = 200)]
    pub bt_max_peers: usize,
    /// BitTorrent upload slots (interested peers unchoked at once; the others take
    /// turns every 30 s).
    #[arg(long, default_value_t = 16)]
    pub bt_unchoke_slots: usize,
    /// Milliseconds between two looks at chunks/NAME/ and the configuration files.
    #[arg(long, default_value_t = 1000)]
    pub rescan_ms: u64,
    #[command(flatten)]
    pub dht: DhtArgs,
    /// With --dht: also announce the hash of every chunk held.
    #[arg(long, requires = "dht")]
    pub announce_chunks: bool,
    /// With --dht: seconds between two announces of a key.
    #[arg(long, default_value_t = 900, requires = "dht")]
    pub announce_interval: u64,
}

/// Runs `swarmlab peer`.
pub async fn run(layout: &Layout, a: PeerArgs) -> Result<ExitCode> {
    let name = check_name(&a.name)?.to_owned();
    let addr = configured_addr(layout, &name, a.server.bind)?;
    let dir = layout.chunk_dir(&name);
    if !dir.is_dir() {
        tracing::warn!(
            "{} does not exist yet: every request is CHUNK_NOT_FOUND until it does",
            dir.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let mut opts = PeerOptions::new();
    opts.limits = limits(&a.server);
    opts.rescan = Duration::from_millis(a.rescan_ms.max(10));
    opts.bittorrent = (!a.no_bittorrent).then(|| {
        let mut c = ServerConfig::new(random_peer_id());
        c.max_connections = a.bt_max_peers.max(1);
        c.unchoke_slots = a.bt_unchoke_slots.max(1);
        c
    });
    let mut running = peer::start(layout, &name, listener, opts).await?;
    let protocols = if a.no_bittorrent {
        "the course protocol"
    } else {
        "the course protocol and BitTorrent"
    };
    println!(
        "peer {name} listening on {} serving {} over {protocols}",
        running.addr,
        dir.display()
    );
    if let Some(t) = &running.state().borrow().torrent {
        println!("file id {} ({})", t.file_id(), t.filename());
    }
    if let Some(dht) = a.dht.start(running.addr).await? {
        let udp = dht.local_addr();
        let mut cfg = AnnounceConfig::new(running.addr.port());
        cfg.interval = Duration::from_secs(a.announce_interval.max(1));
        let what = if a.announce_chunks {
            "the file id and every chunk held"
        } else {
            "the file id"
        };
        println!(
            "DHT node {} on UDP {udp}: announcing {what} on TCP port {} every {} s",
            dht.id(),
            cfg.port,
            cfg.interval.as_secs()
        );
        let dht = Arc::new(dht);
        running.announce(dht.clone(), Some(udp.port()), cfg, a.announce_chunks);
        tokio::signal::ctrl_c().await?;
        drop(running);
        dht.shutdown().await;
    } else {
        tokio::signal::ctrl_c().await?;
    }
    Ok(ExitCode::SUCCESS)
}
