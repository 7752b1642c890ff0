//! The crate's errors.
//!
//! | type | returned by |
//! |---|---|
//! | [`SimError`] | adding nodes (`Sim::add_node`, `Sim::grow`, `Sim::populate`), a network model or a churn model that cannot work, a scenario |

use swarmlab_dht::{ConfigError, Id};
use thiserror::Error;

/// Why the simulator refused something.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The node's configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `NodeConfig::id` names an id that a node of the simulation already has: every
    /// routing table would refuse one of the two, and lookups would find either.
    #[error("node id {0} is already in the simulation")]
    DuplicateId(Id),
    /// More nodes than simulated addresses (10.0.0.1 to 10.255.255.254).
    #[error("the simulation holds at most {0} nodes over its run")]
    TooManyNodes(usize),
    /// A network model value out of range (the field is named).
    #[error("network model: {0} is out of range")]
    BadModel(&'static str),
    /// A churn parameter out of range (the field is named).
    #[error("churn: {0} must be finite and positive")]
    BadChurn(&'static str),
}
