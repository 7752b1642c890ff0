//! Tracker protocols: HTTP announce (BEP 3, compact peers of BEP 23, `peers6` of
//! BEP 7) and the UDP tracker protocol (BEP 15). Codecs only; no sockets.

use crate::bencode::{self, Value};
use crate::error::TrackerError;
use crate::{percent, InfoHash, PeerId};
use std::net::SocketAddr;
use swarmlab_net::compact;

/// Most peers kept from one tracker response.
pub const MAX_TRACKER_PEERS: usize = 10_000;
/// The UDP tracker protocol's magic connection id.
pub const UDP_PROTOCOL_ID: u64 = 0x0417_2710_1980;

/// The `event` of an announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Regular announce.
    None,
    /// First announce.
    Started,
    /// Download finished.
    Completed,
    /// Leaving.
    Stopped,
}

impl Event {
    fn http(self) -> Option<&'static str> {
        match self {
            Event::None => None,
            Event::Started => Some("started"),
            Event::Completed => Some("completed"),
            Event::Stopped => Some("stopped"),
        }
    }
    fn udp(self) -> u32 {
        match self {
            Event::None => 0,
            Event::Completed => 1,
            Event::Started => 2,
            Event::Stopped => 3,
        }
    }
}

/// The parameters of an announce.
#[derive(Debug, Clone)]
pub struct Announce {
    /// Torrent.
    pub info_hash: InfoHash,
    /// Our peer id.
    pub peer_id: PeerId,
    /// Our listen port (the auditor does not listen: any port is fine).
    pub port: u16,
    /// Bytes uploaded.
    pub uploaded: u64,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// Bytes left.
    pub left: u64,
    /// Event.
    pub event: Event,
    /// Peers wanted.
    pub num_want: i32,
    /// Random key.
    pub key: u32,
}

impl Announce {
    /// The HTTP announce URL: `base` plus the query (appended with `?` or `&`).
    pub fn http_url(&self, base: &str) -> String {
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut url = format!(
            "{base}{sep}info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact=1&numwant={}&key={:08x}",
            percent::encode(&self.info_hash.0),
            percent::encode(&self.peer_id),
            self.port,
            self.uploaded,
            self.downloaded,
            self.left,
            self.num_want.max(0),
            self.key,
        );
        if let Some(e) = self.event.http() {
            url.push_str("&event=");
            url.push_str(e);
        }
        url
    }

    /// A BEP 15 announce packet for `connection_id`.
    pub fn udp_packet(&self, connection_id: u64, transaction_id: u32) -> [u8; 98] {
        let mut p = [0u8; 98];
        p[0..8].copy_from_slice(&connection_id.to_be_bytes());
        p[8..12].copy_from_slice(&1u32.to_be_bytes());
        p[12..16].copy_from_slice(&transaction_id.to_be_bytes());
        p[16..36].copy_from_slice(&self.info_hash.0);
        p[36..56].copy_from_slice(&self.peer_id);
        p[56..64].copy_from_slice(&self.downloaded.to_be_bytes());
        p[64..72].copy_from_slice(&self.left.to_be_bytes());
        p[72..80].copy_from_slice(&self.uploaded.to_be_bytes());
        p[80..84].copy_from_slice(&self.event.udp().to_be_bytes());
        // 84..88: IP address 0 = the sender's.
        p[88..92].copy_from_slice(&self.key.to_be_bytes());
        p[92..96].copy_from_slice(&self.num_want.to_be_bytes());
        p[96..98].copy_from_slice(&self.port.to_be_bytes());
        p
    }
}

/// A successful announce response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnounceResponse {
    /// Seconds to wait before re-announcing.
    pub interval: Option<u32>,
    /// Seeds, if the tracker says.
    pub complete: Option<u32>,
    /// Leechers, if the tracker says.
    pub incomplete: Option<u32>,
    /// Peers, at most [`MAX_TRACKER_PEERS`].
    pub peers: Vec<SocketAddr>,
    /// `warning message`, if any.
    pub warning: Option<String>,
}

fn int_u32(v: &Value, k: &str) -> Option<u32> {
    v.get(k)
        .and_then(Value::as_int)
        .and_then(|i| u32::try_from(i).ok())
}

/// Parse the body of an HTTP announce response.
pub fn parse_http_response(body: &[u8]) -> Result<AnnounceResponse, TrackerError> {
    let v = bencode::decode(body)?;
    if v.as_dict().is_none() {
        return Err(TrackerError::NotDict);
    }
    if let Some(f) = v.get("failure reason") {
        let msg = f
            .as_bytes()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        return Err(TrackerError::Failure(msg.chars().take(512).collect()));
    }
    let mut r = AnnounceResponse {
        interval: int_u32(&v, "interval"),
        complete: int_u32(&v, "complete"),
        incomplete: int_u32(&v, "incomplete"),
        warning: v
            .get("warning message")
            .and_then(Value::as_bytes)
            .map(|b| String::from_utf8_lossy(b).chars().take(512).collect()),
        peers: Vec::new(),
    };
    match v.get("peers") {
        Some(Value::Bytes(b)) => r.peers = compact::decode_peers4(b, MAX_TRACKER_PEERS),
        Some(Value::List(list)) => {
            for p in list.iter().take(MAX_TRACKER_PEERS) {
                let ip = p
                    .get("ip")
                    .and_then(Value::as_bytes)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|s| s.parse::<std::net::IpAddr>().ok());
                let port = p
                    .get("port")
                    .and_then(Value::as_int)
                    .and_then(|i| u16::try_from(i).ok());
                if let (Some(ip), Some(port)) = (ip, port) {
                    r.peers.push(SocketAddr::new(ip, port));
                }
            }
        }
        None => {}
        Some(_) => return Err(TrackerError::PeersType),
    }
    if let Some(b) = v.get("peers6").and_then(Value::as_bytes) {
        let room = MAX_TRACKER_PEERS - r.peers.len();
        r.peers.extend(compact::decode_peers6(b, room));
    }
    Ok(r)
}

/// A BEP 15 connect request.
pub fn udp_connect_request(transaction_id: u32) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[0..8].copy_from_slice(&UDP_PROTOCOL_ID.to_be_bytes());
    // action 0 = connect
    p[12..16].copy_from_slice(&transaction_id.to_be_bytes());
    p
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn check_header(p: &[u8], action: u32, tid: u32) -> Result<(), TrackerError> {
    if p.len() < 8 {
        return Err(TrackerError::BadPacket("shorter than 8 bytes"));
    }
    if be32(&p[4..]) != tid {
        return Err(TrackerError::BadPacket("transaction id mismatch"));
    }
    let a = be32(p);
    if a == 3 {
        let msg = String::from_utf8_lossy(&p[8..p.len().min(520)]).into_owned();
        return Err(TrackerError::Failure(msg));
    }
    if a != action {
        return Err(TrackerError::BadPacket("unexpected action"));
    }
    Ok(())
}

/// Parse a connect response; returns the connection id.
pub fn udp_parse_connect(p: &[u8], transaction_id: u32) -> Result<u64, TrackerError> {
    check_header(p, 0, transaction_id)?;
    if p.len() < 16 {
        return Err(TrackerError::BadPacket(
            "connect response shorter than 16 bytes",
        ));
    }
    Ok(u64::from_be_bytes(p[8..16].try_into().expect("8 bytes")))
}

/// Parse an announce response. `ipv6` selects 18-byte peer entries (a tracker
/// reached over IPv6 answers with IPv6 peers).
pub fn udp_parse_announce(
    p: &[u8],
    transaction_id: u32,
    ipv6: bool,
) -> Result<AnnounceResponse, TrackerError> {
    check_header(p, 1, transaction_id)?;
    if p.len() < 20 {
        return Err(TrackerError::BadPacket(
            "announce response shorter than 20 bytes",
        ));
    }
    let peers = if ipv6 {
        compact::decode_peers6(&p[20..], MAX_TRACKER_PEERS)
    } else {
        compact::decode_peers4(&p[20..], MAX_TRACKER_PEERS)
    };
    Ok(AnnounceResponse {
        interval: Some(be32(&p[8..])),
        incomplete: Some(be32(&p[12..])),
        complete: Some(be32(&p[16..])),
        peers,
        warning: None,
    })
}

/// Server side of BEP 15 (used by test trackers): a parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpRequest {
    /// Connect, with its transaction id.
    Connect {
        /// Transaction id.
        transaction_id: u32,
    },
    /// Announce.
    Announce {
        /// Connection id the client got from connect.
        connection_id: u64,
        /// Transaction id.
        transaction_id: u32,
        /// Info-hash.
        info_hash: InfoHash,
        /// The client's port.
        port: u16,
    },
}

/// Parse a UDP tracker request (server side).
pub fn udp_parse_request(p: &[u8]) -> Result<UdpRequest, TrackerError> {
    if p.len() < 16 {
        return Err(TrackerError::BadPacket("request shorter than 16 bytes"));
    }
    let cid = u64::from_be_bytes(p[0..8].try_into().expect("8 bytes"));
    let action = be32(&p[8..]);
    let tid = be32(&p[12..]);
    match action {
        0 if cid == UDP_PROTOCOL_ID => Ok(UdpRequest::Connect {
            transaction_id: tid,
        }),
        1 if p.len() >= 98 => Ok(UdpRequest::Announce {
            connection_id: cid,
            transaction_id: tid,
            info_hash: InfoHash(p[16..36].try_into().expect("20 bytes")),
            port: u16::from_be_bytes([p[96], p[97]]),
        }),
        _ => Err(TrackerError::BadPacket("unknown request")),
    }
}

/// Server side: a connect response.
pub fn udp_connect_response(transaction_id: u32, connection_id: u64) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[4..8].copy_from_slice(&transaction_id.to_be_bytes());
    p[8..16].copy_from_slice(&connection_id.to_be_bytes());
    p
}

/// Server side: an announce response with IPv4 peers.
pub fn udp_announce_response(
    transaction_id: u32,
    interval: u32,
    leechers: u32,
    seeders: u32,
    peers: &[SocketAddr],
) -> Vec<u8> {
    let mut p = Vec::with_capacity(20 + peers.len() * 6);
    p.extend_from_slice(&1u32.to_be_bytes());
    p.extend_from_slice(&transaction_id.to_be_bytes());
    p.extend_from_slice(&interval.to_be_bytes());
    p.extend_from_slice(&leechers.to_be_bytes());
    p.extend_from_slice(&seeders.to_be_bytes());
    p.extend(compact::encode_peers(peers).0);
    p
}

/// Server side: an error response.
pub fn udp_error_response(transaction_id: u32, message: &str) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&3u32.to_be_bytes());
    p.extend_from_slice(&transaction_id.to_be_bytes());
    p.extend_from_slice(message.as_bytes());
    p
}

/// Server side: encode an HTTP announce response body with compact peers.
pub fn http_response_body(interval: u32, peers: &[SocketAddr]) -> Vec<u8> {
    let (v4, v6) = compact::encode_peers(peers);
    let mut entries = vec![
        ("interval", Value::Int(i64::from(interval))),
        ("peers", Value::Bytes(v4)),
    ];
    if !v6.is_empty() {
        entries.push(("peers6", Value::Bytes(v6)));
    }
    bencode::dict(entries).encode()
}

/// Server side: extract the raw `info_hash` from an HTTP announce query string.
pub fn http_query_info_hash(query: &str) -> Option<InfoHash> {
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("info_hash=") {
            let raw = percent::decode(v).ok()?;
            return raw.try_into().ok().map(InfoHash);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announce() -> Announce {
        Announce {
            info_hash: InfoHash([0xab; 20]),
            peer_id: *b"-SL0001-aaaaaaaaaaa ",
            port: 6881,
            uploaded: 0,
            downloaded: 0,
            left: 100,
            event: Event::Started,
            num_want: 200,
            key: 7,
        }
    }

    #[test]
    fn http_url_is_percent_encoded() {
        let u = announce().http_url("http://127.0.0.1:8000/announce");
        assert!(u.starts_with("http://127.0.0.1:8000/announce?info_hash=%AB%AB"));
        assert!(u.contains("&peer_id=-SL0001-aaaaaaaaaaa%20&"));
        assert!(u.contains("&compact=1"));
        assert!(u.ends_with("&event=started"));
        let q = u.split_once('?').unwrap().1;
        assert_eq!(http_query_info_hash(q), Some(InfoHash([0xab; 20])));
        let u = announce().http_url("http://t/announce?passkey=x");
        assert!(u.starts_with("http://t/announce?passkey=x&info_hash="));
    }

    #[test]
    fn http_responses() {
        let peers: Vec<SocketAddr> =
            vec!["127.0.0.2:1".parse().unwrap(), "[::1]:5".parse().unwrap()];
        let r = parse_http_response(&http_response_body(900, &peers)).unwrap();
        assert_eq!(r.interval, Some(900));
        assert_eq!(r.peers, peers);
        let dict_peers = b"d8:intervali60e5:peersld2:ip9:127.0.0.37:peer id20:xxxxxxxxxxxxxxxxxxxx4:porti99eed2:ip3:bad4:porti1eeee";
        let r = parse_http_response(dict_peers).unwrap();
        assert_eq!(r.peers, vec!["127.0.0.3:99".parse::<SocketAddr>().unwrap()]);
        assert_eq!(
            parse_http_response(b"d14:failure reason12:unregisterede"),
            Err(TrackerError::Failure("unregistered".into()))
        );
        assert!(matches!(
            parse_http_response(b"<html>"),
            Err(TrackerError::Bencode(_))
        ));
        assert_eq!(parse_http_response(b"le"), Err(TrackerError::NotDict));
        assert_eq!(
            parse_http_response(b"d5:peersi1ee"),
            Err(TrackerError::PeersType)
        );
    }

    #[test]
    fn udp_roundtrip() {
        let c = udp_connect_request(42);
        assert_eq!(
            udp_parse_request(&c),
            Ok(UdpRequest::Connect { transaction_id: 42 })
        );
        let resp = udp_connect_response(42, 0xdead);
        assert_eq!(udp_parse_connect(&resp, 42), Ok(0xdead));
        assert!(udp_parse_connect(&resp, 43).is_err());
        let a = announce().udp_packet(0xdead, 43);
        match udp_parse_request(&a).unwrap() {
            UdpRequest::Announce {
                connection_id,
                transaction_id,
                info_hash,
                port,
            } => {
                assert_eq!((connection_id, transaction_id, port), (0xdead, 43, 6881));
                assert_eq!(info_hash, InfoHash([0xab; 20]));
            }
            other => panic!("{other:?}"),
        }
        let peers: Vec<SocketAddr> = vec!["127.0.0.2:1".parse().unwrap()];
        let r =
            udp_parse_announce(&udp_announce_response(43, 60, 1, 2, &peers), 43, false).unwrap();
        assert_eq!(r.peers, peers);
        assert_eq!((r.complete, r.incomplete), (Some(2), Some(1)));
        assert_eq!(
            udp_parse_announce(&udp_error_response(43, "nope"), 43, false),
            Err(TrackerError::Failure("nope".into()))
        );
        assert!(udp_parse_announce(&[0u8; 7], 43, false).is_err());
        assert!(udp_parse_request(&[0u8; 3]).is_err());
    }

    fn many(n: u32) -> Vec<SocketAddr> {
        (0..n)
            .map(|i| SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 6881)))
            .collect()
    }

    /// `MAX_TRACKER_PEERS` holds for every form a tracker can list peers in; each
    /// assertion fails without the cap (12,000 peers would be kept).
    #[test]
    fn peer_lists_are_capped() {
        let peers = many(12_000);
        let r = parse_http_response(&http_response_body(60, &peers)).unwrap();
        assert_eq!(r.peers.len(), MAX_TRACKER_PEERS, "compact peers");
        assert_eq!(r.peers[..], peers[..MAX_TRACKER_PEERS]);

        let list: Vec<Value> = peers
            .iter()
            .map(|p| {
                bencode::dict([
                    ("ip", Value::bytes(p.ip().to_string())),
                    ("port", Value::Int(i64::from(p.port()))),
                ])
            })
            .collect();
        let body = bencode::dict([("peers", Value::List(list))]).encode();
        let r = parse_http_response(&body).unwrap();
        assert_eq!(r.peers.len(), MAX_TRACKER_PEERS, "dictionary peers");

        // IPv6 peers only fill the room the IPv4 ones left.
        let v6: Vec<SocketAddr> = (0..100u16)
            .map(|i| SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, i + 1)))
            .collect();
        let mut mixed = many(MAX_TRACKER_PEERS as u32 - 10);
        mixed.extend(&v6);
        let r = parse_http_response(&http_response_body(60, &mixed)).unwrap();
        assert_eq!(r.peers.len(), MAX_TRACKER_PEERS, "peers6 after peers");
        assert_eq!(r.peers.iter().filter(|p| p.is_ipv6()).count(), 10);

        let udp = udp_announce_response(5, 60, 0, 0, &peers);
        let r = udp_parse_announce(&udp, 5, false).unwrap();
        assert_eq!(r.peers.len(), MAX_TRACKER_PEERS, "UDP announce");
    }
}
