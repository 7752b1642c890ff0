//! How a node behaves: [`NodeConfig`], the version we send, the largest datagram we
//! read.

use std::time::Duration;

use swarmlab_krpc::Id;

use crate::bep44::ItemStoreConfig;
use crate::limits::Limits;
use crate::peer_store::PeerStoreConfig;
use crate::routing::RoutingConfig;

/// The client version we send in `v`: "SL" and a 2-byte version.
pub const VERSION: [u8; 4] = *b"SL\x00\x01";

/// The longest datagram [`Node::handle`](super::Node::handle) reads: 1,500 bytes, the
/// receive buffer of libtorrent's UDP socket (`aux::udp_socket`), so no KRPC message
/// that libtorrent would take is refused. Our own replies stay under
/// [`SAFE_PAYLOAD`](swarmlab_krpc::SAFE_PAYLOAD) (1,400). A longer datagram is dropped
/// before decoding and counted in [`Stats::oversized`](super::Stats::oversized): it
/// costs neither a decode nor an allocation, whatever buffer the driver reads into.
pub const MAX_DATAGRAM_IN: usize = 1500;

/// At most this many `nodes`, and as many `nodes6`, of one reply go into a lookup (a
/// datagram of [`MAX_DATAGRAM_IN`] bytes carries at most 57 IPv4 nodes, so only a
/// hostile reply reaches it; the lookup itself keeps at most
/// [`MAX_CANDIDATES`](crate::lookup::MAX_CANDIDATES)).
pub const MAX_NODES_PER_REPLY: usize = 64;

/// How a node behaves. `Default` is a normal public node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Our id; random (from `seed`) when `None`.
    pub id: Option<Id>,
    /// Seed of the node's RNG (ids, tokens, transaction ids, samples).
    pub seed: u64,
    /// Lookup width and bucket size (BEP 5: 8).
    pub k: usize,
    /// Requests a lookup keeps in flight.
    pub alpha: usize,
    /// A request unanswered this long has failed.
    pub request_timeout: Duration,
    /// A request unanswered this long stops holding a lookup slot.
    pub soft_timeout: Duration,
    /// BEP 43: we send `ro: 1` so that others do not add us to their tables, and we
    /// answer no query.
    pub read_only: bool,
    /// Rate limits on queries in, replies out and queries out ([`Limits::unlimited`]
    /// turns them off).
    pub limits: Limits,
    /// The routing table's settings.
    pub routing: RoutingConfig,
    /// The peer store's bounds.
    pub peer_store: PeerStoreConfig,
    /// The BEP 44 item store's bounds.
    pub item_store: ItemStoreConfig,
    /// BEP 51: how long the sample of info-hashes we give stays the same (the
    /// `interval` we announce; libtorrent's default and BEP 51's maximum: 6 hours).
    pub sample_interval: Duration,
    /// BEP 51: most info-hashes in one `samples` (libtorrent sends at most 20).
    pub max_samples: usize,
    /// Housekeeping period: pings the routing table asks for, refresh, expiry.
    pub tick: Duration,
    /// Longest wait between two bootstrap attempts while the table is empty.
    pub bootstrap_backoff_max: Duration,
    /// Lookups running at once (further ones are refused).
    pub max_lookups: usize,
    /// Adopt a BEP 42 id once enough nodes agree on our external address.
    pub secure_id: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            id: None,
            seed: 0,
            k: 8,
            alpha: 3,
            request_timeout: Duration::from_secs(2),
            soft_timeout: Duration::from_millis(500),
            read_only: false,
            limits: Limits::default(),
            routing: RoutingConfig::default(),
            peer_store: PeerStoreConfig::default(),
            item_store: ItemStoreConfig::default(),
            sample_interval: Duration::from_secs(6 * 3600),
            max_samples: 20,
            tick: Duration::from_secs(1),
            bootstrap_backoff_max: Duration::from_secs(60),
            max_lookups: 256,
            secure_id: true,
        }
    }
}
