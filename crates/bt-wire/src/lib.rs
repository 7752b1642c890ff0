//! BitTorrent wire formats and the peer session for swarmlab, with no sockets and
//! no clock (sans-IO).
//!
//! - [`bencode`]: a bounded bencode reader/writer and the span scanner that finds
//!   the exact bytes of a `.torrent`'s `info` dictionary.
//! - [`metainfo`]: `.torrent` files (v1, single- and multi-file) and info dictionaries.
//! - [`magnet`]: magnet links (`xt=urn:btih:` hex or base32, `dn`, `tr`, `x.pe`).
//! - [`percent`]: percent encoding of URL query components (trackers, magnets).
//! - [`wire`]: the peer-wire handshake and messages (BEP 3, BEP 6 fast extension,
//!   the DHT `port` message) with an incremental, length-capped [`wire::Decoder`].
//! - [`ext`]: the extension protocol (BEP 10) and its ut_metadata (BEP 9) and
//!   ut_pex (BEP 11) messages.
//! - [`session`]: one peer connection as a state machine, both roles (we dial or
//!   we were dialled): bytes in, bytes and events out, every rule of the messages
//!   above enforced. Drivers (the `swarmlab-bt` crate) move its bytes over TCP.
//! - [`tracker`]: HTTP announce URLs and responses (BEP 3, BEP 23) and the UDP
//!   tracker protocol (BEP 15).
//! - [`client`]: peer-id to client-name mapping (Azureus- and Shadow-style ids).
//! - [`error`]: every error type, one per format, all `#[non_exhaustive]`.
//!
//! The compact peer encoding (BEP 11, 15, 23) is `swarmlab_net::compact`.
#![forbid(unsafe_code)]

pub mod bencode;
pub mod client;
pub mod error;
pub mod ext;
pub mod magnet;
pub mod metainfo;
pub mod percent;
pub mod session;
pub mod tracker;
pub mod wire;

mod infohash;

pub use error::{
    AssembleError, BencodeError, CommandError, ExtError, InfoHashParseError, MagnetError,
    MetainfoError, PercentError, SessionError, TrackerError, WireError,
};
pub use infohash::{InfoHash, PeerId};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..200);
            let mut b: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            // Bias towards plausible starts.
            if rng.gen_bool(0.5) && !b.is_empty() {
                b[0] = *[b'd', b'l', b'i', b'1']
                    .get(rng.gen_range(0..4))
                    .unwrap_or(&b'd');
            }
            let _ = bencode::decode(&b);
            let _ = ext::ExtHandshake::decode(&b);
            let _ = ext::MetadataMsg::decode(&b);
            let _ = ext::PexMessage::decode(&b);
            let _ = tracker::parse_http_response(&b);
            let _ = tracker::udp_parse_request(&b);
            let _ = tracker::udp_parse_announce(&b, 0, rng.gen());
            let _ = metainfo::Metainfo::from_bytes(&b);
            let _ = metainfo::Info::from_bytes(&b);
            let _ = magnet::Magnet::parse(&String::from_utf8_lossy(&b));
            let _ = percent::decode(&String::from_utf8_lossy(&b));
            let mut d = wire::Decoder::new(1024);
            d.extend(&b);
            while let Ok(Some(_)) = d.next_message() {}
            if b.len() >= 20 {
                let id: [u8; 20] = b[..20].try_into().unwrap();
                let _ = client::client_from_peer_id(&id);
            }
        }
    }
}
