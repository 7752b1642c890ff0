//! `swarmlab tracker`: GET_FILE_INFO over TCP, DISCOVER_TRACKER over UDP.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_course::config::PeersIni;
use swarmlab_course::server::{self, ServerStats};
use swarmlab_course::tracker::{self, TrackerResponder, DISCOVERY_PORT};
use swarmlab_course::Layout;

use super::{limits, ServerArgs};

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
    let tcp = server::serve(
        listener,
        Arc::new(TrackerResponder::new(layout.clone())),
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
    Ok(ExitCode::SUCCESS)
}
