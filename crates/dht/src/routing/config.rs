//! The table's settings and their bounds.

use std::time::Duration;

use crate::error::check_len;
use crate::ConfigError;

/// Maximum number of buckets (one per bit of the id space).
pub const MAX_BUCKETS: usize = 160;

/// Routing table settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingConfig {
    /// Bucket size *k*. Default 8.
    pub k: usize,
    /// Replacement-cache size per bucket (0 disables it). Default 8.
    pub replacement_cache: usize,
    /// Consecutive timeouts after which a verified node is bad. Default 2.
    pub max_failures: u32,
    /// Activity window of a good node. Default 15 minutes.
    pub good_window: Duration,
    /// A bucket unchanged this long needs a refresh. Default 15 minutes.
    pub refresh_interval: Duration,
    /// A ping the table asked for and that got neither
    /// [`RoutingTable::on_response`](super::RoutingTable::on_response) nor
    /// [`RoutingTable::on_timeout`](super::RoutingTable::on_timeout) within
    /// this is considered lost and may be asked for again. Default 60 s.
    pub ping_retry: Duration,
    /// What BEP 42 ids count for in the table (local addresses are exempt: every id
    /// is secure there). Default [`Bep42Policy::Prefer`].
    pub bep42: Bep42Policy,
}

/// How the table treats node ids that do not fit their IP address (BEP 42).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Bep42Policy {
    /// Ids are not checked.
    Off,
    /// Secure ids are preferred: in a full bucket with no bad node, a node with a
    /// secure id that just answered us replaces the least recently seen node whose id
    /// is not secure (libtorrent does the same). Insecure ids are still taken where
    /// there is room, so a node joins a network that has few secure ids.
    #[default]
    Prefer,
    /// Only secure ids are taken (libtorrent's `dht_enforce_node_id`): the others are
    /// refused ([`Reject::Bep42`](super::Reject::Bep42)).
    Require,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            k: 8,
            replacement_cache: 8,
            max_failures: 2,
            good_window: Duration::from_secs(15 * 60),
            refresh_interval: Duration::from_secs(15 * 60),
            ping_retry: Duration::from_secs(60),
            bep42: Bep42Policy::Prefer,
        }
    }
}

impl RoutingConfig {
    /// Checks `k >= 1`, `max_failures >= 1` and positive durations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.k == 0 {
            return Err(ConfigError::Zero("k"));
        }
        if self.max_failures == 0 {
            return Err(ConfigError::Zero("max_failures"));
        }
        if self.good_window.is_zero() {
            return Err(ConfigError::ZeroDuration("good_window"));
        }
        if self.refresh_interval.is_zero() {
            return Err(ConfigError::ZeroDuration("refresh_interval"));
        }
        if self.ping_retry.is_zero() {
            return Err(ConfigError::ZeroDuration("ping_retry"));
        }
        check_len("good_window", self.good_window)?;
        check_len("refresh_interval", self.refresh_interval)?;
        check_len("ping_retry", self.ping_retry)?;
        Ok(())
    }
}
