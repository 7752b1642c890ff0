//! `swarmlab fetch` and `swarmlab seed` against real libtorrent and hostile peers,
//! each test on its own 127.6x.y.z addresses (this file's range: 127.60 to 127.64).
//!
//! | file | what |
//! |---|---|
//! | `support.rs` | libtorrent seeders (`lt_seed.py`) and client (`lt_fetch.py`), recording HTTP and UDP trackers, a DHT testnet, running the binary |
//! | `libtorrent.rs` | fetch from libtorrent: tracker, DHT (magnet alone), PEX, multi-file, resume; libtorrent from `seed` |
//! | `seed.rs` | `seed` found through an HTTP tracker, a UDP tracker, the DHT; libtorrent from `fetch --seed` |
//! | `hostile.rs` | hand-made hostile seeders beside an honest one; hostile metainfo |

mod hostile;
mod libtorrent;
mod seed;
mod support;
