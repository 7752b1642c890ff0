//! Decoding: a nesting guard, then serde_bencode into lenient hand-written visitors, then
//! classification into [`Message`] or [`DecodeError`].
//!
//! Why hand-written visitors rather than `#[derive(Deserialize)]`: serde_bencode 0.2 reads
//! struct keys as UTF-8 (a non-UTF-8 unknown key would fail the whole message), and a
//! derived struct fails as a whole on the first field of the wrong type, which would lose
//! the transaction id needed to answer 203/204. Here every field is read as
//! "absent / present but malformed / ok", and only bencode syntax errors abort.

use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::compact::{self, Node4, Node6};
use crate::error::{DecodeError, Reason};
use crate::message::{
    Body, ErrorCode, KrpcError, Message, Method, PutArgs, Query, Response, TransactionId, Want,
};
use crate::span;
use crate::Id;

/// Maximum bencode nesting depth accepted by [`Message::decode`]. KRPC needs 3 (message →
/// `r` → `values`); unknown keys may nest deeper, up to this limit. It bounds the
/// recursion of serde_bencode's recursive-descent parser (a 64 KiB datagram of `l`s
/// would otherwise overflow the stack).
pub const MAX_DEPTH: usize = 32;

/// At most this many `values` entries are decoded from one response; the rest of the list
/// is skipped (the response is still accepted). A 1,500-byte datagram carries at most
/// ~180 IPv4 values; libtorrent sends at most 100.
pub const MAX_DECODED_VALUES: usize = 512;

impl Message {
    /// Decodes one datagram. Never panics; allocations are bounded by `buf.len()`
    /// (plus at most [`MAX_DECODED_VALUES`] peers). Unknown keys are ignored everywhere.
    ///
    /// Bytes after the top-level dictionary are treated as libtorrent treats them: its
    /// `bdecode` stops at the end of the first value, and its `incoming_packet` drops
    /// every datagram whose last byte is not `e` before decoding. So trailing bytes are
    /// ignored when the datagram ends in `e`, and otherwise the datagram is
    /// [`Reason::TrailingBytes`] garbage (dropped without a reply).
    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        let garbage = |reason| DecodeError::Garbage { tid: None, reason };
        let end = check_nesting(buf).map_err(garbage)?;
        if end < buf.len() && buf.last() != Some(&b'e') {
            return Err(garbage(Reason::TrailingBytes));
        }
        let buf = &buf[..end];
        let raw = match serde_bencode::from_bytes::<F<RawMessage>>(buf) {
            Ok(F::Ok(raw)) => raw,
            Ok(_) => return Err(garbage(Reason::NotADict)),
            Err(_) => return Err(garbage(Reason::NotBencode)),
        };
        raw.classify(buf)
    }
}

/// Walks the bencode token stream without recursion and fails if nesting exceeds
/// [`MAX_DEPTH`] or if the first value is not a well-delimited dictionary; returns the
/// length of that dictionary (the index just past its closing `e`). Tokenization
/// matches serde_bencode's (integers run to the next `e`; string lengths are ASCII digits
/// up to `:`), so serde_bencode never recurses deeper than this guard saw.
fn check_nesting(buf: &[u8]) -> Result<usize, Reason> {
    match buf.first() {
        Some(b'd') => {}
        Some(b'l' | b'i' | b'0'..=b'9') => return Err(Reason::NotADict),
        _ => return Err(Reason::NotBencode),
    }
    let mut depth = 0usize;
    let mut i = 0usize;
    loop {
        let Some(&c) = buf.get(i) else {
            return Err(Reason::NotBencode);
        };
        match c {
            b'd' | b'l' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Reason::TooDeep);
                }
                i += 1;
            }
            b'e' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
                i += 1;
            }
            b'i' => {
                let rest = &buf[i + 1..];
                let end = rest
                    .iter()
                    .position(|&b| b == b'e')
                    .ok_or(Reason::NotBencode)?;
                i += end + 2;
            }
            b'0'..=b'9' => {
                let mut len = 0usize;
                i += 1 + loop_digits(&buf[i..], &mut len)?;
                i = i
                    .checked_add(len)
                    .filter(|&end| end <= buf.len())
                    .ok_or(Reason::NotBencode)?;
            }
            _ => return Err(Reason::NotBencode),
        }
    }
}

/// Parses `digits ':'` at the start of `b` into `len`; returns the number of digits.
fn loop_digits(b: &[u8], len: &mut usize) -> Result<usize, Reason> {
    for (n, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                *len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(c - b'0')))
                    .ok_or(Reason::NotBencode)?;
            }
            b':' if n > 0 => return Ok(n),
            _ => return Err(Reason::NotBencode),
        }
    }
    Err(Reason::NotBencode)
}

// ---------------------------------------------------------------------------------------
// Lenient field reading.

/// A field as found in a dictionary.
#[derive(Debug, Default)]
enum F<T> {
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
    fn optional(self, key: &'static str) -> Result<Option<T>, Reason> {
        match self {
            F::Absent => Ok(None),
            F::Bad => Err(Reason::Invalid(key)),
            F::Ok(v) => Ok(Some(v)),
        }
    }

    fn required(self, key: &'static str) -> Result<T, Reason> {
        match self {
            F::Absent => Err(Reason::Missing(key)),
            F::Bad => Err(Reason::Invalid(key)),
            F::Ok(v) => Ok(v),
        }
    }

    fn ok(self) -> Option<T> {
        match self {
            F::Ok(v) => Some(v),
            _ => None,
        }
    }
}

/// A value shape that can be built from any bencode value, rejecting (not failing on)
/// the wrong shape. The defaults reject and skip the value.
trait Lenient: Sized {
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

struct LenientVisitor<T>(PhantomData<T>);

fn wrap<T>(v: Option<T>) -> F<T> {
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
struct Nodes4(Vec<Node4>);
impl Lenient for Nodes4 {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Nodes4(compact::decode_nodes4(b)))
    }
}

/// `nodes6` payload (truncated to whole entries).
struct Nodes6(Vec<Node6>);
impl Lenient for Nodes6 {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Nodes6(compact::decode_nodes6(b)))
    }
}

/// BEP 51 `samples`: concatenated 20-byte info-hashes (truncated to whole entries).
struct Samples(Vec<Id>);
impl Lenient for Samples {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Samples(
            b.chunks_exact(20).filter_map(Id::from_slice).collect(),
        ))
    }
}

/// `y`.
#[derive(Clone, Copy)]
enum Kind {
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
enum MethodName {
    Known(Known),
    Unknown(Vec<u8>),
}
#[derive(Clone, Copy)]
enum Known {
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
struct Key {
    buf: [u8; 16],
    len: usize,
}
impl Key {
    fn as_bytes(&self) -> &[u8] {
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
fn read_dict<'de, A, T>(
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
struct Values(Vec<SocketAddr>);
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

/// `e`: `[code, message, ...]`. The code must be an integer; the message is optional.
struct ErrorList {
    code: i64,
    message: Option<Vec<u8>>,
}
impl Lenient for ErrorList {
    fn from_list<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let code = match seq.next_element::<F<i64>>()? {
            None => return Ok(None),
            Some(c) => c.ok(),
        };
        // Never call next_element again after it returned None: serde_bencode would read
        // past the end of the list.
        let message = match seq.next_element::<F<Vec<u8>>>()? {
            None => None,
            Some(m) => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                m.ok()
            }
        };
        Ok(code.map(|code| ErrorList { code, message }))
    }
}

/// Query arguments `a`.
#[derive(Default)]
struct RawArgs {
    id: F<Id>,
    target: F<Id>,
    info_hash: F<Id>,
    port: F<i64>,
    implied_port: F<i64>,
    token: F<Vec<u8>>,
    want: F<Want>,
    k: F<[u8; 32]>,
    sig: F<[u8; 64]>,
    seq: F<i64>,
    cas: F<i64>,
    salt: F<Vec<u8>>,
}
impl Lenient for RawArgs {
    fn from_dict<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        read_dict(map, |a: &mut RawArgs, key, map| {
            match key {
                b"id" => a.id = map.next_value()?,
                b"target" => a.target = map.next_value()?,
                b"info_hash" => a.info_hash = map.next_value()?,
                b"port" => a.port = map.next_value()?,
                b"implied_port" => a.implied_port = map.next_value()?,
                b"token" => a.token = map.next_value()?,
                b"want" => a.want = map.next_value()?,
                b"k" => a.k = map.next_value()?,
                b"sig" => a.sig = map.next_value()?,
                b"seq" => a.seq = map.next_value()?,
                b"cas" => a.cas = map.next_value()?,
                b"salt" => a.salt = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        })
    }
}

/// Response body `r`.
#[derive(Default)]
struct RawResponse {
    id: F<Id>,
    nodes: F<Nodes4>,
    nodes6: F<Nodes6>,
    values: F<Values>,
    token: F<Vec<u8>>,
    k: F<[u8; 32]>,
    sig: F<[u8; 64]>,
    seq: F<i64>,
    interval: F<i64>,
    num: F<i64>,
    samples: F<Samples>,
}
impl Lenient for RawResponse {
    fn from_dict<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        read_dict(map, |r: &mut RawResponse, key, map| {
            match key {
                b"id" => r.id = map.next_value()?,
                b"nodes" => r.nodes = map.next_value()?,
                b"nodes6" => r.nodes6 = map.next_value()?,
                b"values" => r.values = map.next_value()?,
                b"token" => r.token = map.next_value()?,
                b"k" => r.k = map.next_value()?,
                b"sig" => r.sig = map.next_value()?,
                b"seq" => r.seq = map.next_value()?,
                b"interval" => r.interval = map.next_value()?,
                b"num" => r.num = map.next_value()?,
                b"samples" => r.samples = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        })
    }
}

/// The top-level dictionary. `a`, `r` and `e` are all read (keys are sorted, so `y`
/// comes last); only the one `y` selects is used.
#[derive(Default)]
struct RawMessage {
    t: F<TransactionId>,
    y: F<Kind>,
    q: F<MethodName>,
    a: F<RawArgs>,
    r: F<RawResponse>,
    e: F<ErrorList>,
    v: F<Vec<u8>>,
    ip: F<SocketAddr>,
    ro: F<i64>,
}
impl Lenient for RawMessage {
    fn from_dict<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        read_dict(map, |m: &mut RawMessage, key, map| {
            match key {
                b"t" => m.t = map.next_value()?,
                b"y" => m.y = map.next_value()?,
                b"q" => m.q = map.next_value()?,
                b"a" => m.a = map.next_value()?,
                b"r" => m.r = map.next_value()?,
                b"e" => m.e = map.next_value()?,
                b"v" => m.v = map.next_value()?,
                b"ip" => m.ip = map.next_value()?,
                b"ro" => m.ro = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        })
    }
}

impl RawMessage {
    /// `buf` is the message's bytes, where BEP 44's `v` is found as written.
    fn classify(self, buf: &[u8]) -> Result<Message, DecodeError> {
        let tid = self.t.required("t");
        let kind = match self.y.required("y") {
            Ok(k) => k,
            Err(reason) => {
                return Err(DecodeError::Garbage {
                    tid: tid.ok(),
                    reason,
                })
            }
        };
        let tid = tid.map_err(|reason| DecodeError::Garbage { tid: None, reason })?;
        let body = match kind {
            Kind::Query => match query(self.q, self.a, self.ro, buf) {
                Ok(q) => Body::Query(q),
                Err(QueryError::Unknown(method)) => {
                    return Err(DecodeError::UnknownMethod { tid, method })
                }
                Err(QueryError::Invalid(reason)) => {
                    return Err(DecodeError::InvalidQuery { tid, reason })
                }
            },
            Kind::Response => match response(self.r, buf) {
                Ok(r) => Body::Response(r),
                Err(reason) => return Err(DecodeError::InvalidResponse { tid, reason }),
            },
            Kind::Error => match self.e.required("e") {
                Ok(e) => Body::Error(KrpcError {
                    code: ErrorCode::from(e.code),
                    message: e
                        .message
                        .map(|m| String::from_utf8_lossy(&m).into_owned())
                        .unwrap_or_default(),
                }),
                Err(reason) => return Err(DecodeError::InvalidError { tid, reason }),
            },
        };
        Ok(Message {
            tid,
            version: self.v.ok(),
            ip: self.ip.ok(),
            body,
        })
    }
}

enum QueryError {
    Unknown(Vec<u8>),
    Invalid(Reason),
}

impl From<Reason> for QueryError {
    fn from(r: Reason) -> QueryError {
        QueryError::Invalid(r)
    }
}

fn query(q: F<MethodName>, a: F<RawArgs>, ro: F<i64>, buf: &[u8]) -> Result<Query, QueryError> {
    let name = match q.required("q")? {
        MethodName::Known(k) => k,
        MethodName::Unknown(m) => return Err(QueryError::Unknown(m)),
    };
    let a = a.required("a")?;
    let id = a.id.required("id")?;
    let want = a.want.ok().unwrap_or_default();
    let method = match name {
        Known::Ping => Method::Ping,
        Known::FindNode => Method::FindNode {
            target: a.target.required("target")?,
            want,
        },
        Known::GetPeers => Method::GetPeers {
            info_hash: a.info_hash.required("info_hash")?,
            want,
        },
        Known::AnnouncePeer => {
            let info_hash = a.info_hash.required("info_hash")?;
            let implied_port = a.implied_port.ok().is_some_and(|i| i != 0);
            // With implied_port the receiver ignores `port`, so a missing or bad one is 0.
            let port = match a.port {
                F::Absent => None,
                F::Bad => Some(None),
                F::Ok(p) => Some(u16::try_from(p).ok()),
            };
            let port = match port {
                Some(Some(p)) => p,
                _ if implied_port => 0,
                None => return Err(Reason::Missing("port").into()),
                Some(None) => return Err(Reason::Invalid("port").into()),
            };
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token: a.token.required("token")?,
            }
        }
        Known::Get => Method::Get {
            target: a.target.required("target")?,
            seq: a.seq.optional("seq")?,
            want,
        },
        Known::SampleInfohashes => Method::SampleInfohashes {
            target: a.target.required("target")?,
            want,
        },
        Known::Put => {
            let v = span::nested_value(buf, b"a", b"v").ok_or(Reason::Missing("v"))?;
            let k = a.k.optional("k")?;
            let (sig, seq) = match k {
                // A mutable item needs its signature and sequence number.
                Some(_) => (Some(a.sig.required("sig")?), Some(a.seq.required("seq")?)),
                None => (a.sig.optional("sig")?, a.seq.optional("seq")?),
            };
            Method::Put(Box::new(PutArgs {
                token: a.token.required("token")?,
                v: buf[v].to_vec(),
                k,
                sig,
                seq,
                cas: a.cas.optional("cas")?,
                salt: a.salt.optional("salt")?.unwrap_or_default(),
            }))
        }
    };
    Ok(Query {
        id,
        read_only: ro.ok().is_some_and(|r| r != 0),
        method,
    })
}

fn response(r: F<RawResponse>, buf: &[u8]) -> Result<Response, Reason> {
    let r = r.required("r")?;
    Ok(Response {
        id: r.id.required("id")?,
        nodes: r.nodes.optional("nodes")?.map(|n| n.0),
        nodes6: r.nodes6.optional("nodes6")?.map(|n| n.0),
        values: r.values.optional("values")?.map(|v| v.0),
        token: r.token.optional("token")?,
        // BEP 44 and 51 fields answer only some queries, and the decoder does not know
        // which one this response answers: a malformed one reads as absent, and the
        // node that asked decides whether its absence matters.
        v: span::nested_value(buf, b"r", b"v").map(|v| buf[v].to_vec()),
        k: r.k.ok(),
        sig: r.sig.ok(),
        seq: r.seq.ok(),
        interval: r.interval.ok(),
        num: r.num.ok(),
        samples: r.samples.ok().map(|s| s.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_guard() {
        assert_eq!(check_nesting(b"de"), Ok(2));
        assert_eq!(check_nesting(b"d1:ali1ei2eee"), Ok(13));
        assert_eq!(
            check_nesting(b"d1:ai1eexyz"),
            Ok(8),
            "trailing bytes not counted"
        );
        assert_eq!(check_nesting(b"d1:a"), Err(Reason::NotBencode));
        assert_eq!(check_nesting(b"le"), Err(Reason::NotADict));
        assert_eq!(check_nesting(b""), Err(Reason::NotBencode));
        assert_eq!(check_nesting(b"x"), Err(Reason::NotBencode));
        assert_eq!(check_nesting(b"d3:ab"), Err(Reason::NotBencode));
        assert_eq!(check_nesting(b"d:e"), Err(Reason::NotBencode));
        assert_eq!(check_nesting(b"d1:ai12"), Err(Reason::NotBencode));
        assert_eq!(
            check_nesting(b"d99999999999999999999999:e"),
            Err(Reason::NotBencode)
        );
        // "d" and "l" inside strings do not count.
        assert_eq!(check_nesting(b"d5:lllll1:xe"), Ok(12));
        assert_eq!(check_nesting(b"d5:dddddi1ee"), Ok(12));
        let ok = format!(
            "d1:a{}{}e",
            "l".repeat(MAX_DEPTH - 1),
            "e".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(check_nesting(ok.as_bytes()), Ok(ok.len()));
        let deep = format!("d1:a{}{}e", "l".repeat(MAX_DEPTH), "e".repeat(MAX_DEPTH));
        assert_eq!(check_nesting(deep.as_bytes()), Err(Reason::TooDeep));
    }
}
