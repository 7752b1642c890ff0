//! Charlie through the DHT, PEX and any peer, with the real `swarmlab` binary: peers
//! (`swarmlab peer NAME --dht`), a DHT testnet (`swarmlab testnet`) or a network of
//! real libtorrent DHT nodes (`tests/python/lt_net.py`), trackers, and Charlie as
//! child processes on loopback. Every test has its own 127.18x.0.0/16 range, so the
//! tests run in parallel with the rest of the suite; every wait polls against a
//! deadline.
//!
//! - `support`: the course tree on 127.18x addresses, the testnet, waiting for an
//!   announce, Charlie's JSON report;
//! - `trackerless`: `charlie --magnet` with no configuration and no tracker, and
//!   Charlie killed and resumed in that mode;
//! - `refill`: the tracker (and a peer) killed in the middle of a download, Charlie
//!   finishing through the DHT; `--discovery` order and its report;
//! - `options`: what the command line refuses before any network;
//! - `libtorrent`: Alice and Bob announce into a network of libtorrent's DHT nodes
//!   and ours; Charlie, trackerless, finds them through libtorrent's nodes.

#[path = "../course/support.rs"]
#[allow(dead_code)]
mod course_support;
mod libtorrent;
mod options;
mod refill;
mod support;
mod trackerless;
