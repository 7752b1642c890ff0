//! BEP 44: storing arbitrary data in the DHT.
//!
//! An **item** is one bencoded value of at most [`MAX_VALUE_LEN`] (1,000) bytes.
//! * **Immutable**: its key (the `target` of `get`) is the SHA-1 of the value's bytes.
//! * **Mutable**: signed with an ed25519 key (`ed25519-dalek`); its key is the SHA-1 of
//!   the 32-byte public key followed by an optional salt (at most [`MAX_SALT_LEN`],
//!   64, bytes). The signature covers `4:salt<len>:<salt>` (when there is a salt),
//!   `3:seqi<seq>e1:v` and the value; a newer version carries a higher sequence
//!   number `seq`, and a `put` may ask for compare-and-swap (`cas`) on the stored one.
//!
//! Files, in the order the node uses them:
//! - `item.rs`: [`Item`] (building, signing, the key, [`Item::verify`]),
//!   [`immutable_target`], [`mutable_target`], [`signature_buffer`].
//! - `store.rs`: [`ItemStore`], what a storage node keeps: bounded
//!   ([`ItemStoreConfig::max_items`]), expiring ([`ItemStoreConfig::ttl`]), and the
//!   `seq` / `cas` rules of a put ([`ItemStore::put`]).
//!
//! The node (`node/items.rs`) answers `get` (a write token tied to the asker's address
//! and the target, as for `get_peers`, the closest nodes, the item if stored) and
//! `put` (token, size, salt and signature checked before anything is stored; every
//! refusal is the BEP 44 error code of [`ItemError::code`]), and runs the get and put
//! lookups.

mod item;
mod store;
#[cfg(test)]
mod tests;

pub use item::{
    immutable_target, mutable_target, signature_buffer, Item, MAX_SALT_LEN, MAX_VALUE_LEN,
};
pub use store::{ItemStore, ItemStoreConfig, PutOutcome};

pub use crate::error::ItemError;
