//! `swarmlab stream send`: reads stdin, cuts it into signed pieces and gives them
//! to the swarm as they fill; prints the stream id and how to receive it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use ed25519_dalek::SigningKey;
use swarmlab_stream::{Bound, StreamId};

use super::{summary, CommonOpts};
use crate::dht::key;
use crate::output::emit;

/// Arguments of `swarmlab stream send`.
#[derive(Args)]
pub struct SendArgs {
    /// TCP address viewers connect to.
    #[arg(long, default_value = "0.0.0.0:6885")]
    pub listen: SocketAddr,
    /// Bytes per piece (1 to 1048576); a piece not full after --flush-ms goes anyway.
    #[arg(long, default_value_t = 16384)]
    pub piece_size: usize,
    /// Milliseconds a piece waits to fill before it is sent short.
    #[arg(long, default_value_t = 50)]
    pub flush_ms: u64,
    /// Viewers each new piece is pushed to (the others fetch it from them).
    #[arg(long, default_value_t = 2)]
    pub fanout: usize,
    /// The stream's ed25519 key (64 hex digits; created when missing): the same
    /// file gives the same stream id. Without it, a new key each run.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Options shared with `stream recv`.
    #[command(flatten)]
    pub common: CommonOpts,
}

/// Runs `swarmlab stream send`.
pub async fn run(a: SendArgs) -> Result<ExitCode> {
    let key = match &a.key {
        Some(path) => key::load_or_create(path)?.0,
        None => SigningKey::from_bytes(&rand::random()),
    };
    let id = StreamId::new(key.verifying_key());
    let mut cfg = a.common.config(a.listen).await?;
    cfg.node.piece_size = a.piece_size;
    cfg.node.flush_after = std::time::Duration::from_millis(a.flush_ms);
    cfg.node.fanout = a.fanout;
    let bound = Bound::bind(cfg).await?;
    let addr = bound.local_addr();
    emit(&format!(
        "stream {id}\nlistening on {addr}\nreceive with: swarmlab stream recv {id} --peer {addr}\n"
    ));
    let report = bound
        .send(key, tokio::io::stdin())
        .await
        .context("stream send")?;
    if a.common.json {
        emit(&format!("{}\n", serde_json::to_string(&report)?));
    } else {
        eprintln!("stream send: {}", summary(&report));
    }
    Ok(ExitCode::SUCCESS)
}
