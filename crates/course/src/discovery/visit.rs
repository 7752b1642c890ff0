//! One BitTorrent visit to a peer on its course port: the handshake for the file id,
//! the extension handshake (BEP 10), and what the peer then says — its pieces
//! (bitfield, `have_all`, `have`), the port of its DHT node (BEP 5), the peers it
//! knows (ut_pex, BEP 11) and, when asked, the info dictionary (ut_metadata, BEP 9,
//! checked against the file id by the session). The PEX, metadata and DHT sources
//! share it.
//!
//! A visit ends as soon as everything asked for has come (or the peer said it cannot
//! give it), at [`VisitConfig::wait`] at the latest, or when the connection ends.
//! Everything it keeps is bounded: the session caps each PEX message at 500 peers
//! and accepts two a minute; a visit keeps at most [`MAX_PEX_KEPT`] of them, at most
//! [`MAX_HAVES`] `have` messages, and one bitfield no longer than the session's
//! largest message.

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use swarmlab_bt::{Connection, ConnectionError};
use swarmlab_bt_wire::metainfo::Info;
use swarmlab_bt_wire::session::{Event, PieceLayout, SessionConfig, Torrent};
use swarmlab_bt_wire::{InfoHash, PeerId};

/// Most PEX peers one visit keeps.
pub const MAX_PEX_KEPT: usize = 500;

/// Most `have` messages one visit keeps (beyond the torrent's pieces, none is kept).
pub const MAX_HAVES: usize = 65_536;

/// What a visit asks for, and how long it may take.
#[derive(Debug, Clone)]
pub struct VisitConfig {
    /// Time allowed for the TCP connect.
    pub connect_timeout: Duration,
    /// Time allowed for the whole visit.
    pub wait: Duration,
    /// Ask for the info dictionary (when the peer offers it).
    pub metadata: bool,
    /// Wait for a ut_pex message (when the peer offers ut_pex).
    pub pex: bool,
    /// Wait for the DHT `port` message (when the peer set the DHT bit).
    pub port: bool,
}

impl VisitConfig {
    /// Connect within 3 s, visit for at most `wait`, ask for nothing.
    pub fn new(wait: Duration) -> VisitConfig {
        VisitConfig {
            connect_timeout: Duration::from_secs(3),
            wait,
            metadata: false,
            pex: false,
            port: false,
        }
    }
}

/// The pieces a peer said it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// `have_all`.
    pub all: bool,
    /// The bitfield, as sent.
    pub bitfield: Vec<u8>,
    /// Pieces of `have` messages since.
    pub haves: Vec<u32>,
}

impl Holdings {
    /// True when the peer said it has piece `i`.
    pub fn has(&self, i: usize) -> bool {
        self.all
            || self
                .bitfield
                .get(i / 8)
                .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
            || u32::try_from(i).is_ok_and(|i| self.haves.contains(&i))
    }

    /// The pieces among the first `n` that the peer has (in time linear in `n` and
    /// the haves: a peer's 65,536 haves cost one pass).
    pub fn indices(&self, n: usize) -> Vec<usize> {
        if self.all {
            return (0..n).collect();
        }
        let mut held = vec![false; n];
        for (i, h) in held.iter_mut().enumerate() {
            *h = self
                .bitfield
                .get(i / 8)
                .is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
        }
        for &i in &self.haves {
            if let Some(h) = held.get_mut(i as usize) {
                *h = true;
            }
        }
        (0..n).filter(|&i| held[i]).collect()
    }
}

/// What one visit learned.
#[derive(Debug)]
pub struct Visit {
    /// The peer.
    pub addr: SocketAddr,
    /// Both handshakes completed (the peer serves this file id).
    pub established: bool,
    /// Its pieces, when it announced them.
    pub holdings: Option<Holdings>,
    /// The port of its DHT node.
    pub dht_port: Option<u16>,
    /// Peers its ut_pex messages listed (valid addresses, without duplicates, at most
    /// [`MAX_PEX_KEPT`]).
    pub pex: Vec<SocketAddr>,
    /// ut_pex messages received and taken.
    pub pex_messages: u64,
    /// ut_pex messages the session ignored for coming too often.
    pub pex_ignored: u64,
    /// PEX entries left out by the caps.
    pub pex_truncated: usize,
    /// The info dictionary, verified against the file id.
    pub metadata: Option<Vec<u8>>,
    /// Protocol violations the session counted and ignored.
    pub misbehaviours: u64,
    /// Why the visit ended before it had everything, if it did.
    pub error: Option<ConnectionError>,
}

/// A fresh peer id: `-SL0001-` and 12 random hex digits.
fn peer_id() -> PeerId {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(b"-SL0001-");
    let tail: [u8; 6] = rand::thread_rng().gen();
    id[8..].copy_from_slice(hex::encode(tail).as_bytes());
    id
}

/// Visits `addr` for `file_id`. `info`, when known, lets the session check the
/// peer's bitfield and haves against the piece count.
pub async fn visit(
    addr: SocketAddr,
    file_id: InfoHash,
    info: Option<&Info>,
    cfg: &VisitConfig,
) -> Visit {
    let mut v = Visit {
        addr,
        established: false,
        holdings: None,
        dht_port: None,
        pex: Vec::new(),
        pex_messages: 0,
        pex_ignored: 0,
        pex_truncated: 0,
        metadata: None,
        misbehaviours: 0,
        error: None,
    };
    let torrent = Torrent {
        info_hash: file_id,
        layout: info.and_then(PieceLayout::of),
        metadata: None,
    };
    let pieces = info.map(|i| i.pieces.len());
    let mut conn = match Connection::connect(
        addr,
        cfg.connect_timeout,
        SessionConfig::new(peer_id()),
        torrent,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            v.error = Some(e);
            return v;
        }
    };
    let deadline = tokio::time::Instant::now() + cfg.wait;
    let mut w = Wants::default();
    loop {
        let ev = match conn.next_event_until(Some(deadline)).await {
            Ok(Some(ev)) => ev,
            Ok(None) => break,
            Err(e) => {
                v.error = Some(e);
                break;
            }
        };
        match ev {
            Event::Established(hs) => {
                v.established = true;
                w.ext = hs.supports_extensions();
                w.dht = hs.supports_dht();
            }
            Event::ExtHandshake(h) => {
                w.ext_seen = true;
                w.pex_offered = h.id_of("ut_pex").is_some();
                w.metadata_offered = h.id_of("ut_metadata").is_some() && h.metadata_size.is_some();
                if cfg.metadata && w.metadata_offered {
                    if let Err(e) = conn.session_mut().request_metadata() {
                        tracing::debug!(%addr, "cannot ask for the metadata: {e}");
                        w.metadata_offered = false;
                    }
                }
            }
            Event::Bitfield(bits) => {
                holdings(&mut v).bitfield = bits;
            }
            Event::HaveAll => holdings(&mut v).all = true,
            Event::HaveNone => {
                holdings(&mut v);
            }
            Event::Have(i) => {
                let h = holdings(&mut v);
                if h.haves.len() < MAX_HAVES && pieces.is_none_or(|n| (i as usize) < n) {
                    h.haves.push(i);
                }
            }
            Event::DhtPort(p) if p != 0 => v.dht_port = Some(p),
            Event::Pex(m) => {
                v.pex_messages += 1;
                v.pex_truncated += m.truncated;
                for a in m.added {
                    let a = swarmlab_net::canonical(a);
                    if !swarmlab_net::is_valid_peer(&a) || a == addr || v.pex.contains(&a) {
                        continue;
                    }
                    if v.pex.len() >= MAX_PEX_KEPT {
                        v.pex_truncated += 1;
                    } else {
                        v.pex.push(a);
                    }
                }
                w.pex_seen = true;
            }
            Event::Metadata(raw) => v.metadata = Some(raw),
            Event::MetadataRejected(_) => w.metadata_offered = false,
            Event::Misbehaviour(m) => {
                tracing::debug!(%addr, "{m}");
            }
            _ => {}
        }
        if w.done(&v, cfg) {
            break;
        }
    }
    let stats = conn.session().stats();
    v.pex_ignored = stats.pex_ignored;
    v.misbehaviours = stats.misbehaviours;
    v
}

/// The visit's holdings, created at the peer's first announcement.
fn holdings(v: &mut Visit) -> &mut Holdings {
    v.holdings.get_or_insert_with(Holdings::default)
}

/// What the peer offered, to know when a visit has all it can get.
#[derive(Debug, Default)]
struct Wants {
    ext: bool,
    dht: bool,
    ext_seen: bool,
    pex_offered: bool,
    pex_seen: bool,
    metadata_offered: bool,
}

impl Wants {
    fn done(&self, v: &Visit, cfg: &VisitConfig) -> bool {
        v.established
            && (self.ext_seen || !self.ext)
            && v.holdings.is_some()
            && (!cfg.metadata || v.metadata.is_some() || !self.metadata_offered)
            && (!cfg.pex || self.pex_seen || !self.pex_offered)
            && (!cfg.port || v.dht_port.is_some() || !self.dht)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::test_peer::{self, info_of, write_chunks, Script};

    fn data() -> Vec<u8> {
        (0..10_000u32).map(|i| (i * 7) as u8).collect()
    }

    #[tokio::test]
    async fn a_visit_learns_pieces_dht_port_pex_and_the_verified_metadata() {
        let d = tempfile::tempdir().unwrap();
        let data = data();
        let info = info_of("f.bin", &data, 1000);
        write_chunks(d.path(), &data, 1000, |i| i % 2 == 0);
        let listed: SocketAddr = "127.160.0.9:7000".parse().unwrap();
        let peer = test_peer::start(
            "127.160.0.1:0",
            d.path().to_path_buf(),
            Script {
                info: Some(info.clone()),
                dht_port: Some(6881),
                pex: vec![listed, "0.0.0.0:1".parse().unwrap()],
                pex_messages: 1,
                ..Script::default()
            },
        )
        .await;
        let mut cfg = VisitConfig::new(Duration::from_secs(20));
        cfg.metadata = true;
        cfg.pex = true;
        cfg.port = true;
        let v = visit(peer.addr, info.info_hash, None, &cfg).await;
        assert!(v.established, "{:?}", v.error);
        assert_eq!(v.holdings.unwrap().indices(10), [0, 2, 4, 6, 8]);
        assert_eq!(v.dht_port, Some(6881));
        assert_eq!(v.pex, [listed], "the invalid address is dropped");
        assert_eq!(
            Info::from_bytes(&v.metadata.unwrap()).unwrap().info_hash,
            info.info_hash
        );
        assert!(v.error.is_none());
    }

    #[tokio::test]
    async fn a_peer_of_another_file_is_not_established() {
        let d = tempfile::tempdir().unwrap();
        let data = data();
        let info = info_of("f.bin", &data, 1000);
        let peer = test_peer::start(
            "127.160.0.2:0",
            d.path().to_path_buf(),
            Script {
                info: Some(info),
                ..Script::default()
            },
        )
        .await;
        let v = visit(
            peer.addr,
            InfoHash([1; 20]),
            None,
            &VisitConfig::new(Duration::from_secs(20)),
        )
        .await;
        assert!(!v.established);
        assert!(v.holdings.is_none());
        assert!(v.error.is_some());
    }

    #[tokio::test]
    async fn a_pex_flood_is_capped_and_counted() {
        // 5,000 peers per message, 10 messages a second, all read before the visit
        // has the pieces it waits for.
        let d = tempfile::tempdir().unwrap();
        let data = data();
        let info = info_of("f.bin", &data, 1000);
        let flood: Vec<SocketAddr> = (0..5000u32)
            .map(|i| SocketAddr::from(([127, 161, (i >> 8) as u8, i as u8], 7000)))
            .collect();
        let peer = test_peer::start(
            "127.160.0.3:0",
            d.path().to_path_buf(),
            Script {
                info: Some(info.clone()),
                pieces: Some(vec![1]),
                pex: flood.clone(),
                pex_messages: 10,
                pex_every: Duration::from_millis(100),
                pex_rotate: 500,
                pieces_after_pex: true,
                ..Script::default()
            },
        )
        .await;
        let mut cfg = VisitConfig::new(Duration::from_secs(30));
        cfg.pex = true;
        let v = visit(peer.addr, info.info_hash, Some(&info), &cfg).await;
        assert_eq!(v.holdings.unwrap().indices(10), [1]);
        assert_eq!(v.pex_messages, 2, "BEP 11: two messages a minute are taken");
        assert_eq!(v.pex_ignored, 8, "the other eight are counted and ignored");
        assert_eq!(v.pex.len(), MAX_PEX_KEPT);
        assert_eq!(v.pex[..], flood[..MAX_PEX_KEPT]);
        // The session keeps 500 of each message's 5,000 (each message starts 500
        // further on); the visit keeps 500 in all.
        assert_eq!(v.pex_truncated, 2 * (5000 - 500) + 500);
    }

    #[tokio::test]
    async fn a_flood_of_haves_is_capped() {
        let d = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..70_000u32).map(|i| (i >> 3) as u8).collect();
        let info = info_of("h.bin", &data, 1);
        let peer = test_peer::start(
            "127.160.0.4:0",
            d.path().to_path_buf(),
            Script {
                info: Some(info.clone()),
                haves: Some(70_000),
                pex: vec!["127.160.0.9:1".parse().unwrap()],
                pex_messages: 1,
                ..Script::default()
            },
        )
        .await;
        let mut cfg = VisitConfig::new(Duration::from_secs(60));
        cfg.pex = true;
        // Without the info dictionary, no have is out of range: only the cap holds.
        let v = visit(peer.addr, info.info_hash, None, &cfg).await;
        assert_eq!(v.pex.len(), 1, "{:?}", v.error);
        let h = v.holdings.unwrap();
        assert_eq!(h.haves.len(), MAX_HAVES);
        assert_eq!(h.indices(70_000), (0..MAX_HAVES).collect::<Vec<_>>());
    }
}
