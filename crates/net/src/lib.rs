//! Socket-address helpers shared by swarmlab's wire crates and protocol cores.
//!
//! - [`addr`]: the canonical form of an address (an IPv4-mapped IPv6 address is the
//!   IPv4 address it maps) and which addresses can be a peer or a node at all.
//! - [`compact`]: the compact peer encoding (6 bytes for IPv4, 18 for IPv6: address
//!   then port, big-endian) that KRPC `values` and `ip` (BEP 5, 32, 42), PEX (BEP 11),
//!   UDP trackers (BEP 15) and compact tracker responses (BEP 23) all use.
//!
//! Nothing here allocates more than its input asks for: every decoder takes a cap.
#![forbid(unsafe_code)]

pub mod addr;
pub mod compact;

pub use addr::{canonical, is_v4_mapped, is_valid_peer};
