//! `swarmlab testnet`: N DHT nodes in this process, each on its own loopback address.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_dht::limits::Limits;
use swarmlab_dht::node::NodeConfig;

/// Arguments of `swarmlab testnet`.
#[derive(Args)]
pub struct TestnetArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 100)]
    pub nodes: usize,
    /// Address of node 0; node i gets this address + i (each node its own IP).
    #[arg(long, default_value = "127.10.0.1")]
    pub first: Ipv4Addr,
    /// UDP port of every node.
    #[arg(long, default_value_t = 6881)]
    pub port: u16,
    /// Keep the default rate limits (off by default in a testnet: every node is local).
    #[arg(long)]
    pub limits: bool,
    /// Write the nodes' addresses here, one per line.
    #[arg(long)]
    pub addrs_file: Option<PathBuf>,
}

/// Runs `swarmlab testnet`.
pub async fn run(a: TestnetArgs) -> Result<ExitCode> {
    let cfg = NodeConfig {
        limits: if a.limits {
            Limits::default()
        } else {
            Limits::unlimited()
        },
        ..NodeConfig::default()
    };
    let nodes = swarmlab_dht_driver::testnet(a.nodes.max(1), a.first, a.port, cfg).await?;
    let addrs: Vec<String> = nodes.iter().map(|n| n.local_addr().to_string()).collect();
    if let Some(f) = &a.addrs_file {
        std::fs::write(f, addrs.join("\n") + "\n")
            .with_context(|| format!("cannot write {}", f.display()))?;
    }
    for (n, addr) in nodes.iter().zip(&addrs) {
        println!("{addr} {}", n.id());
    }
    println!(
        "testnet: {} nodes, bootstrap via {}; Ctrl-C to stop",
        nodes.len(),
        addrs[0]
    );
    tokio::signal::ctrl_c().await?;
    for n in &nodes {
        n.shutdown().await;
    }
    Ok(ExitCode::SUCCESS)
}
