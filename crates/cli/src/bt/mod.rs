//! The BitTorrent family: `swarmlab fetch TARGET` (a whole torrent on the shared
//! download engine) and `swarmlab seed PATH` (a torrent served with the one server
//! of `swarmlab-bt`), with swarmlab's own DHT node as their DHT.
//!
//! | file | what |
//! |---|---|
//! | `fetch.rs` | [`fetch::FetchArgs`], the download, its bar and its summary |
//! | `seed.rs` | [`seed::SeedArgs`], making or reading the torrent, serving, announcing |
//! | `dht.rs` | the node as a `DhtLookup` that also announces |

pub mod dht;
pub mod fetch;
pub mod seed;
