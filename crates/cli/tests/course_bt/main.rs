//! Integration tests of the course peers' BitTorrent side, with real libtorrent: the
//! real `swarmlab` binary's peers and tracker on 127.160-169.x, libtorrent through
//! `tests/python/lt_fetch.py`, a DHT testnet of ours through `swarmlab testnet`.
//!
//! - `support`: the course tree, the roles as child processes, the testnet, the
//!   libtorrent client, DHT lookups;
//! - `torrent`: the file id against libtorrent (`chunks create`, `chunks torrent`);
//! - `libtorrent`: a libtorrent client downloads from Alice and Bob by magnet link
//!   alone, through the DHT, and through PEX from Alice;
//! - `hostile`: hostile BitTorrent peers against `swarmlab peer`, and the course
//!   protocol unharmed on the same port;
//! - `dht`: `peer --dht --announce-chunks` and `tracker --dht` (a peer absent from
//!   file.ini is listed).

mod dht;
mod hostile;
mod libtorrent;
mod support;
mod torrent;
