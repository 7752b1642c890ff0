//! The command line of `swarmlab audit`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use swarmlab_audit::AuditConfig;

/// `swarmlab audit TARGET [options]`: connect to every peer of a swarm and record what each says.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// A .torrent file, a magnet link, or a bare 40-hex info-hash.
    #[arg(value_name = "TARGET")]
    pub target: String,

    /// Print the report as JSON on stdout (one JSON document per round with --watch).
    #[arg(long)]
    pub json: bool,

    /// Write per-peer records as CSV to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<String>,

    /// Repeat the audit every SECONDS and report churn between rounds.
    #[arg(long, value_name = "SECONDS")]
    pub watch: Option<u64>,

    /// With --watch, stop after this many rounds (0 = until interrupted).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub rounds: u32,

    /// Most peer connections open at once.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub max_conns: usize,

    /// TCP connect timeout, seconds (fractions allowed).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub connect_timeout: f64,

    /// Most time spent with one peer, seconds, handshake to goodbye.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub peer_budget: f64,

    /// How long to stay connected after a peer's handshake, extension handshake and
    /// bitfield, to watch have messages and PEX, seconds (within --peer-budget).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub linger: f64,

    /// Download and verify up to N pieces from each peer that unchokes us.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub probe_pieces: usize,

    /// Extra tracker URL (http://, https:// or udp://); repeatable.
    #[arg(long = "tracker", value_name = "URL")]
    pub trackers: Vec<String>,

    /// Extra peer given by hand (IP:PORT); repeatable.
    #[arg(long = "peer", value_name = "ADDR")]
    pub peers: Vec<SocketAddr>,

    /// Do not ask the DHT for peers.
    #[arg(long)]
    pub no_dht: bool,

    /// DHT bootstrap node (HOST:PORT) for the node the audit starts; repeatable.
    #[arg(long = "dht-bootstrap", value_name = "HOST:PORT")]
    pub dht_bootstrap: Vec<String>,

    /// DHT state file to load the routing table from, for the node the audit starts.
    #[arg(long, value_name = "FILE")]
    pub dht_state: Option<PathBuf>,

    /// Do not connect to peers learned through PEX (they are still recorded).
    #[arg(long)]
    pub no_pex: bool,

    /// Most distinct peer addresses audited per round.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub max_peers: usize,

    /// Timeout of one HTTP tracker request and of the DHT lookup, seconds.
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    pub tracker_timeout: f64,

    /// UDP tracker base timeout (BEP 15 waits 15·2^n seconds for try n), seconds.
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    pub udp_timeout: f64,

    /// UDP tracker retries after the first try (BEP 15 allows up to 8).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub udp_retries: u32,

    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Seconds from the command line: negative, NaN and infinite values become 0, and
/// nothing is longer than a day.
fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 {
        s.min(86_400.0)
    } else {
        0.0
    })
}

impl AuditArgs {
    /// The round settings these arguments describe.
    pub fn config(&self) -> AuditConfig {
        AuditConfig {
            max_conns: self.max_conns.max(1),
            connect_timeout: secs(self.connect_timeout),
            peer_budget: secs(self.peer_budget),
            linger: secs(self.linger),
            probe_pieces: self.probe_pieces,
            follow_pex: !self.no_pex,
            max_peers: self.max_peers.max(1),
            tracker_timeout: secs(self.tracker_timeout),
            udp_base_timeout: secs(self.udp_timeout),
            udp_retries: self.udp_retries.min(8),
            use_dht: !self.no_dht,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: AuditArgs,
    }

    #[test]
    fn flags_parse_into_the_config() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "audit",
            "c12fe1c06bba254a9dc9f519b335aa7c1367a88a",
            "--json",
            "--csv",
            "-",
            "--watch",
            "60",
            "--rounds",
            "3",
            "--max-conns",
            "10",
            "--connect-timeout",
            "0.5",
            "--peer-budget",
            "7",
            "--linger",
            "1.5",
            "--probe-pieces",
            "2",
            "--tracker",
            "udp://127.0.0.1:1/announce",
            "--tracker",
            "http://127.0.0.1:2/announce",
            "--peer",
            "127.0.0.2:6881",
            "--no-dht",
            "--dht-bootstrap",
            "127.0.0.1:6881",
            "--dht-state",
            "dht.state",
            "--udp-timeout",
            "0.1",
            "--udp-retries",
            "20",
        ])
        .unwrap();
        let a = cli.args;
        assert!(a.json && a.no_dht);
        assert_eq!(a.csv.as_deref(), Some("-"));
        assert_eq!((a.watch, a.rounds), (Some(60), 3));
        assert_eq!(a.trackers.len(), 2);
        assert_eq!(
            a.peers,
            vec!["127.0.0.2:6881".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(a.dht_bootstrap, vec!["127.0.0.1:6881"]);
        assert_eq!(a.dht_state, Some(PathBuf::from("dht.state")));
        let c = a.config();
        assert_eq!(c.max_conns, 10);
        assert_eq!(c.connect_timeout, Duration::from_millis(500));
        assert_eq!(c.peer_budget, Duration::from_secs(7));
        assert_eq!(c.linger, Duration::from_millis(1500));
        assert_eq!(c.probe_pieces, 2);
        assert_eq!(c.udp_base_timeout, Duration::from_millis(100));
        assert_eq!(c.udp_retries, 8, "BEP 15 stops at n = 8");
        assert!(!c.use_dht);
        assert!(Cli::try_parse_from(["audit"]).is_err());
        assert!(Cli::try_parse_from(["audit", "x", "--peer", "nope"]).is_err());
    }

    /// The command line's defaults are the library's.
    #[test]
    fn defaults_are_the_library_defaults() {
        let d = Cli::try_parse_from(["audit", "x"]).unwrap().args.config();
        let l = AuditConfig::default();
        assert_eq!(format!("{d:?}"), format!("{l:?}"));
        assert_eq!(secs(-1.0), Duration::ZERO);
        assert_eq!(secs(f64::NAN), Duration::ZERO);
        assert_eq!(secs(1e12), Duration::from_secs(86_400));
    }
}
