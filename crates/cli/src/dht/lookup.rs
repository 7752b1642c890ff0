//! `swarmlab lookup`: one iterative lookup with its full trace.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use swarmlab_dht::lookup::{LookupKind, LookupResult, Outcome};
use swarmlab_dht_driver::Dht;

use super::{parse_id, DhtOpts};
use crate::output::emit;

/// Arguments of `swarmlab lookup`.
#[derive(Args)]
pub struct LookupArgs {
    /// The info-hash (or node id with --find-node): 40 hex digits.
    pub hash: String,
    /// Options shared by the DHT commands.
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

/// Runs `swarmlab lookup`.
pub async fn run(a: LookupArgs) -> Result<ExitCode> {
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
    // The lookup starts from the table, or from the bootstrap nodes (the public routers
    // when none is given) once their names resolved: wait for the first node.
    dht.wait_for_nodes(1, Duration::from_secs(10)).await?;
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
