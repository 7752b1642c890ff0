//! The crate's errors, one type per way a call can fail.
//!
//! | type | returned by |
//! |---|---|
//! | [`ConfigError`] | every constructor that takes a configuration: `Node::new`, `RoutingTable::with_config`, `PeerStore::new`, `RateLimiter::new` |
//! | [`LookupError`] | `Node::start_lookup`, `Node::start_get`, `Node::start_put` |
//! | [`ItemError`] | BEP 44: `Item::immutable`, `Item::sign`, `Item::verify`, `ItemStore::put`; a put refused with its KRPC error code |
//!
//! The simulator's `SimError` is in `swarmlab-sim`.

use std::time::Duration;

use swarmlab_krpc::ErrorCode;
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
    /// A BEP 44 put started without its item (`Node::start_put` gives it).
    #[error("a put lookup needs the item to put")]
    PutWithoutItem,
    /// The item to put is not a valid BEP 44 item.
    #[error("the item cannot be put")]
    Item(#[source] ItemError),
}

/// Why a BEP 44 item is refused, by us building it or by a storage node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ItemError {
    /// The value is longer than 1,000 bytes (the length is given).
    #[error("the value is {0} bytes, more than BEP 44's 1000")]
    ValueTooBig(usize),
    /// The salt is longer than 64 bytes (the length is given).
    #[error("the salt is {0} bytes, more than BEP 44's 64")]
    SaltTooBig(usize),
    /// The value is not one bencoded value.
    #[error("the value is not one bencoded value")]
    NotBencode,
    /// The public key is not a valid ed25519 key.
    #[error("the public key is not a valid ed25519 key")]
    BadKey,
    /// The signature does not verify (or a mutable item lacks it or its `seq`).
    #[error("the signature does not verify")]
    BadSignature,
    /// A value or key that does not hash to the target asked for.
    #[error("the item does not hash to the target")]
    WrongTarget,
    /// `cas` is not the stored sequence number.
    #[error("compare-and-swap failed: stored seq {stored}, cas {cas}")]
    CasMismatch {
        /// The stored item's sequence number.
        stored: i64,
        /// The `cas` of the put.
        cas: i64,
    },
    /// The sequence number is lower than the stored one (or equal with another value).
    #[error("sequence number {seq} is not newer than the stored {stored}")]
    SequenceTooOld {
        /// The stored item's sequence number.
        stored: i64,
        /// The put's sequence number.
        seq: i64,
    },
}

impl ItemError {
    /// The BEP 44 error code a storage node answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            ItemError::ValueTooBig(_) => ErrorCode::MessageTooBig,
            ItemError::SaltTooBig(_) => ErrorCode::SaltTooBig,
            ItemError::BadKey | ItemError::BadSignature => ErrorCode::InvalidSignature,
            ItemError::CasMismatch { .. } => ErrorCode::CasMismatch,
            ItemError::SequenceTooOld { .. } => ErrorCode::SequenceTooOld,
            ItemError::NotBencode | ItemError::WrongTarget => ErrorCode::Protocol,
        }
    }
}
