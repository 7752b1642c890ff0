//! Lenient field reading: every field is absent, present but malformed, or ok, and the
//! value shapes KRPC reads (ids, compact nodes and peers, `y`, `q`, keys, `values`, `want`).

use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::compact::{self, Node4, Node6};
use crate::error::Reason;
use crate::message::{TransactionId, Want};
use crate::Id;

use super::MAX_DECODED_VALUES;

/// A field as found in a dictionary.
#[derive(Debug, Default)]
pub(super) enum F<T> {
    /// Key not present.
    #[default]
    Absent,
    /// Present with the wrong type, length or range.
    Bad,
    /// Present and well-formed.
    Ok(T),
}

impl<T> F<T> {
    /// `Ok(Some)` if present and good, `Ok(None)` if absent, `Err` if malformed.
    pub(super) fn optional(self, key: &'static str) -> Result<Option<T>, Reason> {
        match self {
            F::Absent => Ok(None),
            F::Bad => Err(Reason::Invalid(key)),
            F::Ok(v) => Ok(Some(v)),
        }
    }

    pub(super) fn required(self, key: &'static str) -> Result<T, Reason> {
        match self {
            F::Absent => Err(Reason::Missing(key)),
            F::Bad => Err(Reason::Invalid(key)),
            F::Ok(v) => Ok(v),
        }
    }

    pub(super) fn ok(self) -> Option<T> {
        match self {
            F::Ok(v) => Some(v),
            _ => None,
        }
    }
}

/// A value shape that can be built from any bencode value, rejecting (not failing on)
/// the wrong shape. The defaults reject and skip the value.
pub(super) trait Lenient: Sized {
    fn from_bytes(_b: &[u8]) -> Option<Self> {
        None
    }
    fn from_int(_i: i64) -> Option<Self> {
        None
    }
    fn from_list<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn from_dict<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de, T: Lenient> Deserialize<'de> for F<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(PhantomData))
    }
}

pub(super) struct LenientVisitor<T>(pub(super) PhantomData<T>);

pub(super) fn wrap<T>(v: Option<T>) -> F<T> {
    v.map_or(F::Bad, F::Ok)
}

impl<'de, T: Lenient> Visitor<'de> for LenientVisitor<T> {
    type Value = F<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any bencode value")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<F<T>, E> {
        Ok(wrap(T::from_int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<F<T>, E> {
        Ok(wrap(i64::try_from(v).ok().and_then(T::from_int)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<F<T>, E> {
        Ok(wrap(T::from_bytes(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<F<T>, E> {
        Ok(wrap(T::from_bytes(v.as_bytes())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<F<T>, A::Error> {
        Ok(wrap(T::from_list(seq)?))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<F<T>, A::Error> {
        Ok(wrap(T::from_dict(map)?))
    }
}

impl Lenient for Vec<u8> {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(b.to_vec())
    }
}

impl Lenient for i64 {
    fn from_int(i: i64) -> Option<Self> {
        Some(i)
    }
}

impl Lenient for Id {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Id::from_slice(b)
    }
}

impl Lenient for TransactionId {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(TransactionId::from(b))
    }
}

impl<const N: usize> Lenient for [u8; N] {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        b.try_into().ok()
    }
}

impl Lenient for SocketAddr {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        compact::decode_peer(b)
    }
}

/// `nodes` payload (truncated to whole entries).
pub(super) struct Nodes4(pub(super) Vec<Node4>);
impl Lenient for Nodes4 {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Nodes4(compact::decode_nodes4(b)))
    }
}

/// `nodes6` payload (truncated to whole entries).
pub(super) struct Nodes6(pub(super) Vec<Node6>);
impl Lenient for Nodes6 {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Nodes6(compact::decode_nodes6(b)))
    }
}

/// BEP 51 `samples`: concatenated 20-byte info-hashes (truncated to whole entries).
pub(super) struct Samples(pub(super) Vec<Id>);
impl Lenient for Samples {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Samples(
            b.chunks_exact(20).filter_map(Id::from_slice).collect(),
        ))
    }
}

/// `y`.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Query,
    Response,
    Error,
}
impl Lenient for Kind {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        match b {
            b"q" => Some(Kind::Query),
            b"r" => Some(Kind::Response),
            b"e" => Some(Kind::Error),
            _ => None,
        }
    }
}

/// `q`.
pub(super) enum MethodName {
    Known(Known),
    Unknown(Vec<u8>),
}
#[derive(Clone, Copy)]
pub(super) enum Known {
    Ping,
    FindNode,
    GetPeers,
    AnnouncePeer,
    Get,
    Put,
    SampleInfohashes,
}
impl Lenient for MethodName {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(MethodName::Known(match b {
            b"ping" => Known::Ping,
            b"find_node" => Known::FindNode,
            b"get_peers" => Known::GetPeers,
            b"announce_peer" => Known::AnnouncePeer,
            b"get" => Known::Get,
            b"put" => Known::Put,
            b"sample_infohashes" => Known::SampleInfohashes,
            other => return Some(MethodName::Unknown(other.to_vec())),
        }))
    }
}

/// A dictionary key, kept inline (every key we look at is short). Longer or non-string
/// keys become `None` and are skipped like any unknown key.
pub(super) struct Key {
    pub(super) buf: [u8; 16],
    pub(super) len: usize,
}
impl Key {
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}
impl Lenient for Key {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        let mut buf = [0u8; 16];
        buf.get_mut(..b.len())?.copy_from_slice(b);
        Some(Key { buf, len: b.len() })
    }
}

/// Reads `map` as a dictionary, feeding each key to `field`, which must consume the value.
pub(super) fn read_dict<'de, A, T>(
    mut map: A,
    mut field: impl FnMut(&mut T, &[u8], &mut A) -> Result<(), A::Error>,
) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Default,
{
    let mut out = T::default();
    while let Some(key) = map.next_key::<F<Key>>()? {
        match key {
            F::Ok(k) => field(&mut out, k.as_bytes(), &mut map)?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(Some(out))
}

/// `values`: a list of compact peers, capped at [`MAX_DECODED_VALUES`]; entries that are
/// not 6- or 18-byte strings are skipped.
pub(super) struct Values(pub(super) Vec<SocketAddr>);
impl Lenient for Values {
    fn from_list<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut out = Vec::new();
        while out.len() < MAX_DECODED_VALUES {
            match seq.next_element::<F<SocketAddr>>()? {
                None => return Ok(Some(Values(out))),
                Some(F::Ok(a)) => out.push(a),
                Some(_) => {}
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some(Values(out)))
    }
}

/// BEP 32 `want`: a list of strings; entries other than "n4"/"n6" are ignored.
impl Lenient for Want {
    fn from_list<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut want = Want::default();
        while let Some(item) = seq.next_element::<F<Key>>()? {
            match item.ok().as_ref().map(Key::as_bytes) {
                Some(b"n4") => want.n4 = true,
                Some(b"n6") => want.n6 = true,
                _ => {}
            }
        }
        Ok(Some(want))
    }
}
