//! `swarmlab-dht-bench`: a KRPC load generator for one DHT node on loopback.
//!
//! ```text
//! swarmlab-dht-bench load 127.65.0.1:6881 --secs 5 --sockets 4 --window 32 \
//!     --mix ping,find_node,get_peers [--from 127.70.0.1] [--fill 240 --fill-from 127.71.0.1 --id HEX]
//! ```
//!
//! With `--fill N` it first introduces N fake nodes (ids spread over the distance
//! classes of `--id`, the node's id) so that the node's table is full while it is
//! measured. The side-by-side comparison with the `mainline` crate is the bench
//! target: `cargo bench -p swarmlab-dht-bench --bench compare`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use swarmlab_dht_bench::{ids_by_distance, ip_range, run_load, Fillers, Kind, LoadConfig};

#[derive(Parser)]
#[command(
    name = "swarmlab-dht-bench",
    about = "Load generator for a DHT node on loopback"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Keep a window of queries outstanding against a node and measure its answers.
    Load {
        /// The node (a 127.x.y.z address).
        target: SocketAddr,
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Sockets (each on its own address and thread).
        #[arg(long, default_value_t = 4)]
        sockets: usize,
        /// Queries outstanding per socket.
        #[arg(long, default_value_t = 32)]
        window: usize,
        /// Query kinds sent in turn.
        #[arg(long, default_value = "ping,find_node,get_peers")]
        mix: String,
        /// Address of the first socket; the others count up.
        #[arg(long, default_value = "127.70.0.1")]
        from: Ipv4Addr,
        /// Send BEP 43 `ro: 1` (the node does not add the generator to its table).
        #[arg(long)]
        read_only: bool,
        /// First introduce this many fake nodes to fill the node's table.
        #[arg(long, default_value_t = 0)]
        fill: usize,
        /// Address of the first fake node.
        #[arg(long, default_value = "127.71.0.1")]
        fill_from: Ipv4Addr,
        /// The node's id (40 hex digits), to spread the fake nodes' ids around it.
        #[arg(long)]
        id: Option<String>,
        /// Fake nodes per distance class (8 fills a BEP 5 bucket, 20 a `mainline` one).
        #[arg(long, default_value_t = 8)]
        per_class: usize,
    },
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Load {
            target,
            secs,
            sockets,
            window,
            mix,
            from,
            read_only,
            fill,
            fill_from,
            id,
            per_class,
        } => {
            if !target.ip().is_loopback() || !from.is_loopback() || !fill_from.is_loopback() {
                bail!("this generator only sends to and from 127.0.0.0/8");
            }
            let mix = mix
                .split(',')
                .map(|k| Kind::parse(k.trim()).with_context(|| format!("unknown query {k:?}")))
                .collect::<Result<Vec<_>>>()?;
            let _fillers = if fill > 0 {
                let id = id.context("--fill needs the node's --id")?;
                let id = swarmlab_krpc::Id::from_hex(&id).context("--id: 40 hex digits")?;
                let per = per_class.max(1);
                let ids = ids_by_distance(&id.0, fill.div_ceil(per), per, &mut rand::thread_rng());
                let f = Fillers::start(fill_from, 0, ids)?;
                f.introduce(target)?;
                std::thread::sleep(Duration::from_secs(1));
                Some(f)
            } else {
                None
            };
            let mut cfg = LoadConfig::new(target, ip_range(from, sockets.max(1)));
            cfg.window = window.max(1);
            cfg.duration = Duration::from_secs_f64(secs.max(0.1));
            cfg.mix = mix;
            cfg.read_only = read_only;
            let r = run_load(&cfg)?;
            println!("{target}: {}", r.summary());
            for k in Kind::ALL {
                if cfg.mix.contains(&k) {
                    println!("  {:<10} {:>9.0}/s", k.name(), r.qps_of(k));
                }
            }
            Ok(())
        }
    }
}
