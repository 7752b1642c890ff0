//! Integration tests of the course roles: the real `swarmlab` binary's peers, trackers
//! and Charlie on loopback, each test on its own 127.0.N.x addresses and its own
//! discovery port so that tests run in parallel.
//!
//! - `support`: the course tree, the roles as child processes, socket helpers;
//! - `tools`: the chunk tools and the command line's messages;
//! - `downloads`: Charlie's three steps, many clients, the demo;
//! - `fallback`: fallback between peers (missing, corrupt, silent, dropping) and resume;
//! - `compat`: the deployed implementations' forms (type-5 FILE_INFO, UDP replies in
//!   one or two datagrams, the deployed clients' ways of reading them);
//! - `hostile`: hostile clients, peers and trackers, and the limits that bound them.

mod compat;
mod downloads;
mod fallback;
mod hostile;
mod support;
mod tools;
