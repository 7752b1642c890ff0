//! The tracker augmented by the DHT, against real in-process peers on 127.163.0.x and
//! a fake DHT that names them.

use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures::future::BoxFuture;
use swarmlab_course_wire::ChunkHash;

use super::dht::{refresh_once, DhtOptions, DhtPeers, PeerLookup};
use super::file_info_with;
use crate::config::{FileIni, PeersIni};
use crate::error::DhtError;
use crate::layout::{chunk_file_name, Layout};
use crate::peer::{self, PeerOptions};
use crate::torrent::CourseTorrent;

/// A DHT that knows what the test tells it.
struct FakeDht(HashMap<[u8; 20], Vec<SocketAddr>>);

impl PeerLookup for FakeDht {
    fn get_peers(&self, key: [u8; 20]) -> BoxFuture<'static, Result<Vec<SocketAddr>, DhtError>> {
        let found = self.0.get(&key).cloned().unwrap_or_default();
        Box::pin(async move { Ok(found) })
    }
}

fn layout(net: u8) -> (tempfile::TempDir, Layout, FileIni) {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(d.path());
    std::fs::create_dir_all(l.files_dir()).unwrap();
    std::fs::create_dir_all(d.path().join("config")).unwrap();
    let peers = format!("[tracker]\nip_address = 127.163.{net}.1\nport_number = 8000\n\n[alice]\nip_address = 127.163.{net}.2\nport_number = 8001\n\n[bob]\nip_address = 127.163.{net}.3\nport_number = 8002\n");
    std::fs::write(l.peers_ini(), peers).unwrap();
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(l.files_dir().join("f.bin"), data).unwrap();
    let ini = crate::chunks::create(&l, "f.bin", 1000).unwrap();
    (d, l, ini)
}

/// Gives peer `name` the chunks `which` (copied from alice's and bob's).
fn give(l: &Layout, name: &str, ini: &FileIni, which: &[usize]) {
    std::fs::create_dir_all(l.chunk_dir(name)).unwrap();
    for &i in which {
        let f = chunk_file_name(&ini.chunks[i]);
        let from = ["alice", "bob"]
            .iter()
            .map(|p| l.chunk_dir(p).join(&f))
            .find(|p| p.exists())
            .unwrap();
        std::fs::copy(from, l.chunk_dir(name).join(&f)).unwrap();
    }
}

async fn start(l: &Layout, name: &str, bind: &str, bittorrent: bool) -> peer::RunningPeer {
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let mut o = PeerOptions::new();
    if !bittorrent {
        o.bittorrent = None;
    }
    peer::start(l, name, listener, o).await.unwrap()
}

fn v4(a: SocketAddr) -> SocketAddrV4 {
    match a {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => unreachable!(),
    }
}

fn opts() -> DhtOptions {
    DhtOptions {
        probe_timeout: Duration::from_secs(2),
        ..DhtOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_peer_the_dht_names_is_listed_for_the_chunks_it_holds_and_nothing_else_is() {
    let (_d, l, ini) = layout(1);
    let t = CourseTorrent::for_layout(&l).unwrap();
    give(&l, "carol", &ini, &[0, 2]);
    let carol = start(&l, "carol", "127.163.1.4:0", true).await;
    // Answers nothing (a BitTorrent client waiting for a handshake looks the same).
    let silent = std::net::TcpListener::bind("127.163.1.5:0").unwrap();
    let dead: SocketAddr = "127.163.1.6:1".parse().unwrap();
    let dht = FakeDht(HashMap::from([(
        t.file_id().0,
        vec![carol.addr, silent.local_addr().unwrap(), dead],
    )]));
    let peers = DhtPeers::default();
    refresh_once(&t, &dht, &peers, &opts()).await;
    let pini = PeersIni::load(&l.peers_ini()).unwrap();
    let fi = file_info_with(&pini, &ini, Some(&peers));
    let listed: Vec<Vec<SocketAddrV4>> = fi.chunks.iter().map(|c| c.peers.clone()).collect();
    let (a, b, c) = (
        pini.get("alice").unwrap(),
        pini.get("bob").unwrap(),
        v4(carol.addr),
    );
    assert_eq!(listed, vec![vec![a, c], vec![a, b], vec![b, c]]);
    let probes = peers.probes();
    assert_eq!(probes.len(), 3);
    assert!(
        probes.iter().all(|(p, r)| r.course == (*p == c)),
        "{probes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_peer_without_bittorrent_is_listed_for_every_chunk_and_chunk_ids_for_theirs() {
    let (_d, l, ini) = layout(2);
    let t = CourseTorrent::for_layout(&l).unwrap();
    give(&l, "dave", &ini, &[1]);
    give(&l, "erin", &ini, &[2]);
    let dave = start(&l, "dave", "127.163.2.4:0", false).await;
    let erin = start(&l, "erin", "127.163.2.5:0", true).await;
    let chunk2: ChunkHash = ini.chunks[2];
    let dht = FakeDht(HashMap::from([
        (t.file_id().0, vec![dave.addr]),
        (chunk2, vec![erin.addr]),
    ]));
    let peers = DhtPeers::default();
    let o = DhtOptions {
        chunks: true,
        ..opts()
    };
    refresh_once(&t, &dht, &peers, &o).await;
    let (d, e) = (v4(dave.addr), v4(erin.addr));
    let per_chunk: Vec<Vec<SocketAddrV4>> =
        (0..3).map(|i| peers.for_chunk(&ini.chunks, i)).collect();
    assert_eq!(per_chunk, vec![vec![d], vec![d], vec![e, d]]);
    // Lookups of another file list nothing for this one.
    assert!(peers.for_chunk(&[[9; 20]], 0).is_empty());
}
