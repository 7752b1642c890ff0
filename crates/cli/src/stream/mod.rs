//! The live-stream family: `stream send` (`send.rs`) reads stdin and gives it to a
//! swarm; `stream recv` (`recv.rs`) writes a stream to stdout and serves it on.
//! This file holds the options both share and the DHT node they may start.

pub mod recv;
pub mod send;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use swarmlab_dht_driver::{Dht, DriverConfig};
use swarmlab_stream::{DriverConfig as StreamConfig, NodeConfig, Report};

/// `swarmlab stream …`
#[derive(Subcommand)]
pub enum StreamCmd {
    /// Reads stdin and streams it live through the swarm; prints the stream id.
    Send(send::SendArgs),
    /// Writes stream ID to stdout as it arrives, and serves it to other viewers.
    Recv(recv::RecvArgs),
}

/// Runs a `stream` subcommand.
pub async fn run(cmd: StreamCmd) -> Result<std::process::ExitCode> {
    match cmd {
        StreamCmd::Send(a) => send::run(a).await,
        StreamCmd::Recv(a) => recv::run(a).await,
    }
}

/// Options of both subcommands.
#[derive(Args, Clone)]
pub struct CommonOpts {
    /// DHT bootstrap node (host:port), repeatable: the swarm is announced and
    /// looked up in the DHT on the stream's info-hash. Without it, no DHT.
    #[arg(long = "dht-bootstrap", value_name = "HOST:PORT")]
    pub dht_bootstrap: Vec<String>,
    /// UDP address of our DHT node (with --dht-bootstrap).
    #[arg(long, default_value = "0.0.0.0:0")]
    pub dht_bind: SocketAddr,
    /// Pieces kept in memory (each at most the piece size); a viewer further behind
    /// skips.
    #[arg(long, default_value_t = 128)]
    pub window: usize,
    /// Connections kept at most.
    #[arg(long, default_value_t = 40)]
    pub max_peers: usize,
    /// Seconds to stay after the last piece for peers that do not have it yet.
    #[arg(long, default_value_t = 10.0)]
    pub linger: f64,
    /// Print the final report as one JSON line (on stdout for send, stderr for recv).
    #[arg(long)]
    pub json: bool,
}

impl CommonOpts {
    /// The driver configuration, listening on `listen`.
    pub async fn config(&self, listen: SocketAddr) -> Result<StreamConfig> {
        let mut cfg = StreamConfig::new(listen);
        cfg.max_peers = self.max_peers.max(1);
        cfg.node = NodeConfig {
            window: self.window.max(2),
            end_linger: Duration::from_secs_f64(self.linger.clamp(0.0, 3600.0)),
            ..NodeConfig::default()
        };
        if !self.dht_bootstrap.is_empty() {
            let mut d = DriverConfig::new(self.dht_bind);
            d.bootstrap = self.dht_bootstrap.clone();
            let dht = Dht::start(d).await?;
            dht.wait_for_nodes(1, Duration::from_secs(10)).await?;
            cfg.dht = Some(dht);
        }
        Ok(cfg)
    }
}

/// The end-of-run summary for humans.
pub fn summary(r: &Report) -> String {
    let n = &r.node;
    let h = &n.hostile;
    let hostile =
        h.malformed + h.bad_signature + h.wrong_data + h.absurd_number + h.repeated_request;
    format!(
        "{:.1} s, {} peers; pieces made {} received {} written {} ({} bytes) skipped {}; \
         uploaded {} pieces ({} bytes, {} pushed); wire {} bytes out, {} in; \
         {} hostile messages, {} peers dropped",
        r.seconds,
        r.peers,
        n.pieces_made,
        n.pieces_received,
        n.pieces_written,
        n.bytes_written,
        n.pieces_skipped,
        n.pieces_uploaded,
        n.piece_bytes_uploaded,
        n.pushes,
        r.wire_bytes_out,
        r.wire_bytes_in,
        hostile,
        r.hostile_peers,
    )
}
