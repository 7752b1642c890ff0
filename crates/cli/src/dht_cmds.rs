//! `swarmlab node`, `swarmlab lookup`, `swarmlab testnet`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use swarmlab_dht::limits::Limits;
use swarmlab_dht::lookup::{LookupKind, LookupResult, Outcome};
use swarmlab_dht::node::NodeConfig;
use swarmlab_dht_driver::{Dht, DriverConfig, Snapshot};
use swarmlab_krpc::Id;

/// Options every DHT command shares.
#[derive(Args, Clone)]
pub struct DhtOpts {
    /// UDP address to bind.
    #[arg(long, default_value = "0.0.0.0:6881")]
    pub bind: SocketAddr,
    /// Also run on this IPv6 address (e.g. [::]:6881): a second routing table (BEP 32),
    /// lookups over both families.
    #[arg(long)]
    pub bind6: Option<SocketAddr>,
    /// Bootstrap node (host:port), repeatable.
    #[arg(long = "bootstrap", value_name = "HOST:PORT")]
    pub bootstrap: Vec<String>,
    /// State file: node id and routing table, loaded at start and saved.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Requests a lookup keeps in flight.
    #[arg(long, default_value_t = 3)]
    pub alpha: usize,
    /// Switch off every rate limit (benchmarks).
    #[arg(long)]
    pub no_limits: bool,
    /// BEP 43 read-only node: others do not add us to their tables.
    #[arg(long)]
    pub read_only: bool,
    /// Seconds before an unanswered request fails.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
}

impl DhtOpts {
    fn driver(&self) -> DriverConfig {
        let mut c = DriverConfig::new(self.bind);
        c.bind6 = self.bind6;
        c.bootstrap = self.bootstrap.clone();
        c.state_file = self.state.clone();
        c.node.alpha = self.alpha.max(1);
        c.node.read_only = self.read_only;
        c.node.request_timeout = Duration::from_secs_f64(self.timeout.clamp(0.05, 60.0));
        if self.no_limits {
            c.node.limits = Limits::unlimited();
        }
        c
    }
}

#[derive(Args)]
pub struct NodeArgs {
    #[command(flatten)]
    pub dht: DhtOpts,
    /// Seconds between two stats prints (0: never).
    #[arg(long, default_value_t = 30)]
    pub stats_interval: u64,
    /// Print stats as JSON lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LookupArgs {
    /// The info-hash (or node id with --find-node): 40 hex digits.
    pub hash: String,
    #[command(flatten)]
    pub dht: DhtOpts,
    /// Announce ourselves as a peer on this TCP port (0: implied port).
    #[arg(long)]
    pub announce: Option<u16>,
    /// find_node instead of get_peers.
    #[arg(long, conflicts_with = "announce")]
    pub find_node: bool,
    /// Print the trace and summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TestnetArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 100)]
    pub nodes: usize,
    /// Address of node 0; node i gets this address + i (each node its own IP).
    #[arg(long, default_value = "127.10.0.1")]
    pub first: Ipv4Addr,
    #[arg(long, default_value_t = 6881)]
    pub port: u16,
    /// Keep the default rate limits (off by default in a testnet: every node is local).
    #[arg(long)]
    pub limits: bool,
    /// Write the nodes' addresses here, one per line.
    #[arg(long)]
    pub addrs_file: Option<PathBuf>,
}

fn parse_id(s: &str) -> Result<Id> {
    Id::from_hex(s).with_context(|| format!("{s:?} is not 40 hex digits"))
}

fn print_snapshot(s: &Snapshot, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    print_stack(s);
    if let Some(second) = &s.second {
        print_stack(second);
    }
}

fn print_stack(s: &Snapshot) {
    let st = &s.stats;
    let buckets: Vec<String> = s
        .buckets
        .iter()
        .filter(|b| b.1 > 0)
        .map(|b| format!("{}:{}", b.0, b.1))
        .collect();
    println!(
        "[{:>6.0}s] {} table {} nodes ({} good, {} cached) buckets {} | in: ping {} find_node {} get_peers {} announce {} | out: {} queries, {} replies, {} errors | {} timeouts | limited {} blocked {} capped {} | peers stored {} in {} swarms",
        s.uptime_s,
        if s.addr.is_ipv6() { "v6" } else { "v4" },
        s.table_nodes,
        s.table_good,
        s.cached,
        buckets.join(" "),
        st.queries_in.ping,
        st.queries_in.find_node,
        st.queries_in.get_peers,
        st.queries_in.announce_peer,
        st.queries_out.total(),
        st.replies_sent,
        st.errors_sent,
        st.timeouts,
        st.rate_limited,
        st.blocked,
        st.replies_capped,
        s.peers_stored,
        s.info_hashes_stored,
    );
}

pub async fn run_node(a: NodeArgs) -> Result<ExitCode> {
    let dht = Dht::start(a.dht.driver()).await?;
    println!("node {} listening on UDP {}", dht.id(), dht.local_addr());
    if let Some(second) = dht.snapshot().await?.second {
        println!("node {} listening on UDP {}", dht.id(), second.addr);
    }
    let mut every = (a.stats_interval > 0)
        .then(|| tokio::time::interval(Duration::from_secs(a.stats_interval)));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = async { match every.as_mut() { Some(i) => { i.tick().await; } None => std::future::pending::<()>().await } } => {
                print_snapshot(&dht.snapshot().await?, a.json);
            }
        }
    }
    print_snapshot(&dht.snapshot().await?, a.json);
    dht.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn run_lookup(a: LookupArgs) -> Result<ExitCode> {
    let target = parse_id(&a.hash)?;
    let mut cfg = a.dht.driver();
    // A one-shot client: BEP 43 read-only, so that nobody keeps it in a routing table
    // after it has gone.
    cfg.node.read_only = true;
    if a.dht.bind.port() == 6881 {
        // A one-shot lookup should not need the standard port free.
        cfg.bind.set_port(0);
    }
    let dht = Dht::start(cfg).await?;
    if a.dht.bootstrap.is_empty() && a.dht.state.is_none() {
        anyhow::bail!("nothing to start from: give --bootstrap HOST:PORT or --state FILE");
    }
    // Give the bootstrap a moment to resolve; the lookup itself starts from the
    // bootstrap nodes when the table is still empty.
    dht.wait_for_nodes(1, Duration::from_millis(200)).await?;
    let kind = match (a.announce, a.find_node) {
        (Some(0), _) => LookupKind::Announce { port: None },
        (Some(p), _) => LookupKind::Announce { port: Some(p) },
        (None, true) => LookupKind::FindNode,
        (None, false) => LookupKind::GetPeers,
    };
    let r = dht.lookup(kind, target).await?;
    dht.shutdown().await;
    if a.json {
        emit(&(serde_json::to_string_pretty(&r)? + "\n"));
    } else {
        print_trace(&r);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_trace(r: &LookupResult) {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:>3} {:>8} {:<22} {:>4} {:<14} {:>9}  result",
        "hop", "sent ms", "node", "dist", "method", "rtt ms"
    );
    for t in &r.trace {
        let outcome = match &t.outcome {
            Outcome::Answered => format!(
                "{} nodes, {} peers{}",
                t.nodes,
                t.values,
                if t.token { ", token" } else { "" }
            ),
            Outcome::TimedOut => "timeout".into(),
            Outcome::Error { code, message } => format!("error {code} {message}"),
            Outcome::Pending => "pending".into(),
            Outcome::Abandoned => "abandoned".into(),
        };
        let _ = writeln!(
            o,
            "{:>3} {:>8.1} {:<22} {:>4} {:<14} {:>9}  {}",
            t.hop,
            t.sent_ms,
            t.node.to_string(),
            t.distance_bits
                .map(|d| d.to_string())
                .unwrap_or_else(|| "?".into()),
            t.method,
            t.rtt_ms.map(|x| format!("{x:.2}")).unwrap_or_default(),
            outcome
        );
    }
    let _ = writeln!(
        o,
        "{:?} {}: {} messages, {} answered, {} timeouts, {} hops, {:.1} ms; {} peers{}",
        r.kind,
        r.target,
        r.messages,
        r.responses,
        r.timeouts,
        r.hops,
        r.elapsed_ms,
        r.peers.len(),
        if matches!(r.kind, LookupKind::Announce { .. }) {
            format!(", announced to {} nodes", r.announced)
        } else {
            String::new()
        }
    );
    let _ = writeln!(o, "closest:");
    for (id, addr) in &r.closest {
        let _ = writeln!(
            o,
            "  {id} {addr} (distance {} bits)",
            id.distance_bits(&r.target)
        );
    }
    for p in r.peers.iter().take(50) {
        let _ = writeln!(o, "peer {p}");
    }
    emit(&o);
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
fn emit(s: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(s.as_bytes());
}

pub async fn run_testnet(a: TestnetArgs) -> Result<ExitCode> {
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
