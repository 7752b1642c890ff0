//! Charlie's discovery: a chain of peer sources behind one small interface.
//!
//! A source adds what it learns to a [`Swarm`]: the file's description (name and chunk
//! hashes) and peers for chunk hashes. The chain runs the sources in order and stops
//! as soon as the swarm is complete (the description is known and every chunk has a
//! peer); each source's outcome is reported. The course's steps are chains of one
//! source (config files; tracker; broadcast then tracker); later sources (DHT lookups
//! of chunk hashes, peer exchange) slot in as more [`PeerSource`]s.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde::Serialize;
use swarmlab_course_wire::{
    ChunkHash, ErrorCode, FileInfo, Header, Message, MsgType, TrackerInfo, DEFAULT_MAX_MESSAGE,
    HEADER_LEN,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

use crate::config::{ConfigError, FileIni, PeersIni};
use crate::layout::Layout;

/// What is downloaded: the file name and its chunk hashes in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub filename: String,
    pub chunks: Vec<ChunkHash>,
}

/// What the chain knows so far.
#[derive(Debug, Clone, Default)]
pub struct Swarm {
    pub manifest: Option<Manifest>,
    /// Peers per chunk index, in the order sources gave them (first = preferred).
    pub holders: Vec<Vec<SocketAddr>>,
}

/// What one source found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub manifest: Option<Manifest>,
    /// Peers by chunk hash (a DHT lookup answers for a hash, not an index).
    pub peers: Vec<(ChunkHash, SocketAddr)>,
    /// One line for the report (e.g. which tracker answered).
    pub detail: String,
}

impl Swarm {
    /// True when the description is known and every chunk has at least one peer.
    pub fn is_complete(&self) -> bool {
        self.manifest.is_some() && self.holders.iter().all(|h| !h.is_empty())
    }

    /// Merges what a source found; returns how many (chunk, peer) pairs are new. A
    /// description is taken from the first source that gives one; peers for hashes it
    /// does not list are ignored.
    pub fn add(&mut self, found: Found) -> usize {
        if self.manifest.is_none() {
            if let Some(m) = found.manifest {
                self.holders = vec![Vec::new(); m.chunks.len()];
                self.manifest = Some(m);
            }
        }
        let Some(m) = &self.manifest else { return 0 };
        let mut index: HashMap<ChunkHash, Vec<usize>> = HashMap::new();
        for (i, h) in m.chunks.iter().enumerate() {
            index.entry(*h).or_default().push(i);
        }
        let mut added = 0;
        for (hash, peer) in found.peers {
            for &i in index.get(&hash).map(Vec::as_slice).unwrap_or_default() {
                if !self.holders[i].contains(&peer) {
                    self.holders[i].push(peer);
                    added += 1;
                }
            }
        }
        added
    }
}

/// Why a source found nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}: {1}")]
    Io(String, io::Error),
    #[error("{0}: no reply within {1:?}")]
    Timeout(String, Duration),
    #[error("{0} answered ERROR {1}")]
    ErrorReply(String, ErrorCode),
    #[error("{0} sent an invalid reply: {1}")]
    BadReply(String, String),
    #[error("no tracker answered on UDP port {port} within {wait:?} (sent to {dests})")]
    NoTracker {
        port: u16,
        wait: Duration,
        dests: String,
    },
    #[error("{0}")]
    Other(String),
}

/// A boxed future, so that sources of different types can stand in one chain.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One way of learning the file's description and its peers.
pub trait PeerSource: Send {
    /// A short name for reports (`config`, `tracker`, `broadcast`, …).
    fn name(&self) -> String;
    /// Looks for peers, given what earlier sources found.
    fn discover<'a>(&'a mut self, swarm: &'a Swarm)
        -> BoxFuture<'a, Result<Found, DiscoveryError>>;
}

/// One source's outcome in the chain.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub source: String,
    pub ok: bool,
    pub detail: String,
    pub peers_added: usize,
    pub elapsed_ms: f64,
}

/// Runs `sources` in order until the swarm is complete.
pub async fn run_chain(sources: &mut [Box<dyn PeerSource>], swarm: &mut Swarm) -> Vec<StepReport> {
    let mut reports = Vec::new();
    for source in sources.iter_mut() {
        if swarm.is_complete() {
            break;
        }
        let t0 = Instant::now();
        let result = source.discover(swarm).await;
        let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;
        let report = match result {
            Ok(found) => {
                let detail = found.detail.clone();
                let peers_added = swarm.add(found);
                StepReport {
                    source: source.name(),
                    ok: true,
                    detail,
                    peers_added,
                    elapsed_ms,
                }
            }
            Err(e) => StepReport {
                source: source.name(),
                ok: false,
                detail: e.to_string(),
                peers_added: 0,
                elapsed_ms,
            },
        };
        tracing::info!(source = %report.source, ok = report.ok, "{}", report.detail);
        reports.push(report);
    }
    reports
}

fn found_from_file_info(fi: FileInfo, detail: String) -> Found {
    let peers = fi
        .chunks
        .iter()
        .flat_map(|c| c.peers.iter().map(move |p| (c.hash, SocketAddr::V4(*p))))
        .collect();
    Found {
        manifest: Some(Manifest {
            filename: fi.filename,
            chunks: fi.chunks.iter().map(|c| c.hash).collect(),
        }),
        peers,
        detail,
    }
}

/// Step 1: `config/file.ini` and `config/peers.ini`.
pub struct ConfigSource {
    pub layout: Layout,
}

impl PeerSource for ConfigSource {
    fn name(&self) -> String {
        "config".into()
    }

    fn discover<'a>(
        &'a mut self,
        _swarm: &'a Swarm,
    ) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let peers = PeersIni::load(&self.layout.peers_ini())?;
            let file = FileIni::load(&self.layout.file_ini())?;
            let fi = crate::tracker::file_info(&peers, &file);
            let detail = format!(
                "{} chunks of {} from config/file.ini",
                fi.chunks.len(),
                fi.filename
            );
            Ok(found_from_file_info(fi, detail))
        })
    }
}

/// Asks one tracker for FILE_INFO over TCP: one GET_FILE_INFO, one reply, then the
/// connection is closed (rule 4.10). A reply whose type byte is not 3 but whose body
/// is a FILE_INFO is accepted (rule 4.3).
pub async fn get_file_info(addr: SocketAddr, wait: Duration) -> Result<FileInfo, DiscoveryError> {
    let who = format!("tracker {addr}");
    let exchange = async {
        let mut s = TcpStream::connect(addr)
            .await
            .map_err(|e| DiscoveryError::Io(who.clone(), e))?;
        let _ = s.set_nodelay(true);
        s.write_all(&Message::GetFileInfo.encode().unwrap_or_default())
            .await
            .map_err(|e| DiscoveryError::Io(who.clone(), e))?;
        let mut head = [0u8; HEADER_LEN];
        s.read_exact(&mut head)
            .await
            .map_err(|e| DiscoveryError::Io(who.clone(), e))?;
        let header = Header::parse(&head);
        if header.words < 2 || header.total_len() > DEFAULT_MAX_MESSAGE as u64 {
            return Err(DiscoveryError::BadReply(
                who.clone(),
                format!("msg_length {} words", header.words),
            ));
        }
        let mut msg = head.to_vec();
        msg.resize(header.total_len() as usize, 0);
        s.read_exact(&mut msg[HEADER_LEN..])
            .await
            .map_err(|e| DiscoveryError::Io(who.clone(), e))?;
        match Message::decode_reply_as(MsgType::FileInfo, &msg, DEFAULT_MAX_MESSAGE) {
            Ok(Message::FileInfo(fi)) => Ok(fi),
            Ok(Message::Error(code)) => Err(DiscoveryError::ErrorReply(who.clone(), code)),
            Ok(other) => Err(DiscoveryError::BadReply(
                who.clone(),
                format!("{:?}", other.msg_type()),
            )),
            Err(e) => Err(DiscoveryError::BadReply(who.clone(), e.to_string())),
        }
    };
    timeout(wait, exchange)
        .await
        .map_err(|_| DiscoveryError::Timeout(format!("tracker {addr}"), wait))?
}

/// Step 2: the tracker at a known address (peers.ini's `[tracker]`).
pub struct TrackerSource {
    /// `None`: read `[tracker]` from the layout's peers.ini when asked.
    pub addr: Option<SocketAddrV4>,
    pub layout: Layout,
    pub timeout: Duration,
}

impl PeerSource for TrackerSource {
    fn name(&self) -> String {
        "tracker".into()
    }

    fn discover<'a>(
        &'a mut self,
        _swarm: &'a Swarm,
    ) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let addr = match self.addr {
                Some(a) => a,
                None => PeersIni::load(&self.layout.peers_ini())?
                    .get("tracker")
                    .ok_or_else(|| {
                        DiscoveryError::Other("config/peers.ini has no [tracker] section".into())
                    })?,
            };
            let fi = get_file_info(SocketAddr::V4(addr), self.timeout).await?;
            let detail = format!(
                "{} chunks of {} from tracker {addr}",
                fi.chunks.len(),
                fi.filename
            );
            Ok(found_from_file_info(fi, detail))
        })
    }
}

/// A tracker that answered a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub info: TrackerInfo,
    /// The datagram's source (informational: connect to `info.addr`, rule 4.7).
    pub from: SocketAddr,
}

/// The destinations of DISCOVER_TRACKER when none are given (rule 4.6):
/// 255.255.255.255 and the broadcast address of every IPv4 interface, loopback's
/// 127.255.255.255 included. Never use this default in tests on a shared machine: in
/// the main network namespace 255.255.255.255 leaves the host.
pub fn default_broadcast_destinations() -> Vec<Ipv4Addr> {
    let mut out = vec![Ipv4Addr::BROADCAST];
    if let Ok(ifaces) = if_addrs::get_if_addrs() {
        for iface in ifaces {
            if let if_addrs::IfAddr::V4(v4) = iface.addr {
                let b = v4
                    .broadcast
                    .unwrap_or_else(|| Ipv4Addr::from(u32::from(v4.ip) | !u32::from(v4.netmask)));
                if !out.contains(&b) {
                    out.push(b);
                }
            }
        }
    }
    out
}

/// Most sources whose reply header waits for its body during one discovery.
const MAX_PENDING_HALVES: usize = 1024;

/// Broadcasts DISCOVER_TRACKER to every destination on `port` and collects
/// TRACKER_INFO replies for `wait`, in order of arrival, without duplicates. A reply
/// split in two datagrams (8-byte header, then the body from the same source, rule 4.5)
/// is put back together.
pub async fn discover_trackers(
    dests: &[Ipv4Addr],
    port: u16,
    wait: Duration,
) -> Result<Vec<Answer>, DiscoveryError> {
    let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .await
        .map_err(|e| DiscoveryError::Io("discovery socket".into(), e))?;
    sock.set_broadcast(true)
        .map_err(|e| DiscoveryError::Io("SO_BROADCAST".into(), e))?;
    let probe = Message::DiscoverTracker.encode().unwrap_or_default();
    let mut sent = 0;
    for d in dests {
        match sock.send_to(&probe, (*d, port)).await {
            Ok(_) => sent += 1,
            Err(e) => tracing::warn!("DISCOVER_TRACKER to {d}:{port}: {e}"),
        }
    }
    let dest_list = dests
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if sent == 0 {
        return Err(DiscoveryError::Other(format!(
            "could not send DISCOVER_TRACKER to any of {dest_list}"
        )));
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut answers: Vec<Answer> = Vec::new();
    let mut halves: HashMap<SocketAddr, [u8; HEADER_LEN]> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await {
            Err(_) => break,
            Ok(Err(e)) => {
                tracing::debug!("discovery recv: {e}");
                continue;
            }
            Ok(Ok(x)) => x,
        };
        let datagram = &buf[..n];
        let whole: Vec<u8> = if n == HEADER_LEN {
            let head: [u8; HEADER_LEN] = datagram.try_into().unwrap_or_default();
            if Header::parse(&head).total_len() > HEADER_LEN as u64 {
                // A header alone: its body follows from the same source. Bounded, so
                // a flood of header-only datagrams cannot grow the map.
                if halves.len() < MAX_PENDING_HALVES || halves.contains_key(&from) {
                    halves.insert(from, head);
                }
                continue;
            }
            datagram.to_vec()
        } else if let Some(head) = halves.remove(&from) {
            [&head[..], datagram].concat()
        } else {
            datagram.to_vec()
        };
        match Message::decode_with_max(&whole, 65536) {
            Ok(Message::TrackerInfo(info)) => {
                let a = Answer { info, from };
                if !answers.iter().any(|x| x.info == a.info) {
                    tracing::debug!(
                        "tracker {:?} at {} answered from {from}",
                        a.info.name,
                        a.info.addr
                    );
                    answers.push(a);
                }
            }
            Ok(Message::Error(code)) => tracing::warn!(%from, "discovery answered ERROR {code}"),
            Ok(m) => tracing::warn!(%from, "unexpected {:?} on the discovery socket", m.msg_type()),
            Err(e) => tracing::warn!(%from, "invalid discovery reply: {e}"),
        }
    }
    if answers.is_empty() {
        return Err(DiscoveryError::NoTracker {
            port,
            wait,
            dests: dest_list,
        });
    }
    Ok(answers)
}

/// The order in which Charlie tries the trackers that answered: those named
/// `preferred` first, then the others, each group in order of arrival. (Deployed
/// clients either keep only the tracker named `tracker` or take the first reply; this
/// rule does both and falls back to the next tracker when one fails.)
pub fn tracker_order(mut answers: Vec<Answer>, preferred: &str) -> Vec<Answer> {
    answers.sort_by_key(|a| a.info.name != preferred); // stable: arrival order kept
    answers
}

/// Step 3: no configuration; broadcast DISCOVER_TRACKER, then ask the trackers that
/// answered, in [`tracker_order`], until one gives a FILE_INFO.
pub struct BroadcastSource {
    pub destinations: Vec<Ipv4Addr>,
    pub port: u16,
    pub wait: Duration,
    pub preferred_name: String,
    pub timeout: Duration,
}

impl PeerSource for BroadcastSource {
    fn name(&self) -> String {
        "broadcast".into()
    }

    fn discover<'a>(
        &'a mut self,
        _swarm: &'a Swarm,
    ) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let answers = discover_trackers(&self.destinations, self.port, self.wait).await?;
            let n = answers.len();
            let mut last_err = None;
            for a in tracker_order(answers, &self.preferred_name) {
                match get_file_info(SocketAddr::V4(a.info.addr), self.timeout).await {
                    Ok(fi) => {
                        let detail = format!(
                            "{n} tracker(s) answered; {} chunks of {} from tracker {:?} at {}",
                            fi.chunks.len(),
                            fi.filename,
                            a.info.name,
                            a.info.addr
                        );
                        return Ok(found_from_file_info(fi, detail));
                    }
                    Err(e) => {
                        tracing::warn!("{e}; trying the next tracker");
                        last_err = Some(e);
                    }
                }
            }
            Err(last_err.unwrap_or_else(|| DiscoveryError::Other("no tracker".into())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(name: &str, port: u16) -> Answer {
        Answer {
            info: TrackerInfo {
                addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
                name: name.into(),
            },
            from: "127.0.0.1:9000".parse().unwrap(),
        }
    }

    #[test]
    fn preferred_trackers_first_in_arrival_order() {
        let order = tracker_order(
            vec![
                answer("other", 1),
                answer("tracker", 2),
                answer("x", 3),
                answer("tracker", 4),
            ],
            "tracker",
        );
        let ports: Vec<u16> = order.iter().map(|a| a.info.addr.port()).collect();
        assert_eq!(ports, [2, 4, 1, 3]);
    }

    #[test]
    fn swarm_merges_by_hash_and_ignores_unknown_hashes() {
        let p1: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let p2: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let mut s = Swarm::default();
        assert_eq!(
            s.add(Found {
                peers: vec![([1; 20], p1)],
                ..Default::default()
            }),
            0
        );
        let m = Manifest {
            filename: "f".into(),
            chunks: vec![[1; 20], [2; 20], [1; 20]],
        };
        let added = s.add(Found {
            manifest: Some(m),
            peers: vec![([1; 20], p1)],
            detail: String::new(),
        });
        assert_eq!(added, 2); // the hash stands at indices 0 and 2
        assert!(!s.is_complete());
        assert_eq!(
            s.add(Found {
                peers: vec![([2; 20], p2), ([9; 20], p2), ([1; 20], p1)],
                ..Default::default()
            }),
            1
        );
        assert!(s.is_complete());
        assert_eq!(s.holders[1], vec![p2]);
    }
}
