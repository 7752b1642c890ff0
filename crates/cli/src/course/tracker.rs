//! `swarmlab tracker`: GET_FILE_INFO over TCP, DISCOVER_TRACKER over UDP, and with
//! `--dht` the DHT's peers of the file merged into FILE_INFO.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_course::config::PeersIni;
use swarmlab_course::server::{self, ServerStats};
use swarmlab_course::tracker::{self, DhtOptions, DhtPeers, TrackerResponder, DISCOVERY_PORT};
use swarmlab_course::Layout;

use super::{limits, DhtArgs, ServerArgs};

/// Arguments of `swarmlab tracker`.
#[derive(Args)]
pub struct TrackerArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Name sent in TRACKER_INFO.
    #[arg(long, default_value = "tracker")]
    pub name: String,
    /// UDP port of discovery (bound on 0.0.0.0 with SO_REUSEADDR).
    #[arg(long, default_value_t = DISCOVERY_PORT)]
    pub discovery_port: u16,
    /// Do not answer discovery.
    #[arg(long)]
    pub no_discovery: bool,
    #[command(flatten)]
    pub dht: DhtArgs,
    /// With --dht: seconds between two DHT lookups of the file id.
    #[arg(long, default_value_t = 60, requires = "dht")]
    pub dht_refresh: u64,
    /// With --dht: also look up every chunk's id (one lookup per chunk per refresh).
    #[arg(long, requires = "dht")]
    pub dht_chunks: bool,
}

/// Runs `swarmlab tracker`.
pub async fn run(layout: &Layout, a: TrackerArgs) -> Result<ExitCode> {
    let peers = PeersIni::load(&layout.peers_ini())?;
    let info = tracker::tracker_info(&peers, &a.name)
        .with_context(|| format!("{} has no [tracker] section", layout.peers_ini().display()))?;
    let addr = a.server.bind.unwrap_or(SocketAddr::V4(info.addr));
    if !layout.file_ini().is_file() {
        tracing::warn!(
            "{} does not exist yet: GET_FILE_INFO is answered INVALID_REQUEST until it does",
            layout.file_ini().display()
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!(
        "tracker {:?} listening on {}",
        a.name,
        listener.local_addr()?
    );
    let stats = Arc::new(ServerStats::default());
    let (responder, refresh) = match a.dht.start(listener.local_addr()?).await? {
        Some(dht) => {
            println!(
                "tracker {:?}: DHT node {} on UDP {}, FILE_INFO augmented by the DHT (lookups every {} s{})",
                a.name,
                dht.id(),
                dht.local_addr(),
                a.dht_refresh.max(1),
                if a.dht_chunks { ", chunk ids too" } else { "" }
            );
            let peers = Arc::new(DhtPeers::default());
            let opts = DhtOptions {
                refresh: Duration::from_secs(a.dht_refresh.max(1)),
                chunks: a.dht_chunks,
                ..DhtOptions::default()
            };
            let task = tokio::spawn(tracker::dht::refresh(
                layout.clone(),
                Arc::new(dht),
                peers.clone(),
                opts,
            ));
            (
                TrackerResponder::with_dht(layout.clone(), peers),
                Some(task),
            )
        }
        None => (TrackerResponder::new(layout.clone()), None),
    };
    let tcp = server::serve(
        listener,
        Arc::new(responder),
        limits(&a.server),
        stats.clone(),
    );
    let udp = async {
        if a.no_discovery {
            return std::future::pending().await;
        }
        let bind = tracker::discovery_addr(a.discovery_port);
        let sock =
            tracker::bind_discovery(bind).with_context(|| format!("cannot bind UDP {bind}"))?;
        println!("tracker {:?} answering discovery on UDP {bind}", a.name);
        tracker::serve_discovery(sock, info, stats)
            .await
            .map_err(anyhow::Error::from)
    };
    tokio::select! {
        r = tcp => r?,
        r = udp => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    if let Some(t) = refresh {
        t.abort();
    }
    Ok(ExitCode::SUCCESS)
}
