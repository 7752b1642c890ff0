//! `swarmlab peer NAME`: Alice, Bob, or any section of peers.ini.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_course::layout::check_name;
use swarmlab_course::peer::PeerResponder;
use swarmlab_course::server::{self, ServerStats};
use swarmlab_course::Layout;

use super::{configured_addr, limits, ServerArgs};

/// Arguments of `swarmlab peer`.
#[derive(Args)]
pub struct PeerArgs {
    /// Section of config/peers.ini, and directory under chunks/.
    pub name: String,
    #[command(flatten)]
    pub server: ServerArgs,
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
    println!(
        "peer {name} listening on {} serving {}",
        listener.local_addr()?,
        dir.display()
    );
    let stats = Arc::new(ServerStats::default());
    let serve = server::serve(
        listener,
        Arc::new(PeerResponder::new(dir)),
        limits(&a.server),
        stats,
    );
    tokio::select! {
        r = serve => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}
