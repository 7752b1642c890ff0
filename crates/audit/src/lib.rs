//! `swarmlab audit`'s engine: a per-peer auditor of real BitTorrent swarms.
//!
//! Given a `.torrent` file, a magnet link or an info-hash, the auditor collects peer
//! addresses from HTTP(S) and UDP trackers, the DHT (through a [`DhtLookup`] the
//! caller supplies) and ut_pex messages, connects to every address with bounded
//! concurrency, and records what each peer says: handshake and reserved bits,
//! client (peer id and `v`), extensions, completion, have messages over time,
//! PEX neighbours, DHT port, and optionally a measured download rate with verified
//! pieces. Without the info dictionary it fetches it with ut_metadata and checks
//! it against the info-hash. Each peer's connection is a `swarmlab-bt`
//! [`swarmlab_bt::Connection`] driving the sans-IO `swarmlab-bt-wire` session.
//!
//! Modules:
//! - [`target`]: TARGET → info-hash, info dictionary, trackers, `x.pe` peers.
//! - [`config`]: [`AuditConfig`] (the settings) and [`RoundInputs`] (extra trackers,
//!   peers, the DHT).
//! - [`sources`]: HTTP(S) and UDP trackers, and what each gave.
//! - [`dht`]: the [`DhtLookup`] trait where the audit meets a DHT.
//! - [`peer`]: one peer's audit on top of its session.
//! - [`round`]: one round ([`audit_round`], [`audit`]); `book` holds its addresses.
//! - [`watch`]: rounds with churn ([`Watch`]).
//! - [`report`]: the records, the summary, churn.
//! - [`progress`]: live counters for a display.
//! - [`error`]: [`TargetError`], [`SourceError`].
//!
//! The library prints nothing: the `swarmlab` binary draws the progress, the table,
//! JSON and CSV from the [`RoundReport`]s.
#![forbid(unsafe_code)]

mod book;
pub mod config;
pub mod dht;
pub mod error;
pub mod peer;
pub mod progress;
pub mod report;
pub mod round;
pub mod sources;
pub mod target;
pub mod watch;

pub use config::{AuditConfig, RoundInputs};
pub use dht::{DhtError, DhtLookup, StaticDht};
pub use error::{SourceError, TargetError};
pub use progress::Progress;
pub use report::{FailureReason, PeerRecord, RoundReport};
pub use round::{audit, audit_round};
pub use target::Target;
pub use watch::Watch;
