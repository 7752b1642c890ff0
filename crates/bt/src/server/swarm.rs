//! The peers a server knows per torrent, and the ut_pex list each connection sends.
//!
//! A peer that connected and said its listen port (`p` in its extension handshake)
//! is reachable at (its IP, that port): the server lists it to the torrent's other
//! peers, beside the peers its [`super::PieceSource`] knows. A connection's list
//! leaves out the peer itself; [`PexState`] remembers what was sent to it, so the
//! next message carries what was added and what dropped since (BEP 11).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use swarmlab_bt_wire::InfoHash;
use swarmlab_net::{canonical, is_valid_peer};

use super::choker::ConnId;

/// Listen addresses of the connected peers, per torrent.
#[derive(Debug, Default)]
pub(crate) struct Swarm {
    torrents: HashMap<InfoHash, HashMap<ConnId, SocketAddr>>,
}

impl Swarm {
    /// Peer `id` of torrent `ih` listens on `addr`.
    pub(crate) fn joined(&mut self, ih: InfoHash, id: ConnId, addr: SocketAddr) {
        self.torrents
            .entry(ih)
            .or_default()
            .insert(id, canonical(addr));
    }

    /// Peer `id` left.
    pub(crate) fn left(&mut self, ih: &InfoHash, id: ConnId) {
        if let Some(t) = self.torrents.get_mut(ih) {
            t.remove(&id);
            if t.is_empty() {
                self.torrents.remove(ih);
            }
        }
    }

    /// The listen addresses of torrent `ih`'s peers other than `id`.
    pub(crate) fn others(&self, ih: &InfoHash, id: ConnId) -> Vec<SocketAddr> {
        self.torrents
            .get(ih)
            .map(|t| {
                t.iter()
                    .filter(|(c, _)| **c != id)
                    .map(|(_, a)| *a)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The recipient of a PEX list: its IP and the ports it is known by (the one it
/// connected from, and its listen port).
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub(crate) ip: IpAddr,
    pub(crate) ports: Vec<u16>,
}

impl Recipient {
    fn is(&self, a: &SocketAddr) -> bool {
        a.ip() == self.ip && self.ports.contains(&a.port())
    }
}

/// The peers to list to `to`: `candidates` in order, canonical, valid, without
/// duplicates and without `to` itself, at most `max`.
pub(crate) fn pex_list(
    candidates: impl IntoIterator<Item = SocketAddr>,
    to: &Recipient,
    max: usize,
) -> Vec<SocketAddr> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in candidates {
        let a = canonical(a);
        if out.len() >= max {
            break;
        }
        if is_valid_peer(&a) && !to.is(&a) && seen.insert(a) {
            out.push(a);
        }
    }
    out
}

/// What one connection has listed to its peer.
#[derive(Debug, Default)]
pub(crate) struct PexState {
    sent: HashSet<SocketAddr>,
}

impl PexState {
    /// The change from what was sent to `now`: (added, dropped). Empty when nothing
    /// changed.
    pub(crate) fn diff(&self, now: &[SocketAddr]) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
        let current: HashSet<&SocketAddr> = now.iter().collect();
        let added = now
            .iter()
            .filter(|a| !self.sent.contains(a))
            .copied()
            .collect();
        let dropped = self
            .sent
            .iter()
            .filter(|a| !current.contains(a))
            .copied()
            .collect();
        (added, dropped)
    }

    /// The session sent the first `added` and `dropped` of a diff.
    pub(crate) fn sent(&mut self, added: &[SocketAddr], dropped: &[SocketAddr]) {
        self.sent.extend(added.iter().copied());
        for d in dropped {
            self.sent.remove(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_list_leaves_out_the_recipient_duplicates_and_invalid_addresses() {
        let to = Recipient {
            ip: "127.0.0.9".parse().unwrap(),
            ports: vec![40000, 6881],
        };
        let list = pex_list(
            [
                a("127.0.0.2:8001"),
                a("127.0.0.9:6881"),
                a("127.0.0.9:7000"),
                a("[::ffff:127.0.0.2]:8001"),
                a("0.0.0.0:1"),
                a("127.0.0.3:0"),
                a("127.0.0.3:8002"),
            ],
            &to,
            10,
        );
        assert_eq!(
            list,
            [
                a("127.0.0.2:8001"),
                a("127.0.0.9:7000"),
                a("127.0.0.3:8002")
            ]
        );
        assert_eq!(pex_list(list.clone(), &to, 1).len(), 1);
    }

    #[test]
    fn messages_carry_what_changed() {
        let mut s = PexState::default();
        let (added, dropped) = s.diff(&[a("127.0.0.2:1"), a("127.0.0.3:1")]);
        assert_eq!((added.len(), dropped.len()), (2, 0));
        s.sent(&added, &dropped);
        assert_eq!(
            s.diff(&[a("127.0.0.2:1"), a("127.0.0.3:1")]),
            (vec![], vec![])
        );
        let (added, dropped) = s.diff(&[a("127.0.0.3:1"), a("127.0.0.4:1")]);
        assert_eq!(
            (added, dropped.clone()),
            (vec![a("127.0.0.4:1")], vec![a("127.0.0.2:1")])
        );
    }

    #[test]
    fn the_swarm_lists_the_others() {
        let ih = InfoHash([1; 20]);
        let mut s = Swarm::default();
        s.joined(ih, 1, a("127.0.0.2:1"));
        s.joined(ih, 2, a("[::ffff:127.0.0.3]:1"));
        assert_eq!(s.others(&ih, 1), [a("127.0.0.3:1")]);
        s.left(&ih, 2);
        assert!(s.others(&ih, 1).is_empty());
        s.left(&ih, 1);
        assert!(s.torrents.is_empty());
    }
}
