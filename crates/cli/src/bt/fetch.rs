//! `swarmlab fetch TARGET`: downloads a whole torrent (a `.torrent` file, a magnet
//! link or an info-hash) from its swarm into `--out`, with a progress bar on a
//! terminal and a `--json` summary; `--seed` keeps serving it afterwards.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use swarmlab_audit::Target;
use swarmlab_bt::fetch::{fetch, FetchConfig, FetchProgress, FetchReport, FetchTarget, Stage};
use swarmlab_bt::seed::{LiveSeed, DOWNLOAD_UNCHOKE_SLOTS};
use swarmlab_bt::server::random_peer_id;

use crate::output::emit;

/// `swarmlab fetch` arguments.
#[derive(Args, Debug)]
pub struct FetchArgs {
    /// A .torrent file, a magnet link or a 40-hex info-hash.
    pub target: String,
    /// Output directory (a multi-file torrent goes in DIR/<name>/).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// A peer to dial (HOST:PORT); repeatable.
    #[arg(long = "peer", value_name = "ADDR")]
    pub peers: Vec<SocketAddr>,
    /// A tracker URL (http://, https://, udp://) besides the target's; repeatable.
    #[arg(long = "tracker", value_name = "URL")]
    pub trackers: Vec<String>,
    /// The DHT.
    #[command(flatten)]
    pub dht: super::dht::DhtArgs,
    /// Serve the torrent on --listen: verified pieces to up to 4 peers during the
    /// download, then everything after it, until Ctrl-C.
    #[arg(long)]
    pub seed: bool,
    /// Where `--seed` serves (and the port announced).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:6881")]
    pub listen: SocketAddr,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Peers connected at once.
    #[arg(long, default_value_t = 50)]
    pub max_peers: usize,
    /// Give up when no piece is verified for this many seconds.
    #[arg(long, value_name = "S", default_value_t = 120)]
    pub stall_timeout: u64,
    /// Drop a peer that sends no block for this many seconds while our requests
    /// are in flight (its requests go back to the others).
    #[arg(long, value_name = "S", default_value_t = 20)]
    pub request_timeout: u64,
    /// Seconds between rounds of tracker announces and DHT lookups.
    #[arg(long, value_name = "S", default_value_t = 30)]
    pub reannounce: u64,
    /// Give up when no peer gives the info dictionary within this many seconds.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub metadata_timeout: u64,
}

/// Runs `swarmlab fetch`.
pub async fn run(a: FetchArgs) -> Result<ExitCode> {
    let t = Target::resolve(&a.target)?;
    let mut trackers = t.trackers.clone();
    for u in &a.trackers {
        if !trackers.contains(u) {
            trackers.push(u.clone());
        }
    }
    let mut peers = t.peers.clone();
    peers.extend(a.peers.iter().copied());
    let target = FetchTarget {
        info_hash: t.info_hash,
        info: t.info.clone(),
        trackers,
        peers,
    };
    let peer_id = random_peer_id();
    let mut cfg = FetchConfig::new(a.out.clone(), peer_id);
    cfg.max_peers = a.max_peers.max(1);
    cfg.stall_timeout = Duration::from_secs(a.stall_timeout);
    cfg.request_timeout = Duration::from_secs(a.request_timeout.max(1));
    cfg.metadata_timeout = Duration::from_secs(a.metadata_timeout);
    cfg.listen_port = a.listen.port();
    cfg.reannounce = Duration::from_secs(a.reannounce.max(1));
    // Our own listener is never a peer (trackers and the DHT will name it). With
    // --seed it serves the pieces verified so far from the start.
    let serving = if a.seed {
        let l = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        let local = l.local_addr()?;
        cfg.listen_port = local.port();
        cfg.exclude.push(local);
        cfg.exclude
            .push(SocketAddr::from(([127, 0, 0, 1], local.port())));
        cfg.tracker.local_ip = super::seed::specific_ip(local);
        let server = super::seed::seed_server(peer_id, local, false, DOWNLOAD_UNCHOKE_SLOTS);
        cfg.uploader = Some(Arc::new(LiveSeed::new(server.clone())));
        Some((local, tokio::spawn(async move { server.serve(l).await })))
    } else {
        None
    };
    cfg.dht = if a.seed {
        a.dht.near(a.listen).start(false).await
    } else {
        a.dht.start(true).await
    };
    let dht = cfg.dht.clone();
    let bar = spawn_bar(a.quiet || a.json, cfg.progress.clone());
    let res = fetch(target, cfg).await;
    if let Some(b) = bar {
        b.abort();
    }
    let fetched = res.context("fetch failed")?;
    print_report(&fetched.report, a.json)?;
    if let Some((local, serving)) = serving {
        let trackers = t
            .trackers
            .iter()
            .chain(a.trackers.iter())
            .cloned()
            .collect();
        if !a.json {
            println!("seeding on {local} (Ctrl-C to stop)");
        }
        super::seed::announce_while(
            serving,
            fetched.info.info_hash,
            local,
            trackers,
            dht,
            peer_id,
        )
        .await?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &FetchReport, json: bool) -> Result<()> {
    if json {
        emit(&(serde_json::to_string_pretty(r)? + "\n"));
        return Ok(());
    }
    println!(
        "{}: {} bytes, {} pieces ({} resumed), {} bytes downloaded in {:.2} s ({:.1} MB/s), {} hash failures",
        r.name,
        r.total_bytes,
        r.pieces,
        r.resumed_pieces,
        r.downloaded_bytes,
        r.seconds,
        r.rate / 1e6,
        r.hash_failures
    );
    for f in &r.files {
        println!("  {f}");
    }
    println!(
        "{:<22} {:<28} {:>12} {:>10}  note",
        "peer", "client", "bytes", "MB/s"
    );
    for p in &r.peers {
        let note = match (p.banned, &p.error) {
            (true, _) => "banned".to_string(),
            (false, Some(e)) => e.clone(),
            _ => String::new(),
        };
        println!(
            "{:<22} {:<28} {:>12} {:>10.2}  {}",
            p.addr,
            p.client.as_deref().unwrap_or("?"),
            p.bytes,
            p.rate / 1e6,
            note
        );
    }
    Ok(())
}

/// A bar from `progress` on stderr while the download runs (terminal only).
fn spawn_bar(quiet: bool, progress: Arc<FetchProgress>) -> Option<tokio::task::JoinHandle<()>> {
    if quiet {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if bar.is_hidden() {
        return None;
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(tokio::spawn(async move {
        struct Clear(ProgressBar);
        impl Drop for Clear {
            fn drop(&mut self) {
                self.0.finish_and_clear();
            }
        }
        let bar = Clear(bar);
        loop {
            let stage = match progress.stage() {
                Stage::Metadata => "metadata",
                Stage::Checking => "checking",
                Stage::Downloading => "downloading",
                Stage::Done => "done",
            };
            bar.0.set_length(progress.total());
            bar.0.set_position(progress.done());
            bar.0.set_message(format!("{stage} {}p", progress.peers()));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }))
}
