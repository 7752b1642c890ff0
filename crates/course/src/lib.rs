//! The course's four roles — peers Alice and Bob, the Tracker, the client Charlie —
//! speaking the ELEC-H-417 protocol byte for byte, plus the course's chunk tools and
//! an in-process demo. The wire format is `swarmlab-course-wire`; this crate adds the
//! sockets (tokio), the files and the clocks. It never prints: progress goes out
//! through [`engine::Progress`], results as report structs.
//!
//! Modules, from the files to the roles:
//! - [`layout`]: the course tree under a root (`config/`, `files/`, `chunks/<name>/`),
//!   safe names and atomic writes.
//! - [`config`]: `config/peers.ini` and `config/file.ini`, as Python's configparser
//!   reads and writes them.
//! - [`size`]: sizes on the command line (`512KiB`, `64MiB`).
//! - [`chunks`]: the course's helper scripts (create, merge, check).
//! - [`torrent`]: the file id: a course file as a BitTorrent v1 torrent,
//!   `config/file.torrent` and the magnet link.
//! - [`server`]: the request loop both TCP servers share, its limits and counters.
//! - [`peer`]: Alice and Bob, serving `chunks/<name>/<sha1-hex>.bin` over the course
//!   protocol and BitTorrent on one port.
//! - [`announce`]: keys announced on the DHT on a schedule (a peer's file id and
//!   chunks).
//! - [`tracker`]: FILE_INFO over TCP, TRACKER_INFO over UDP.
//! - [`running`]: those roles as tasks of this process.
//! - [`discovery`]: Charlie's chain of peer sources (config, tracker, broadcast, the
//!   DHT, metadata from a peer, PEX) and what is known before any network (the file
//!   id).
//! - [`engine`]: Charlie's download from every peer in parallel, taking new holders
//!   while it runs.
//! - [`charlie`]: one run of Charlie: discovery, download (with the chain run again
//!   when chunks lack a holder), merge, check.
//! - [`demo`]: the four roles in one process, Charlie through steps 1, 2 and 3, then
//!   without the tracker through a DHT testnet (step 4) and PEX (step 5).
//! - [`error`]: every error type of the crate.

pub mod announce;
pub mod charlie;
pub mod chunks;
pub mod config;
pub mod demo;
pub mod discovery;
pub mod engine;
pub mod error;
pub mod layout;
pub mod peer;
pub mod running;
pub mod server;
pub mod size;
pub mod torrent;
pub mod tracker;

pub use layout::Layout;
