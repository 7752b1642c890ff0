//! What a round is given: its settings ([`AuditConfig`]) and the inputs beyond the
//! target ([`RoundInputs`]: extra trackers, peers given by hand, the DHT).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::dht::DhtLookup;

/// Settings of an audit round. `Default` gives the command line's defaults.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Most peer connections at once (`--max-conns`).
    pub max_conns: usize,
    /// TCP connect timeout (the handshake gets twice this, at least 2 s).
    pub connect_timeout: Duration,
    /// Most time spent with one peer.
    pub peer_budget: Duration,
    /// Time to stay after the basic exchange, to watch haves and PEX.
    pub linger: Duration,
    /// Pieces to download and verify per peer (0 = none).
    pub probe_pieces: usize,
    /// Connect to peers learned through PEX.
    pub follow_pex: bool,
    /// Most distinct addresses audited per round.
    pub max_peers: usize,
    /// HTTP tracker and DHT timeout.
    pub tracker_timeout: Duration,
    /// UDP tracker base timeout.
    pub udp_base_timeout: Duration,
    /// UDP tracker retries.
    pub udp_retries: u32,
    /// Ask the DHT (when one is given).
    pub use_dht: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            max_conns: 200,
            connect_timeout: Duration::from_secs(5),
            peer_budget: Duration::from_secs(30),
            linger: Duration::from_secs(10),
            probe_pieces: 0,
            follow_pex: true,
            max_peers: 5000,
            tracker_timeout: Duration::from_secs(15),
            udp_base_timeout: Duration::from_secs(15),
            udp_retries: 2,
            use_dht: true,
        }
    }
}

/// The peers and extra inputs of a round, beyond the target itself.
#[derive(Clone, Default)]
pub struct RoundInputs {
    /// Extra tracker URLs.
    pub trackers: Vec<String>,
    /// Extra peers given by hand.
    pub peers: Vec<SocketAddr>,
    /// The DHT, if any.
    pub dht: Option<Arc<dyn DhtLookup>>,
}
