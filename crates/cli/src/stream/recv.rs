//! `swarmlab stream recv ID`: writes the stream to stdout in order as its pieces
//! arrive (each checked against the source's signature), and serves them to the
//! other viewers.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_stream::{Bound, StreamId};

use super::{summary, CommonOpts};

/// Arguments of `swarmlab stream recv`.
#[derive(Args)]
pub struct RecvArgs {
    /// The stream id that `stream send` printed (64 hex digits).
    pub id: String,
    /// A peer of the swarm (the sender or another viewer), repeatable.
    #[arg(long, value_name = "ADDR")]
    pub peer: Vec<SocketAddr>,
    /// TCP address other viewers connect to.
    #[arg(long, default_value = "0.0.0.0:0")]
    pub listen: SocketAddr,
    /// Do not exchange peers (ut_pex): keep to --peer, the DHT and who dials us.
    #[arg(long)]
    pub no_pex: bool,
    /// Options shared with `stream send`.
    #[command(flatten)]
    pub common: CommonOpts,
}

/// Runs `swarmlab stream recv`.
pub async fn run(a: RecvArgs) -> Result<ExitCode> {
    let id: StreamId = a.id.parse().context("bad stream id")?;
    let mut cfg = a.common.config(a.listen).await?;
    cfg.peers = a.peer.clone();
    cfg.pex = !a.no_pex;
    let bound = Bound::bind(cfg).await?;
    tracing::info!("listening on {}", bound.local_addr());
    let report = bound
        .recv(id, tokio::io::stdout())
        .await
        .context("stream recv")?;
    if a.common.json {
        eprintln!("{}", serde_json::to_string(&report)?);
    } else {
        eprintln!("stream recv: {}", summary(&report));
    }
    Ok(ExitCode::SUCCESS)
}
