//! One BEP 44 item: its value, and for a mutable item its key, signature, sequence
//! number and salt; how its DHT key is computed and how its signature is made and
//! checked.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use sha1::{Digest, Sha1};
use swarmlab_krpc::{bencoded_len, Id, Method, PutArgs, Response};

use crate::error::ItemError;

/// The longest value (`v`, bencoded) BEP 44 allows: 1,000 bytes.
pub const MAX_VALUE_LEN: usize = 1000;

/// The longest salt BEP 44 allows: 64 bytes.
pub const MAX_SALT_LEN: usize = 64;

/// The signed part of a mutable item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutable {
    /// The ed25519 public key.
    pub k: [u8; 32],
    /// The ed25519 signature of [`signature_buffer`]`(salt, seq, v)`.
    pub sig: [u8; 64],
    /// The sequence number: a newer version has a higher one.
    pub seq: i64,
    /// The salt (empty: none), part of the key.
    pub salt: Vec<u8>,
}

/// A BEP 44 item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The value: one bencoded value, at most [`MAX_VALUE_LEN`] bytes.
    pub v: Vec<u8>,
    /// `Some` for a mutable item.
    pub mutable: Option<Mutable>,
}

/// The key of an immutable item: SHA-1 of the value's bytes.
pub fn immutable_target(v: &[u8]) -> Id {
    Id(Sha1::digest(v).into())
}

/// The key of a mutable item: SHA-1 of the public key followed by the salt.
pub fn mutable_target(k: &[u8; 32], salt: &[u8]) -> Id {
    let mut h = Sha1::new();
    h.update(k);
    h.update(salt);
    Id(h.finalize().into())
}

/// What a mutable item's signature covers: `4:salt<len>:<salt>` when there is a salt,
/// then `3:seqi<seq>e1:v` and the value's bytes (BEP 44).
pub fn signature_buffer(salt: &[u8], seq: i64, v: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(salt.len() + v.len() + 32);
    if !salt.is_empty() {
        b.extend_from_slice(format!("4:salt{}:", salt.len()).as_bytes());
        b.extend_from_slice(salt);
    }
    b.extend_from_slice(format!("3:seqi{seq}e1:v").as_bytes());
    b.extend_from_slice(v);
    b
}

fn check_value(v: &[u8]) -> Result<(), ItemError> {
    if v.len() > MAX_VALUE_LEN {
        return Err(ItemError::ValueTooBig(v.len()));
    }
    if bencoded_len(v) != Some(v.len()) {
        return Err(ItemError::NotBencode);
    }
    Ok(())
}

fn check_salt(salt: &[u8]) -> Result<(), ItemError> {
    if salt.len() > MAX_SALT_LEN {
        return Err(ItemError::SaltTooBig(salt.len()));
    }
    Ok(())
}

impl Item {
    /// An immutable item holding `v` (one bencoded value of at most 1,000 bytes).
    pub fn immutable(v: Vec<u8>) -> Result<Item, ItemError> {
        check_value(&v)?;
        Ok(Item { v, mutable: None })
    }

    /// A mutable item holding `v`, signed with `key` for sequence number `seq` and
    /// `salt`.
    pub fn sign(key: &SigningKey, v: Vec<u8>, seq: i64, salt: Vec<u8>) -> Result<Item, ItemError> {
        check_value(&v)?;
        check_salt(&salt)?;
        let sig = key.sign(&signature_buffer(&salt, seq, &v)).to_bytes();
        Ok(Item {
            v,
            mutable: Some(Mutable {
                k: key.verifying_key().to_bytes(),
                sig,
                seq,
                salt,
            }),
        })
    }

    /// The item a `put` carries, not yet verified (see [`Item::verify`]): the value
    /// and salt sizes are checked here, in BEP 44's order (205 before 207).
    pub fn from_put(p: &PutArgs) -> Result<Item, ItemError> {
        if p.v.len() > MAX_VALUE_LEN {
            return Err(ItemError::ValueTooBig(p.v.len()));
        }
        check_salt(&p.salt)?;
        let mutable = match (p.k, p.sig, p.seq) {
            (Some(k), Some(sig), Some(seq)) => Some(Mutable {
                k,
                sig,
                seq,
                salt: p.salt.clone(),
            }),
            (None, _, _) => None,
            // The decoder requires sig and seq with k; anything else is unsigned.
            _ => return Err(ItemError::BadSignature),
        };
        Ok(Item {
            v: p.v.clone(),
            mutable,
        })
    }

    /// The item a `get` response carries for `target`, if any, checked: an immutable
    /// value must hash to `target`; a mutable one must have its key, signature and
    /// sequence number, a key and `salt` that hash to `target`, and a valid signature.
    pub fn from_response(
        r: &Response,
        target: &Id,
        salt: &[u8],
    ) -> Result<Option<Item>, ItemError> {
        let Some(v) = &r.v else { return Ok(None) };
        let mutable = match r.k {
            None => None,
            Some(k) => Some(Mutable {
                k,
                sig: r.sig.ok_or(ItemError::BadSignature)?,
                seq: r.seq.ok_or(ItemError::BadSignature)?,
                salt: salt.to_vec(),
            }),
        };
        let item = Item {
            v: v.clone(),
            mutable,
        };
        if item.target() != *target {
            return Err(ItemError::WrongTarget);
        }
        item.verify()?;
        Ok(Some(item))
    }

    /// The item's DHT key.
    pub fn target(&self) -> Id {
        match &self.mutable {
            None => immutable_target(&self.v),
            Some(m) => mutable_target(&m.k, &m.salt),
        }
    }

    /// The sequence number of a mutable item.
    pub fn seq(&self) -> Option<i64> {
        self.mutable.as_ref().map(|m| m.seq)
    }

    /// Checks the sizes, and a mutable item's key and signature (strict ed25519
    /// verification: no small-order keys, no malleable signatures).
    pub fn verify(&self) -> Result<(), ItemError> {
        check_value(&self.v)?;
        let Some(m) = &self.mutable else {
            return Ok(());
        };
        check_salt(&m.salt)?;
        let key = VerifyingKey::from_bytes(&m.k).map_err(|_| ItemError::BadKey)?;
        let sig = Signature::from_bytes(&m.sig);
        let msg = signature_buffer(&m.salt, m.seq, &self.v);
        key.verify_strict(&msg, &sig)
            .map_err(|_| ItemError::BadSignature)
    }

    /// The `put` query that stores this item with `token` (and compare-and-swap on
    /// `cas` for a mutable item).
    pub fn put_method(&self, token: Vec<u8>, cas: Option<i64>) -> Method {
        let m = self.mutable.as_ref();
        Method::Put(Box::new(PutArgs {
            token,
            v: self.v.clone(),
            k: m.map(|m| m.k),
            sig: m.map(|m| m.sig),
            seq: m.map(|m| m.seq),
            cas: m.and(cas),
            salt: m.map(|m| m.salt.clone()).unwrap_or_default(),
        }))
    }

    /// Writes the item into a `get` response; with `newer_than` (the asker's `seq`) a
    /// mutable item not newer than it gives only its `seq` (BEP 44).
    pub fn fill_response(&self, r: &mut Response, newer_than: Option<i64>) {
        match &self.mutable {
            None => r.v = Some(self.v.clone()),
            Some(m) => {
                r.seq = Some(m.seq);
                if newer_than.is_none_or(|s| m.seq > s) {
                    r.v = Some(self.v.clone());
                    r.k = Some(m.k);
                    r.sig = Some(m.sig);
                }
            }
        }
    }
}

impl Serialize for Item {
    /// As JSON: `target`, `v` (hex), and for a mutable item `k`, `sig`, `salt` (hex) and
    /// `seq`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Item", 6)?;
        st.serialize_field("target", &self.target())?;
        st.serialize_field("v", &hex::encode(&self.v))?;
        if let Some(m) = &self.mutable {
            st.serialize_field("k", &hex::encode(m.k))?;
            st.serialize_field("sig", &hex::encode(m.sig))?;
            st.serialize_field("seq", &m.seq)?;
            st.serialize_field("salt", &hex::encode(&m.salt))?;
        }
        st.end()
    }
}
