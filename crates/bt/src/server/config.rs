//! How a server behaves: [`ServerConfig`].

use std::time::Duration;

use swarmlab_bt_wire::session::{Limits, Timeouts};
use swarmlab_bt_wire::PeerId;

/// Who the server is and what it bounds. [`ServerConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our peer id in every handshake.
    pub peer_id: PeerId,
    /// `v` of our extension handshake.
    pub client: String,
    /// `p` of our extension handshake: the TCP port we listen on, so that peers can
    /// pass us on in their PEX.
    pub listen_port: Option<u16>,
    /// BEP 21 `upload_only`: we never download (true for a seed and the course peers).
    pub upload_only: bool,
    /// Connections served at once; a handshake beyond it is refused and closed.
    /// Default 200.
    pub max_connections: usize,
    /// Upload slots of the choker (see [`crate::server::Choker`]). Default 16.
    pub unchoke_slots: usize,
    /// How long a peer holds a slot while others wait. Default 30 s.
    pub rotate: Duration,
    /// How often each connection looks at the held pieces (to send `have`), its
    /// choke state and its PEX. Default 1 s.
    pub tick: Duration,
    /// Most peers a source's PEX list is taken from (the session sends at most 50
    /// per message). Default 200.
    pub max_pex_candidates: usize,
    /// The session's limits (block size, pending requests, output buffer, BEP 11).
    pub limits: Limits,
    /// The session's handshake, idle and keep-alive times.
    pub timeouts: Timeouts,
}

impl ServerConfig {
    /// The defaults for `peer_id`.
    pub fn new(peer_id: PeerId) -> ServerConfig {
        ServerConfig {
            peer_id,
            client: concat!("swarmlab/", env!("CARGO_PKG_VERSION")).to_string(),
            listen_port: None,
            upload_only: true,
            max_connections: 200,
            unchoke_slots: 16,
            rotate: Duration::from_secs(30),
            tick: Duration::from_secs(1),
            max_pex_candidates: 200,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// A peer id for a server: `-SL0100-` (Azureus style: swarmlab 0.1.0.0) and 12
/// random bytes.
pub fn random_peer_id() -> PeerId {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(b"-SL0100-");
    for (i, b) in id[8..].iter_mut().enumerate() {
        *b = random_byte(i);
    }
    id
}

fn random_byte(i: usize) -> u8 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(i) as u8
}
