//! `swarmlab fetch` and `swarmlab seed` against real libtorrent and hostile peers,
//! each test on its own 127.6x.y.z addresses (this file's range: 127.60 to 127.64).
//!
//! | file | what |
//! |---|---|
//! | `support.rs` | libtorrent seeders (`lt_seed.py`), a recording HTTP tracker, running the binary |
//! | `libtorrent.rs` | tracker, DHT (magnet alone), PEX, multi-file, resume, libtorrent from `seed` |
//! | `hostile.rs` | hand-made hostile seeders beside an honest one; hostile metainfo |

mod hostile;
mod libtorrent;
mod support;
