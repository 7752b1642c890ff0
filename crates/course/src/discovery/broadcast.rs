//! Step 3's source: DISCOVER_TRACKER broadcast on UDP, then GET_FILE_INFO to the
//! trackers that answered.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures::future::BoxFuture;
use swarmlab_course_wire::{Message, TrackerInfo, UdpAssembler};
use tokio::net::UdpSocket;

use crate::discovery::{get_file_info, Cost, Found, PeerSource, Query};
use crate::error::DiscoveryError;

/// A tracker that answered a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What it said: its TCP address and name.
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

/// The largest discovery reply read (a UDP datagram holds no more).
const MAX_DATAGRAM: usize = 65536;

/// Broadcasts DISCOVER_TRACKER to every destination on `port` and collects
/// TRACKER_INFO replies for `wait`, in order of arrival, without duplicates. A reply
/// in one datagram and a reply split in two (the 8-byte header, then the body from the
/// same source, rule 4.5) are both taken.
pub async fn discover_trackers(
    dests: &[Ipv4Addr],
    port: u16,
    wait: Duration,
) -> Result<Vec<Answer>, DiscoveryError> {
    let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .await
        .map_err(DiscoveryError::Socket)?;
    sock.set_broadcast(true).map_err(DiscoveryError::Socket)?;
    let probe = Message::DiscoverTracker.encode().unwrap_or_default();
    let mut sent = 0;
    let mut last_err = None;
    for d in dests {
        match sock.send_to(&probe, (*d, port)).await {
            Ok(_) => sent += 1,
            Err(e) => {
                tracing::warn!("DISCOVER_TRACKER to {d}:{port}: {e}");
                last_err = Some(e);
            }
        }
    }
    if sent == 0 {
        return Err(DiscoveryError::SendFailed {
            dests: dests.to_vec(),
            source: last_err.unwrap_or_else(|| std::io::Error::other("no destination")),
        });
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut answers: Vec<Answer> = Vec::new();
    let mut assembler = UdpAssembler::new(MAX_PENDING_HALVES, MAX_DATAGRAM);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = match tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await {
            Err(_) => break,
            Ok(Err(e)) => {
                tracing::debug!("discovery recv: {e}");
                continue;
            }
            Ok(Ok(x)) => x,
        };
        match assembler.push(from, &buf[..n]) {
            None => {} // a header: its body follows
            Some(Ok(Message::TrackerInfo(info))) => {
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
            Some(Ok(Message::Error(code))) => {
                tracing::warn!(%from, "discovery answered ERROR {code}")
            }
            Some(Ok(m)) => {
                tracing::warn!(%from, "unexpected {:?} on the discovery socket", m.msg_type())
            }
            Some(Err(e)) => tracing::warn!(%from, "invalid discovery reply: {e}"),
        }
    }
    if answers.is_empty() {
        return Err(DiscoveryError::NoTracker {
            port,
            wait,
            dests: dests.to_vec(),
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
    /// Where DISCOVER_TRACKER goes.
    pub destinations: Vec<Ipv4Addr>,
    /// The UDP port of discovery.
    pub port: u16,
    /// How long replies are collected.
    pub wait: Duration,
    /// Trackers of this name are asked first.
    pub preferred_name: String,
    /// Time allowed for the exchange with each tracker.
    pub timeout: Duration,
    /// What it spent so far.
    pub cost: Cost,
}

impl PeerSource for BroadcastSource {
    fn name(&self) -> &str {
        "broadcast"
    }

    fn discover<'a>(&'a mut self, _q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            self.cost.datagrams += self.destinations.len() as u64;
            let answers = discover_trackers(&self.destinations, self.port, self.wait).await?;
            let n = answers.len();
            let mut last_err = None;
            for a in tracker_order(answers, &self.preferred_name) {
                self.cost.connections += 1;
                match get_file_info(SocketAddr::V4(a.info.addr), self.timeout).await {
                    Ok(fi) => {
                        let detail = format!(
                            "{n} tracker(s) answered; {} chunks of {} from tracker {:?} at {}",
                            fi.chunks.len(),
                            fi.filename,
                            a.info.name,
                            a.info.addr
                        );
                        return Ok(Found::from_file_info(fi, detail));
                    }
                    Err(e) => {
                        tracing::warn!("{e}; trying the next tracker");
                        last_err = Some(e);
                    }
                }
            }
            // discover_trackers returns at least one answer, so some tracker failed.
            Err(last_err.unwrap_or(DiscoveryError::NoTracker {
                port: self.port,
                wait: self.wait,
                dests: self.destinations.clone(),
            }))
        })
    }

    fn cost(&self) -> Cost {
        self.cost
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddrV4;

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
}
