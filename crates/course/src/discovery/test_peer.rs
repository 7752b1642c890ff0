//! For tests: a course peer that also speaks BitTorrent on its port (the first byte
//! tells them apart, as the peers' BitTorrent mode does), scripted to announce given
//! pieces, a DHT port and PEX lists (a flood too), and to serve the info dictionary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use swarmlab_bt::Connection;
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{Event, SessionConfig, Torrent};
use swarmlab_bt_wire::wire::Bitfield;
use swarmlab_course_wire::ChunkHash;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::layout::chunk_file_name;
use crate::peer::PeerResponder;
use crate::server::Responder;

/// The torrent of a file cut in `chunk_size` pieces.
pub(crate) fn info_of(name: &str, data: &[u8], chunk_size: usize) -> Info {
    let pieces: Vec<ChunkHash> = data.chunks(chunk_size).map(crate::chunks::sha1).collect();
    let t = crate::torrent::CourseTorrent::new(name, data.len() as u64, chunk_size as u64, &pieces);
    t.unwrap().info().clone()
}

/// Writes the chunks of `data` whose index `keep` accepts to `dir`; returns every
/// chunk's hash.
pub(crate) fn write_chunks(
    dir: &Path,
    data: &[u8],
    chunk_size: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<ChunkHash> {
    std::fs::create_dir_all(dir).unwrap();
    data.chunks(chunk_size)
        .enumerate()
        .map(|(i, c)| {
            let h = crate::chunks::sha1(c);
            if keep(i) {
                std::fs::write(dir.join(chunk_file_name(&h)), c).unwrap();
            }
            h
        })
        .collect()
}

/// How a test peer behaves in BitTorrent mode.
#[derive(Clone, Default)]
pub(crate) struct Script {
    /// The torrent it serves (its info dictionary is served with ut_metadata).
    pub info: Option<Info>,
    /// Pieces it announces (`None`: the chunk files present in its directory).
    pub pieces: Option<Vec<usize>>,
    /// The port of its DHT node, sent in a `port` message.
    pub dht_port: Option<u16>,
    /// Peers listed in each ut_pex message.
    pub pex: Vec<SocketAddr>,
    /// ut_pex messages sent, one every `pex_every`.
    pub pex_messages: usize,
    /// Time between two ut_pex messages.
    pub pex_every: Duration,
    /// Message k lists `pex` rotated left by k times this.
    pub pex_rotate: usize,
    /// Announce the pieces only after the last ut_pex message (so that a visitor
    /// reads every PEX message before it has what it came for).
    pub pieces_after_pex: bool,
    /// Announce pieces 0..n with `have` messages instead of a bitfield.
    pub haves: Option<u32>,
}

/// A running test peer; stopped when dropped.
pub(crate) struct TestPeer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a test peer on `bind` serving `dir`: course requests from the chunk files,
/// BitTorrent as `script` says.
pub(crate) async fn start(bind: &str, dir: PathBuf, script: Script) -> TestPeer {
    let l = TcpListener::bind(bind).await.unwrap();
    let addr = l.local_addr().unwrap();
    let script = Arc::new(script);
    let course = Arc::new(PeerResponder::new(dir.clone()));
    let task = tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let (script, course, dir) = (script.clone(), course.clone(), dir.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if s.peek(&mut first).await.unwrap_or(0) == 0 {
                    return;
                }
                if first[0] == 19 {
                    bittorrent(s, &script, &dir).await;
                } else {
                    course_requests(s, &course).await;
                }
            });
        }
    });
    TestPeer { addr, task }
}

async fn course_requests(mut s: TcpStream, course: &PeerResponder) {
    let mut req = [0u8; 28];
    let mut out = Vec::new();
    while s.read_exact(&mut req).await.is_ok() {
        course.respond(&req[8..], &mut out);
        if s.write_all(&out).await.is_err() {
            return;
        }
    }
}

async fn bittorrent(s: TcpStream, script: &Script, dir: &Path) {
    let mut cfg = SessionConfig::new(*b"-SL0001-testpeer0000");
    cfg.limits.pex_interval = Duration::ZERO;
    cfg.limits.pex_max_peers = usize::MAX;
    let Ok(mut conn) = Connection::incoming(s, cfg) else {
        return;
    };
    let Some(info) = &script.info else { return };
    let mut sent = 0;
    let mut next_pex: Option<tokio::time::Instant> = None;
    let mut bitfield_sent = false;
    loop {
        let ev = match conn.next_event_until(next_pex).await {
            Ok(Some(ev)) => ev,
            Ok(None) => {
                let mut added: Vec<(SocketAddr, u8)> = script.pex.iter().map(|a| (*a, 0)).collect();
                if !added.is_empty() {
                    let k = (sent * script.pex_rotate) % added.len();
                    added.rotate_left(k);
                }
                let now = tokio::time::Instant::now().into_std();
                let _ = conn.session_mut().send_pex(now, &added, &[]);
                sent += 1;
                next_pex = (sent < script.pex_messages)
                    .then(|| tokio::time::Instant::now() + script.pex_every);
                if next_pex.is_none() && !bitfield_sent {
                    announce(&mut conn, script, info, dir);
                    bitfield_sent = true;
                }
                continue;
            }
            Err(_) => return,
        };
        match ev {
            Event::HandshakeReceived(hs) => {
                if hs.info_hash == info.info_hash {
                    let _ = conn.accept(Torrent::from_info(info));
                } else {
                    let _ = conn.refuse();
                }
            }
            Event::Established(_) if !script.pieces_after_pex || script.pex_messages == 0 => {
                announce(&mut conn, script, info, dir);
                bitfield_sent = true;
            }
            Event::ExtHandshake(_) if script.pex_messages > 0 => {
                next_pex = Some(tokio::time::Instant::now());
            }
            _ => {}
        }
    }
}

/// Sends the bitfield (or the haves) and the DHT port.
fn announce(conn: &mut Connection, script: &Script, info: &Info, dir: &Path) {
    if let Some(n) = script.haves {
        for i in 0..n {
            let _ = conn.session_mut().send_have(i);
        }
        return;
    }
    let n = info.pieces.len();
    let mut bits = Bitfield::new(n);
    for i in 0..n {
        let held = match &script.pieces {
            Some(p) => p.contains(&i),
            None => dir.join(chunk_file_name(&info.pieces[i])).is_file(),
        };
        if held {
            bits.set(i);
        }
    }
    let s = conn.session_mut();
    let _ = s.send_bitfield(&bits);
    if let Some(p) = script.dht_port {
        let _ = s.send_port(p);
    }
}
