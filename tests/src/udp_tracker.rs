//! The server side of a BEP 15 UDP tracker, for the trackers tests run: one reply
//! per packet, the peers chosen by the test.

use std::net::SocketAddr;

use swarmlab_bt_wire::tracker::{self, UdpRequest};
use swarmlab_bt_wire::InfoHash;

/// The connection id a test tracker hands out (and wants back in announces).
pub const CONNECTION_ID: u64 = 0x1234_5678_9abc_def0;

/// A test tracker's reply to `packet`: a connect gets [`CONNECTION_ID`]; an
/// announce with it gets `answer(info_hash, port)`'s peers (or its error message)
/// and `interval`; an announce with another id gets an error; anything else, no
/// reply.
pub fn reply(
    packet: &[u8],
    interval: u32,
    answer: impl FnOnce(InfoHash, u16) -> Result<Vec<SocketAddr>, &'static str>,
) -> Option<Vec<u8>> {
    match tracker::udp_parse_request(packet).ok()? {
        UdpRequest::Connect { transaction_id } => {
            Some(tracker::udp_connect_response(transaction_id, CONNECTION_ID).to_vec())
        }
        UdpRequest::Announce {
            connection_id,
            transaction_id,
            info_hash,
            port,
        } => Some(if connection_id != CONNECTION_ID {
            tracker::udp_error_response(transaction_id, "bad connection id")
        } else {
            match answer(info_hash, port) {
                Ok(peers) => tracker::udp_announce_response(
                    transaction_id,
                    interval,
                    1,
                    peers.len() as u32,
                    &peers,
                ),
                Err(e) => tracker::udp_error_response(transaction_id, e),
            }
        }),
    }
}
