//! The crate's errors, one type per way a call can fail.
//!
//! | type | returned by |
//! |---|---|
//! | [`ConfigError`] | every constructor that takes a configuration: `Node::new`, `RoutingTable::with_config`, `PeerStore::new`, `RateLimiter::new` |
//! | [`LookupError`] | `Node::start_lookup` |
//! | [`SimError`] | `Sim::add_node`, `Sim::grow` |

use std::time::Duration;

use swarmlab_krpc::Id;
use thiserror::Error;

/// Longest duration any config accepts (10 years), so that `Instant +
/// duration` can never overflow.
pub const MAX_CONFIG_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// `Err(TooLong)` when `d` exceeds [`MAX_CONFIG_DURATION`].
pub(crate) fn check_len(what: &'static str, d: Duration) -> Result<(), ConfigError> {
    if d > MAX_CONFIG_DURATION {
        Err(ConfigError::TooLong(what))
    } else {
        Ok(())
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A count or size that must be at least 1 was 0.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A duration that must be positive was zero.
    #[error("{0} must be a positive duration")]
    ZeroDuration(&'static str),
    /// A duration longer than [`crate::MAX_CONFIG_DURATION`].
    #[error("{0} is longer than the maximum of 10 years")]
    TooLong(&'static str),
    /// A rate that must be finite and positive was not.
    #[error("{0} must be a finite positive rate")]
    BadRate(&'static str),
}

/// Why a lookup could not start.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LookupError {
    /// `NodeConfig::max_lookups` lookups are already running (the number is given).
    #[error("too many lookups running ({0})")]
    TooMany(usize),
}

/// Why the simulator refused a node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The node's configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `NodeConfig::id` names an id that a node of the simulation already has: every
    /// routing table would refuse one of the two, and lookups would find either.
    #[error("node id {0} is already in the simulation")]
    DuplicateId(Id),
}
