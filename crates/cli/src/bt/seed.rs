//! `swarmlab seed PATH`: makes the torrent of a file or a directory (or reads a
//! `.torrent` and finds its files), serves it with `swarmlab-bt`'s server,
//! announces it to the trackers and in the DHT, and prints the magnet link.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use swarmlab_bt::dht::DhtLookup;
use swarmlab_bt::fetch::Announcer;
use swarmlab_bt::seed::{make_torrent, StorageSource};
use swarmlab_bt::server::random_peer_id;
use swarmlab_bt::tracker::TrackerOptions;
use swarmlab_bt::{PieceSource, Server, ServerConfig};
use swarmlab_bt_wire::magnet::Magnet;
use swarmlab_bt_wire::metainfo::Metainfo;
use swarmlab_bt_wire::{InfoHash, PeerId};
use swarmlab_engine::LayoutLimits;

/// `swarmlab seed` arguments.
#[derive(Args, Debug)]
pub struct SeedArgs {
    /// A file or a directory to seed, or a .torrent (its files are then looked for
    /// in --dir).
    pub path: PathBuf,
    /// With a .torrent PATH: the directory holding its files (default: the
    /// .torrent's directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write the torrent made to F (temporary name, fsync, rename).
    #[arg(long, value_name = "F")]
    pub torrent_out: Option<PathBuf>,
    /// Piece length in bytes (a power of two; default: about 1,500 pieces).
    #[arg(long, value_name = "BYTES")]
    pub piece_length: Option<u64>,
    /// A tracker to announce to; repeatable.
    #[arg(long = "tracker", value_name = "URL")]
    pub trackers: Vec<String>,
    /// Where to serve.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:6881")]
    pub listen: SocketAddr,
    /// The DHT.
    #[command(flatten)]
    pub dht: super::dht::DhtArgs,
}

fn is_torrent_file(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("torrent"))
}

/// Writes `bytes` to `path` under a temporary name, fsyncs and renames.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(name);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Runs `swarmlab seed`.
pub async fn run(a: SeedArgs) -> Result<ExitCode> {
    let path = a
        .path
        .canonicalize()
        .with_context(|| format!("{}", a.path.display()))?;
    let (bytes, dir) = if is_torrent_file(&path) {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let dir = a
            .dir
            .clone()
            .or_else(|| path.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        (bytes, dir)
    } else {
        if let Some(pl) = a.piece_length {
            if !pl.is_power_of_two() || pl < 16384 {
                bail!("--piece-length must be a power of two of at least 16384");
            }
        }
        let p = path.clone();
        let (pl, tr) = (a.piece_length, a.trackers.clone());
        let bytes = tokio::task::spawn_blocking(move || make_torrent(&p, pl, &tr)).await??;
        (
            bytes,
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    };
    let meta = Metainfo::from_bytes(&bytes).context("the torrent")?;
    if let Some(out) = &a.torrent_out {
        write_atomic(out, &bytes)?;
    }
    let info = meta.info.clone();
    let source = {
        let (info, d) = (info.clone(), dir.clone());
        tokio::task::spawn_blocking(move || StorageSource::open(info, &d, &LayoutLimits::default()))
            .await?
            .with_context(|| format!("the files of the torrent under {}", dir.display()))?
    };
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("listening on {}", a.listen))?;
    let local = listener.local_addr()?;
    let mut trackers = meta.trackers.clone();
    for t in &a.trackers {
        if !trackers.contains(t) {
            trackers.push(t.clone());
        }
    }
    let magnet = Magnet {
        info_hash: info.info_hash,
        display_name: Some(info.name.clone()),
        trackers: trackers.clone(),
        peers: Vec::new(),
    };
    println!("{}", magnet.to_link());
    println!(
        "seeding {} ({} bytes, {} of {} pieces) on {local} (Ctrl-C to stop)",
        info.name,
        info.total_length(),
        source.pieces_held(),
        info.pieces.len()
    );
    let dht = a.dht.near(local).start(false).await;
    serve(listener, source, trackers, dht, random_peer_id()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves `source` on `listener` with the crate's server, announcing it to
/// `trackers` (from the listener's IP, when it is not a wildcard) and the DHT every
/// 30 s, until Ctrl-C.
pub async fn serve(
    listener: tokio::net::TcpListener,
    source: StorageSource,
    trackers: Vec<String>,
    dht: Option<Arc<dyn DhtLookup>>,
    peer_id: PeerId,
) -> Result<()> {
    let local = listener.local_addr()?;
    let info_hash = source.info().info_hash;
    let server = seed_server(
        peer_id,
        local,
        true,
        ServerConfig::new(peer_id).unchoke_slots,
    );
    server.add_torrent(Arc::new(source));
    let serving = tokio::spawn(async move { server.serve(listener).await });
    announce_while(serving, info_hash, local, trackers, dht, peer_id).await
}

/// The server of `seed` and `fetch --seed` for a listener on `local`.
pub fn seed_server(peer_id: PeerId, local: SocketAddr, upload_only: bool, slots: usize) -> Server {
    let mut cfg = ServerConfig::new(peer_id);
    cfg.listen_port = Some(local.port());
    cfg.upload_only = upload_only;
    cfg.unchoke_slots = slots;
    Server::new(cfg)
}

/// Announces `info_hash` as a seed listening on `local` to `trackers` (from the
/// listener's IP, when it is not a wildcard) and the DHT every 30 s, while
/// `serving` (a server's accept loop) runs, until Ctrl-C.
pub async fn announce_while(
    mut serving: tokio::task::JoinHandle<std::io::Result<()>>,
    info_hash: InfoHash,
    local: SocketAddr,
    trackers: Vec<String>,
    dht: Option<Arc<dyn DhtLookup>>,
    peer_id: PeerId,
) -> Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let announcer = Announcer {
        info_hash,
        peer_id,
        port: local.port(),
        trackers,
        dht,
        dht_announce: true,
        interval: Duration::from_secs(30),
        tracker: TrackerOptions {
            local_ip: specific_ip(local),
            ..TrackerOptions::default()
        },
    };
    let ann = tokio::spawn(announcer.run(tx, || 0));
    // The peers the sources name are not dialled: a seed waits for leechers.
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let res = tokio::select! {
        r = &mut serving => r.context("serving").and_then(|r| r.context("serving")),
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    serving.abort();
    ann.abort();
    drain.abort();
    res
}

/// The IP of `addr` unless it is a wildcard (0.0.0.0 or ::).
pub fn specific_ip(addr: SocketAddr) -> Option<std::net::IpAddr> {
    Some(addr.ip()).filter(|ip| !ip.is_unspecified())
}
