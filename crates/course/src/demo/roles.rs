//! The demo's course tree and its roles: a random file cut into chunks, Alice and Bob
//! (both protocols on one port), the Tracker and its discovery socket, on 127.0.0.1.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use rand::{RngCore, SeedableRng};
use swarmlab_course_wire::TrackerInfo;
use tokio::net::TcpListener;

use crate::chunks;
use crate::config::PeersIni;
use crate::demo::DemoOptions;
use crate::error::DemoError;
use crate::layout::Layout;
use crate::peer::{self, PeerOptions, RunningPeer};
use crate::running::{start_discovery, start_tracker, Running};
use crate::server::ServerLimits;
use crate::tracker;

/// The roles of the demo, running; stopped when dropped.
pub(crate) struct Roles {
    pub alice: RunningPeer,
    pub bob: RunningPeer,
    /// The tracker's TCP and UDP sides (dropped for the steps without a tracker).
    pub tracker: Option<(Running, Running)>,
    /// The name the tracker answers discovery with (Charlie prefers it).
    pub tracker_name: String,
}

fn write_random_file(path: &std::path::Path, size: u64, seed: u64) -> std::io::Result<()> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    w.flush()
}

/// Writes the random file `files/demo.bin` and cuts it (`chunks create`: chunks,
/// file.ini, file.torrent).
pub(crate) async fn make_file(layout: &Layout, opts: &DemoOptions) -> Result<(), DemoError> {
    std::fs::create_dir_all(layout.files_dir())?;
    std::fs::create_dir_all(layout.root().join("config"))?;
    let (size, chunk_size, seed) = (opts.size, opts.chunk_size, opts.seed);
    let l2 = layout.clone();
    tokio::task::spawn_blocking(move || -> Result<(), DemoError> {
        write_random_file(&l2.files_dir().join("demo.bin"), size, seed)?;
        chunks::create(&l2, "demo.bin", chunk_size)?;
        Ok(())
    })
    .await?
}

fn v4(a: SocketAddr) -> SocketAddrV4 {
    match a {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => SocketAddrV4::new(Ipv4Addr::LOCALHOST, a.port()),
    }
}

/// Binds the roles on 127.0.0.1 (ports chosen by the system, written into
/// peers.ini) and starts them.
pub(crate) async fn start(layout: &Layout, discovery_port: u16) -> Result<Roles, DemoError> {
    let localhost = || TcpListener::bind((Ipv4Addr::LOCALHOST, 0));
    let (alice_l, bob_l, tracker_l) = (localhost().await?, localhost().await?, localhost().await?);
    let tracker_addr = v4(tracker_l.local_addr()?);
    let peers = PeersIni {
        entries: vec![
            ("tracker".into(), tracker_addr),
            ("alice".into(), v4(alice_l.local_addr()?)),
            ("bob".into(), v4(bob_l.local_addr()?)),
        ],
    };
    crate::layout::write_atomic(&layout.peers_ini(), peers.to_text().as_bytes())?;
    let alice = peer::start(layout, "alice", alice_l, PeerOptions::new()).await?;
    let bob = peer::start(layout, "bob", bob_l, PeerOptions::new()).await?;
    let tcp = start_tracker(layout, tracker_l, ServerLimits::default())?;
    // A name of our own, so that Charlie prefers this tracker over any other one
    // answering on the same port of this host.
    let tracker_name = format!("swarmlab-demo-{}", std::process::id());
    let udp = start_discovery(
        tracker::discovery_addr(discovery_port),
        TrackerInfo {
            addr: tracker_addr,
            name: tracker_name.clone(),
        },
    )
    .map_err(|source| DemoError::Discovery {
        port: discovery_port,
        source,
    })?;
    Ok(Roles {
        alice,
        bob,
        tracker: Some((tcp, udp)),
        tracker_name,
    })
}
