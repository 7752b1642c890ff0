//! `swarmlab audit` as a stand-alone program, for trying the auditor before the
//! `swarmlab` binary wires it in (no DHT node here: use trackers and --peer).
//!
//! ```text
//! cargo run -p swarmlab-audit --example audit_cli -- TARGET [--tracker URL] [--peer ADDR] [--json] ...
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)] // a program that reports on its terminal

use clap::Parser;
use swarmlab_audit::AuditArgs;

#[derive(Parser)]
#[command(name = "audit", about = "Audit a BitTorrent swarm peer by peer")]
struct Cli {
    #[command(flatten)]
    args: AuditArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match swarmlab_audit::run(cli.args, None).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
