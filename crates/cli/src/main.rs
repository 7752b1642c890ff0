//! `swarmlab`: one binary, one subcommand per job.

mod audit_cmd;
mod dht_cmds;

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use swarmlab_course::chunks::{self, parse_size, ChunkError, DEFAULT_CHUNK_SIZE};
use swarmlab_course::config::PeersIni;
use swarmlab_course::demo::{self, DemoOptions};
use swarmlab_course::layout::check_name;
use swarmlab_course::server::{self, ServerLimits, ServerStats};
use swarmlab_course::tracker::{self, DISCOVERY_PORT};
use swarmlab_course::{charlie, peer::PeerResponder, tracker::TrackerResponder, Layout};

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
    /// steps 1, 2 and 3 on a random file; exits 0 only if every step passed.
    Demo(DemoArgs),
    /// A peer (alice, bob, or any section of config/peers.ini): serves chunks/<name>/.
    Peer(PeerArgs),
    /// The tracker: GET_FILE_INFO over TCP, DISCOVER_TRACKER over UDP.
    Tracker(TrackerArgs),
    /// Charlie, the client: step 1 (config files), 2 (tracker), 3 (broadcast).
    Charlie(CharlieArgs),
    /// The course's chunk tools.
    #[command(subcommand)]
    Chunks(ChunksCmd),
    /// Runs a Mainline DHT node until Ctrl-C, printing periodic stats.
    Node(dht_cmds::NodeArgs),
    /// One iterative lookup (get_peers, find_node or announce) with its full trace.
    Lookup(dht_cmds::LookupArgs),
    /// N DHT nodes in this process, each on its own 127.x.y.z address.
    Testnet(dht_cmds::TestnetArgs),
    /// Connects to every peer of a torrent (BEP 3/6/9/10/11) and records what each says.
    Audit(swarmlab_audit::AuditArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// Size of the random file (B, KiB, MiB, GiB, KB, MB, GB).
    #[arg(long, default_value = "32MiB", value_parser = parse_size)]
    size: u64,
    /// Chunk size.
    #[arg(long, default_value = "512KiB", value_parser = parse_size)]
    chunk_size: u64,
    /// UDP port of tracker discovery.
    #[arg(long, default_value_t = DISCOVERY_PORT)]
    discovery_port: u16,
    /// Run in this directory (kept) instead of a temporary one.
    #[arg(long)]
    keep_in: Option<PathBuf>,
    /// Print a JSON report instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ServerArgs {
    /// Listen here instead of the address of config/peers.ini.
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Close a connection idle for this many seconds.
    #[arg(long, default_value_t = 120)]
    idle_timeout: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 4096)]
    max_conns: usize,
}

#[derive(Args)]
struct PeerArgs {
    /// Section of config/peers.ini, and directory under chunks/.
    name: String,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Args)]
struct TrackerArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Name sent in TRACKER_INFO.
    #[arg(long, default_value = "tracker")]
    name: String,
    /// UDP port of discovery (bound on 0.0.0.0 with SO_REUSEADDR).
    #[arg(long, default_value_t = DISCOVERY_PORT)]
    discovery_port: u16,
    /// Do not answer discovery.
    #[arg(long)]
    no_discovery: bool,
}

#[derive(Args)]
struct CharlieArgs {
    /// Step: 1, 2 or 3.
    step: Option<String>,
    /// Step 3: send DISCOVER_TRACKER to this address (repeatable). Default:
    /// 255.255.255.255 and every interface's broadcast address.
    #[arg(long = "broadcast", value_name = "ADDR")]
    broadcast: Vec<Ipv4Addr>,
    /// Step 3: UDP port of discovery.
    #[arg(long, default_value_t = DISCOVERY_PORT)]
    discovery_port: u16,
    /// Step 3: how long to collect TRACKER_INFO replies, in milliseconds.
    #[arg(long, default_value_t = 500)]
    discovery_wait_ms: u64,
    /// Step 3: try trackers of this name first.
    #[arg(long, default_value = "tracker")]
    tracker_name: String,
    /// Seconds allowed for one chunk's whole reply.
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ChunksCmd {
    /// Splits files/FILE into chunks/alice, chunks/bob and writes config/file.ini.
    Create {
        file: String,
        #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE as u64, value_parser = parse_size)]
        chunk_size: u64,
    },
    /// Builds chunks/charlie/<filename> from its chunks.
    Merge,
    /// Compares files/<filename> with chunks/charlie/<filename>.
    Check,
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
        Command::Demo(a) => run_demo(a).await,
        Command::Peer(a) => run_peer(&layout, a).await,
        Command::Tracker(a) => run_tracker(&layout, a).await,
        Command::Charlie(a) => run_charlie(&layout, a).await,
        Command::Chunks(c) => run_chunks(&layout, c),
        Command::Node(a) => dht_cmds::run_node(a).await,
        Command::Lookup(a) => dht_cmds::run_lookup(a).await,
        Command::Testnet(a) => dht_cmds::run_testnet(a).await,
        Command::Audit(a) => audit_cmd::run_audit(a).await,
    }
}

async fn run_demo(a: DemoArgs) -> Result<ExitCode> {
    let opts = DemoOptions {
        size: a.size,
        chunk_size: usize::try_from(a.chunk_size).context("chunk size")?,
        discovery_port: a.discovery_port,
        root: a.keep_in,
        progress: !a.json && std::io::stderr().is_terminal(),
        seed: rand_seed(),
    };
    if !a.json {
        println!(
            "swarmlab demo: {:.1} MiB random file, {} KiB chunks, Alice + Bob + Tracker on 127.0.0.1, discovery on UDP {} via 127.255.255.255",
            opts.size as f64 / (1 << 20) as f64,
            opts.chunk_size / 1024,
            opts.discovery_port
        );
    }
    let json = a.json;
    let report = demo::run(opts, |s| {
        if !json {
            println!("{}", s.line());
        }
    })
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let best = report
            .steps
            .iter()
            .map(|s| s.throughput_mb_s)
            .fold(0.0, f64::max);
        println!(
            "SHA-1 limit of one core: {:.0} MB/s; best step: {:.0} MB/s ({:.0}% of the limit)",
            report.sha1_limit_mb_s,
            best,
            100.0 * best / report.sha1_limit_mb_s
        );
        println!(
            "{}",
            if report.passed() {
                "all steps passed"
            } else {
                "FAILED"
            }
        );
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

fn limits(a: &ServerArgs) -> ServerLimits {
    ServerLimits {
        idle_timeout: Duration::from_secs(a.idle_timeout.max(1)),
        max_conns: a.max_conns.max(1),
        ..ServerLimits::default()
    }
}

fn configured_addr(layout: &Layout, section: &str, bind: Option<SocketAddr>) -> Result<SocketAddr> {
    if let Some(b) = bind {
        return Ok(b);
    }
    let peers = PeersIni::load(&layout.peers_ini())?;
    let a = peers.get(section).with_context(|| {
        format!(
            "{} has no section [{section}] (or pass --bind)",
            layout.peers_ini().display()
        )
    })?;
    Ok(SocketAddr::V4(a))
}

async fn run_peer(layout: &Layout, a: PeerArgs) -> Result<ExitCode> {
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

async fn run_tracker(layout: &Layout, a: TrackerArgs) -> Result<ExitCode> {
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

async fn run_charlie(layout: &Layout, a: CharlieArgs) -> Result<ExitCode> {
    let step = match a.step.as_deref() {
        None => {
            eprintln!("Error: missing step number");
            return Ok(ExitCode::FAILURE);
        }
        Some(s) => match s.parse::<u8>() {
            Ok(n @ 1..=3) => n,
            _ => {
                eprintln!("Error: invalid step number");
                return Ok(ExitCode::FAILURE);
            }
        },
    };
    let mut opts = charlie::CharlieOptions::new(layout.clone(), step);
    opts.broadcast = a.broadcast;
    opts.discovery_port = a.discovery_port;
    opts.discovery_wait = Duration::from_millis(a.discovery_wait_ms);
    opts.tracker_name = a.tracker_name;
    opts.engine.request_timeout = Duration::from_secs(a.request_timeout.max(1));
    opts.engine.progress = !a.json && std::io::stderr().is_terminal();
    let report = match charlie::run(&opts).await {
        Ok(r) => r,
        Err(e) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "step": step, "ok": false, "error": e.to_string() })
                );
                return Ok(ExitCode::FAILURE);
            }
            bail!("{e}");
        }
    };
    let ok = report.identical != Some(false);
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = ok.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for d in &report.discovery {
            println!("discovery {}: {}", d.source, d.detail);
        }
        let dl = &report.download;
        println!(
            "{}: {} bytes in {} chunks ({} fetched, {} already on disk), {:.3} s, {:.1} MB/s",
            report.filename,
            dl.bytes,
            dl.chunks,
            dl.fetched_chunks,
            dl.resumed_chunks,
            dl.elapsed_s,
            dl.throughput_mb_s
        );
        for p in &dl.peers {
            let fails: Vec<String> = p.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!(
                "  peer {}: {} chunks, {} bytes{}",
                p.addr,
                p.chunks,
                p.bytes,
                if fails.is_empty() {
                    String::new()
                } else {
                    format!(", failures: {}", fails.join(", "))
                }
            );
        }
        println!("Done: {}", report.output);
        match report.identical {
            Some(true) => println!("Files are identical"),
            Some(false) => println!("Files are NOT identical"),
            None => println!(
                "no files/{} to compare with (every chunk verified by SHA-1)",
                report.filename
            ),
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_chunks(layout: &Layout, c: ChunksCmd) -> Result<ExitCode> {
    match c {
        ChunksCmd::Create { file, chunk_size } => {
            let size = usize::try_from(chunk_size).unwrap_or(usize::MAX);
            match chunks::create(layout, &file, size) {
                Ok(_) => println!("Done"),
                Err(e @ ChunkError::NoSuchFile(_)) => {
                    println!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        ChunksCmd::Merge => match chunks::merge(layout) {
            Ok(_) => println!("Done"),
            Err(ChunkError::MissingChunks { .. }) => {
                println!("Missing chunks");
                return Ok(ExitCode::FAILURE);
            }
            Err(e) => return Err(e.into()),
        },
        ChunksCmd::Check => {
            if chunks::check(layout)? {
                println!("Files are identical");
            } else {
                println!("Files are NOT identical");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
