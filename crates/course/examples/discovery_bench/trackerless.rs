//! `trackerless`: time to the first chunk and to the whole file, from the file id.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{RngCore, SeedableRng};
use swarmlab_course::announce::AnnounceConfig;
use swarmlab_course::charlie::{self, CharlieOptions};
use swarmlab_course::config::PeersIni;
use swarmlab_course::discovery::{DhtOptions, FileRef};
use swarmlab_course::engine::Progress;
use swarmlab_course::peer::{self, PeerOptions, RunningPeer};
use swarmlab_course::torrent::CourseTorrent;
use swarmlab_course::{chunks, Layout};
use swarmlab_dht::limits::Limits;
use tokio::net::TcpListener;

use crate::args::Args;
use crate::net;

/// Records when the first and the last chunk were written.
#[derive(Debug, Default)]
struct Clock {
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
}

impl Progress for Clock {
    fn chunk_done(&self, _bytes: u64) {
        let now = Instant::now();
        let mut f = self.first.lock().unwrap_or_else(|e| e.into_inner());
        f.get_or_insert(now);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    }
}

/// Peer `name` on `ip`, announcing the file id from a DHT node on the same address.
async fn peer(
    layout: &Layout,
    name: &str,
    ip: std::net::Ipv4Addr,
    boot: SocketAddr,
) -> Result<(RunningPeer, Arc<swarmlab_dht_driver::Dht>), Box<dyn std::error::Error>> {
    let l = TcpListener::bind((ip, 0)).await?;
    let mut p = peer::start(layout, name, l, PeerOptions::new()).await?;
    let dht = Arc::new(net::node(ip, boot, Limits::default()).await?);
    let udp = dht.local_addr().port();
    p.announce(
        dht.clone(),
        Some(udp),
        AnnounceConfig::new(p.addr.port()),
        false,
    );
    Ok((p, dht))
}

pub async fn run(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let nodes = net::start(a.nodes, a.first).await?;
    let boot = nodes[0].local_addr();
    let tmp = tempfile::Builder::new()
        .prefix("swarmlab-bench-")
        .tempdir()?;
    let layout = Layout::new(tmp.path());
    std::fs::create_dir_all(layout.files_dir())?;
    std::fs::create_dir_all(tmp.path().join("config"))?;
    let mut data = vec![0u8; a.size as usize];
    rand::rngs::SmallRng::seed_from_u64(8).fill_bytes(&mut data);
    std::fs::write(layout.files_dir().join("bench.bin"), &data)?;
    drop(data);
    chunks::create(&layout, "bench.bin", a.chunk_size as usize)?;
    let file_id = CourseTorrent::load(&layout)?.file_id();
    let v4 = |ip| std::net::SocketAddrV4::new(ip, 0);
    let ini = PeersIni {
        entries: vec![
            ("alice".into(), v4(a.host(2))),
            ("bob".into(), v4(a.host(3))),
        ],
    };
    std::fs::write(layout.peers_ini(), ini.to_text())?;
    let (alice, adht) = peer(&layout, "alice", a.host(2), boot).await?;
    let (bob, bdht) = peer(&layout, "bob", a.host(3), boot).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while ![&alice, &bob].iter().all(|p| {
        p.announcer()
            .is_some_and(|x| x.stats().announced.load(Ordering::Relaxed) > 0)
    }) {
        if Instant::now() > deadline {
            return Err("Alice and Bob did not announce within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("Alice and Bob announced {file_id}");

    let clock = Arc::new(Clock::default());
    let mut c = CharlieOptions::new(layout.clone(), 4);
    c.file = Some(FileRef::from_id(&file_id.to_hex())?);
    c.dht = DhtOptions::new(SocketAddr::from((a.host(1), 0)), vec![boot.to_string()]);
    c.engine.progress = Some(clock.clone());
    let t0 = Instant::now();
    let r = charlie::run(&c).await?;
    let total = t0.elapsed();
    let at = |m: &Mutex<Option<Instant>>| {
        m.lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(f64::NAN, |t| t.duration_since(t0).as_secs_f64())
    };
    for d in &r.discovery {
        eprintln!(
            "  {} {:?}: {} ({:.1} ms, {} datagrams, {} connections)",
            d.source, d.phase, d.detail, d.elapsed_ms, d.datagrams, d.connections
        );
    }
    let discovery_ms: f64 = r.discovery.iter().map(|d| d.elapsed_ms).sum();
    println!(
        "| nodes | file | chunks | discovery | first chunk | whole file | merged and checked | download MB/s | identical |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {:.1} MiB | {} | {:.0} ms | {:.3} s | {:.3} s | {:.3} s | {:.0} | {} |",
        a.nodes,
        a.size as f64 / (1 << 20) as f64,
        r.download.chunks,
        discovery_ms,
        at(&clock.first),
        at(&clock.last),
        total.as_secs_f64(),
        r.download.throughput_mb_s,
        r.identical == Some(true)
    );
    drop((alice, bob));
    for d in [adht, bdht] {
        d.shutdown().await;
    }
    for n in &nodes {
        n.shutdown().await;
    }
    Ok(())
}
