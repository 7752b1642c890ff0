//! `swarmlab`: one binary, one subcommand per job.
//!
//! The binary is the only place with clap and printing. Each family of subcommands is
//! a module (`course`, `dht`, `audit`, `bt`, `sim`, `stream`), and each subcommand a file of its own holding
//! its clap arguments, the call into the library that does the work, and the printing
//! of what came back. [`output`] holds what the families share for printing.
#![allow(clippy::print_stdout, clippy::print_stderr)] // the binary is where printing lives

mod audit;
mod bt;
mod course;
mod dht;
mod output;
mod sim;
mod stream;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use swarmlab_course::Layout;

#[derive(Parser)]
#[command(
    name = "swarmlab",
    version,
    about = "A Mainline-DHT research node, the ELEC-H-417 course roles, and swarm tools"
)]
struct Cli {
    /// Root of the course layout (config/, files/, chunks/).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs Alice, Bob and the Tracker in-process on loopback and Charlie through
    /// steps 1, 2 and 3, then without the tracker through a DHT testnet (step 4) and
    /// PEX (step 5), on a random file; exits 0 only if every step passed.
    Demo(course::demo::DemoArgs),
    /// A peer (alice, bob, or any section of config/peers.ini): serves chunks/<name>/.
    Peer(course::peer::PeerArgs),
    /// The tracker: GET_FILE_INFO over TCP, DISCOVER_TRACKER over UDP.
    Tracker(course::tracker::TrackerArgs),
    /// Charlie, the client: step 1 (config files), 2 (tracker), 3 (broadcast), 4
    /// (trackerless: a file id, the DHT, metadata and PEX), or any chain (--discovery).
    Charlie(course::charlie::CharlieArgs),
    /// The course's chunk tools.
    #[command(subcommand)]
    Chunks(course::chunks::ChunksCmd),
    /// Runs a Mainline DHT node until Ctrl-C, printing periodic stats.
    Node(dht::node::NodeArgs),
    /// One iterative lookup (get_peers, find_node or announce) with its full trace.
    Lookup(dht::lookup::LookupArgs),
    /// N DHT nodes in this process, each on its own 127.x.y.z address.
    Testnet(dht::testnet::TestnetArgs),
    /// Stores a BEP 44 item in the DHT (immutable, or mutable with --key).
    Put(dht::put::PutArgs),
    /// Fetches a BEP 44 item from the DHT, checked against its target.
    Get(dht::get::GetArgs),
    /// Walks the DHT with BEP 51 sample_infohashes and lists the info-hashes found.
    Crawl(dht::crawl::CrawlArgs),
    /// Connects to every peer of a torrent (BEP 3/6/9/10/11) and records what each says.
    Audit(audit::AuditArgs),
    /// Downloads a whole torrent (.torrent, magnet link or info-hash) from its swarm.
    Fetch(Box<bt::fetch::FetchArgs>),
    /// Makes the torrent of a file or directory (or takes a .torrent) and seeds it.
    Seed(bt::seed::SeedArgs),
    /// Simulated DHT networks (up to a million nodes), experiments, CSV and plots.
    Sim(Box<sim::SimArgs>),
    /// Estimates the number of nodes of a live DHT from lookups.
    Estimate(dht::estimate::EstimateArgs),
    /// Live octet streams through a swarm: `stream send` (stdin in), `stream recv ID`
    /// (stdout out, serving other viewers).
    #[command(subcommand)]
    Stream(stream::StreamCmd),
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = match cli.command {
        Command::Peer(_) | Command::Tracker(_) | Command::Node(_) => "info",
        _ => "warn",
    };
    init_logging(default_log);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let layout = Layout::new(&cli.root);
    match cli.command {
        Command::Demo(a) => course::demo::run(a).await,
        Command::Peer(a) => course::peer::run(&layout, a).await,
        Command::Tracker(a) => course::tracker::run(&layout, a).await,
        Command::Charlie(a) => course::charlie::run(&layout, a).await,
        Command::Chunks(c) => course::chunks::run(&layout, c),
        Command::Node(a) => dht::node::run(a).await,
        Command::Lookup(a) => dht::lookup::run(a).await,
        Command::Testnet(a) => dht::testnet::run(a).await,
        Command::Put(a) => dht::put::run(a).await,
        Command::Get(a) => dht::get::run(a).await,
        Command::Crawl(a) => dht::crawl::run(a).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Fetch(a) => bt::fetch::run(*a).await,
        Command::Seed(a) => bt::seed::run(a).await,
        Command::Sim(a) => sim::run(*a).await,
        Command::Estimate(a) => dht::estimate::run(a).await,
        Command::Stream(c) => stream::run(c).await,
    }
}
