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
    let reach = reachable(addr);
    emit(&format!(
        "stream {id}\nlistening on {addr}\nreceive with: swarmlab stream recv {id} --peer {reach}\n"
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

/// An address a receiver can dial for `listen`: itself, or for a wildcard the first
/// IPv4 address of an interface that is not loopback (loopback when there is none).
fn reachable(listen: SocketAddr) -> SocketAddr {
    if !listen.ip().is_unspecified() {
        return listen;
    }
    let v4: Vec<std::net::Ipv4Addr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| match i.addr {
            if_addrs::IfAddr::V4(a) => Some(a.ip),
            if_addrs::IfAddr::V6(_) => None,
        })
        .collect();
    let ip = v4
        .iter()
        .find(|ip| !ip.is_loopback())
        .copied()
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST);
    SocketAddr::new(ip.into(), listen.port())
}

#[cfg(test)]
mod tests {
    use super::reachable;
    use std::net::SocketAddr;

    #[test]
    fn a_wildcard_listen_address_is_printed_as_one_that_can_be_dialled() {
        let given: SocketAddr = "127.9.0.1:6885".parse().unwrap();
        assert_eq!(reachable(given), given);
        let any: SocketAddr = "0.0.0.0:6885".parse().unwrap();
        let r = reachable(any);
        assert!(!r.ip().is_unspecified(), "{r}");
        assert_eq!(r.port(), 6885);
    }
}
