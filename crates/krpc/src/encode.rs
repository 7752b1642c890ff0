//! Encoding: a direct writer of canonical bencode, the `Serialize` wrappers fed to
//! serde_bencode that it must agree with byte for byte, and exact size arithmetic.
//!
//! A node encodes one message per datagram it sends, so encoding is on the hot path.
//! serde_bencode buffers every dictionary entry in a `Vec` of its own and sorts the
//! entries when the map closes; that was about a seventh of a loaded node's time. The
//! messages here have a fixed set of keys, so [`Message::encode`] writes them straight
//! into one buffer sized by [`Message::encoded_len`], in sorted order.
//! [`Message::encode_serde`] is the same message through serde_bencode; the tests check
//! that both give the same bytes for every kind of message (decoding always goes
//! through serde_bencode).

use std::net::SocketAddr;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_bytes::Bytes;

use crate::compact::{self, Node4, Node6, NODE4_LEN, NODE6_LEN};
use crate::message::{Body, KrpcError, Message, Method, PutArgs, Query, Response, Want};

/// UDP payload size that avoids IP fragmentation on practically every path (1,500-byte
/// Ethernet MTU minus IPv6/UDP headers and tunnel overhead). Replies should stay at or below
/// it; see [`Message::fit_values`].
pub const SAFE_PAYLOAD: usize = 1400;

/// Largest UDP payload; no datagram can be longer.
pub const MAX_DATAGRAM: usize = 65_535;

/// IPv4 `values` that fit in a `get_peers` reply of at most [`SAFE_PAYLOAD`] bytes that
/// also carries 8 `nodes`, a 20-byte token, an 8-byte `t`, a 4-byte `v` and an IPv6 `ip`
/// (smaller fields leave more room; [`Message::fit_values`] computes the exact cut).
pub const GET_PEERS_SAFE_VALUES_V4: usize = 131;

/// IPv6 `values` that fit in a `get_peers` reply of at most [`SAFE_PAYLOAD`] bytes that
/// also carries 8 `nodes6` and the same fields as for [`GET_PEERS_SAFE_VALUES_V4`].
pub const GET_PEERS_SAFE_VALUES_V6: usize = 45;

impl Message {
    /// Encodes to canonical bencode (keys sorted), in one allocation of the exact size.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoding to `out` (call `out.clear()` first to reuse a send buffer).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        write_message(self, out);
    }

    /// The same encoding through serde_bencode: the reference [`Message::encode`] is
    /// tested against. A BEP 44 `v` goes through serde_bencode's own value type, so the
    /// two agree when `v` is canonical bencode (as every value swarmlab writes is).
    pub fn encode_serde(&self) -> Vec<u8> {
        // Infallible: every value we emit is an integer, byte string, list or map with
        // string keys, which serde_bencode always accepts.
        serde_bencode::to_bytes(&Wire(self)).expect("KRPC messages always serialize")
    }

    /// Exact length of [`Message::encode`]'s output, computed without encoding.
    pub fn encoded_len(&self) -> usize {
        let mut n = 2 + key_len("t") + bytes_len(self.tid.len());
        if let Some(v) = &self.version {
            n += key_len("v") + bytes_len(v.len());
        }
        if let Some(ip) = &self.ip {
            n += key_len("ip") + bytes_len(compact::peer_len(ip));
        }
        n += key_len("y") + bytes_len(1);
        n += match &self.body {
            Body::Query(q) => {
                key_len("q")
                    + bytes_len(q.method.name().len())
                    + key_len("a")
                    + args_len(q)
                    + if q.read_only { key_len("ro") + 3 } else { 0 }
            }
            Body::Response(r) => key_len("r") + response_len(r),
            Body::Error(e) => {
                key_len("e") + 2 + int_len(e.code.code()) + bytes_len(e.message.len())
            }
        };
        n
    }

    /// If this is a response carrying `values`, drops values from the end until the
    /// encoding is at most `max_len` bytes (or no values are left, in which case `values`
    /// becomes `None`). Returns how many values were dropped. Use with [`SAFE_PAYLOAD`].
    pub fn fit_values(&mut self, max_len: usize) -> usize {
        let mut len = self.encoded_len();
        let Body::Response(Response {
            values: Some(values),
            ..
        }) = &mut self.body
        else {
            return 0;
        };
        let before = values.len();
        while len > max_len {
            let Some(v) = values.pop() else { break };
            len -= value_len(&v);
        }
        let dropped = before - values.len();
        if dropped > 0 && values.is_empty() {
            if let Body::Response(r) = &mut self.body {
                r.values = None;
            }
        }
        dropped
    }
}

/// Encoded size of one `values` entry: 8 bytes for IPv4 (`6:` + 6), 21 for IPv6 (`18:` + 18).
pub fn value_len(addr: &SocketAddr) -> usize {
    bytes_len(compact::peer_len(addr))
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Encoded length of a byte string of `n` bytes.
fn bytes_len(n: usize) -> usize {
    digits(n as u64) + 1 + n
}

fn key_len(k: &str) -> usize {
    bytes_len(k.len())
}

fn int_len(i: i64) -> usize {
    2 + usize::from(i < 0) + digits(i.unsigned_abs())
}

fn want_len(w: &Want) -> usize {
    if w.is_empty() {
        0
    } else {
        key_len("want") + 2 + 4 * (usize::from(w.n4) + usize::from(w.n6))
    }
}

fn opt_int_len(key: &str, i: Option<i64>) -> usize {
    i.map_or(0, |i| key_len(key) + int_len(i))
}

fn put_args_len(p: &PutArgs) -> usize {
    opt_int_len("cas", p.cas)
        + p.k.map_or(0, |k| key_len("k") + bytes_len(k.len()))
        + if p.salt.is_empty() {
            0
        } else {
            key_len("salt") + bytes_len(p.salt.len())
        }
        + opt_int_len("seq", p.seq)
        + p.sig.map_or(0, |s| key_len("sig") + bytes_len(s.len()))
        + key_len("token")
        + bytes_len(p.token.len())
        + key_len("v")
        + p.v.len()
}

fn args_len(q: &Query) -> usize {
    let id = key_len("id") + bytes_len(20);
    2 + id
        + match &q.method {
            Method::Ping => 0,
            Method::FindNode { want, .. } | Method::SampleInfohashes { want, .. } => {
                key_len("target") + bytes_len(20) + want_len(want)
            }
            Method::Get { seq, want, .. } => {
                opt_int_len("seq", *seq) + key_len("target") + bytes_len(20) + want_len(want)
            }
            Method::Put(p) => put_args_len(p),
            Method::GetPeers { want, .. } => key_len("info_hash") + bytes_len(20) + want_len(want),
            Method::AnnouncePeer {
                port,
                implied_port,
                token,
                ..
            } => {
                key_len("info_hash")
                    + bytes_len(20)
                    + key_len("port")
                    + int_len(i64::from(*port))
                    + key_len("token")
                    + bytes_len(token.len())
                    + if *implied_port {
                        key_len("implied_port") + 3
                    } else {
                        0
                    }
            }
        }
}

fn response_len(r: &Response) -> usize {
    let mut n = 2 + key_len("id") + bytes_len(20);
    n += opt_int_len("interval", r.interval);
    n += r.k.map_or(0, |k| key_len("k") + bytes_len(k.len()));
    n += opt_int_len("num", r.num);
    if let Some(s) = &r.samples {
        n += key_len("samples") + bytes_len(s.len() * 20);
    }
    n += opt_int_len("seq", r.seq);
    n += r.sig.map_or(0, |s| key_len("sig") + bytes_len(s.len()));
    if let Some(v) = &r.v {
        n += key_len("v") + v.len();
    }
    if let Some(nodes) = &r.nodes {
        n += key_len("nodes") + bytes_len(nodes.len() * NODE4_LEN);
    }
    if let Some(nodes) = &r.nodes6 {
        n += key_len("nodes6") + bytes_len(nodes.len() * NODE6_LEN);
    }
    if let Some(t) = &r.token {
        n += key_len("token") + bytes_len(t.len());
    }
    if let Some(values) = &r.values {
        n += key_len("values") + 2 + values.iter().map(value_len).sum::<usize>();
    }
    n
}

// ---------------------------------------------------------------------------------------
// The direct writer. Keys go out in raw byte order, as canonical bencode requires:
// message a, e, ip, q, r, ro, t, v, y; arguments cas, id, implied_port, info_hash, k,
// port, salt, seq, sig, target, token, v, want; response id, interval, k, nodes, nodes6,
// num, samples, seq, sig, token, v, values.

fn put_uint(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn put_int(out: &mut Vec<u8>, i: i64) {
    out.push(b'i');
    if i < 0 {
        out.push(b'-');
    }
    put_uint(out, i.unsigned_abs());
    out.push(b'e');
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    put_uint(out, n as u64);
    out.push(b':');
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

fn put_peer(out: &mut Vec<u8>, a: &SocketAddr) {
    let (buf, len) = compact::encode_peer(a);
    put_bytes(out, &buf[..len]);
}

fn put_want(out: &mut Vec<u8>, w: &Want) {
    if w.is_empty() {
        return;
    }
    put_bytes(out, b"want");
    out.push(b'l');
    if w.n4 {
        put_bytes(out, b"n4");
    }
    if w.n6 {
        put_bytes(out, b"n6");
    }
    out.push(b'e');
}

fn write_message(m: &Message, out: &mut Vec<u8>) {
    out.push(b'd');
    match &m.body {
        Body::Query(q) => {
            put_bytes(out, b"a");
            write_args(q, out);
        }
        Body::Error(e) => {
            put_bytes(out, b"e");
            out.push(b'l');
            put_int(out, e.code.code());
            put_bytes(out, e.message.as_bytes());
            out.push(b'e');
        }
        Body::Response(_) => {}
    }
    if let Some(ip) = &m.ip {
        put_bytes(out, b"ip");
        put_peer(out, ip);
    }
    let y: &[u8] = match &m.body {
        Body::Query(q) => {
            put_bytes(out, b"q");
            put_bytes(out, q.method.name().as_bytes());
            b"q"
        }
        Body::Response(r) => {
            put_bytes(out, b"r");
            write_response(r, out);
            b"r"
        }
        Body::Error(_) => b"e",
    };
    if let Body::Query(Query {
        read_only: true, ..
    }) = &m.body
    {
        put_bytes(out, b"ro");
        put_int(out, 1);
    }
    put_bytes(out, b"t");
    put_bytes(out, m.tid.as_bytes());
    if let Some(v) = &m.version {
        put_bytes(out, b"v");
        put_bytes(out, v);
    }
    put_bytes(out, b"y");
    put_bytes(out, y);
    out.push(b'e');
}

fn put_opt_int(out: &mut Vec<u8>, key: &[u8], i: Option<i64>) {
    if let Some(i) = i {
        put_bytes(out, key);
        put_int(out, i);
    }
}

fn write_args(q: &Query, out: &mut Vec<u8>) {
    out.push(b'd');
    if let Method::Put(p) = &q.method {
        put_opt_int(out, b"cas", p.cas);
    }
    put_bytes(out, b"id");
    put_bytes(out, &q.id.0);
    match &q.method {
        Method::Ping => {}
        Method::Get { target, seq, want } => {
            put_opt_int(out, b"seq", *seq);
            put_bytes(out, b"target");
            put_bytes(out, &target.0);
            put_want(out, want);
        }
        Method::Put(p) => {
            if let Some(k) = &p.k {
                put_bytes(out, b"k");
                put_bytes(out, k);
            }
            if !p.salt.is_empty() {
                put_bytes(out, b"salt");
                put_bytes(out, &p.salt);
            }
            put_opt_int(out, b"seq", p.seq);
            if let Some(sig) = &p.sig {
                put_bytes(out, b"sig");
                put_bytes(out, sig);
            }
            put_bytes(out, b"token");
            put_bytes(out, &p.token);
            put_bytes(out, b"v");
            out.extend_from_slice(&p.v);
        }
        Method::FindNode { target, want } | Method::SampleInfohashes { target, want } => {
            put_bytes(out, b"target");
            put_bytes(out, &target.0);
            put_want(out, want);
        }
        Method::GetPeers { info_hash, want } => {
            put_bytes(out, b"info_hash");
            put_bytes(out, &info_hash.0);
            put_want(out, want);
        }
        Method::AnnouncePeer {
            info_hash,
            port,
            implied_port,
            token,
        } => {
            if *implied_port {
                put_bytes(out, b"implied_port");
                put_int(out, 1);
            }
            put_bytes(out, b"info_hash");
            put_bytes(out, &info_hash.0);
            put_bytes(out, b"port");
            put_int(out, i64::from(*port));
            put_bytes(out, b"token");
            put_bytes(out, token);
        }
    }
    out.push(b'e');
}

fn write_response(r: &Response, out: &mut Vec<u8>) {
    out.push(b'd');
    put_bytes(out, b"id");
    put_bytes(out, &r.id.0);
    put_opt_int(out, b"interval", r.interval);
    if let Some(k) = &r.k {
        put_bytes(out, b"k");
        put_bytes(out, k);
    }
    if let Some(nodes) = &r.nodes {
        put_bytes(out, b"nodes");
        put_len(out, nodes.len() * NODE4_LEN);
        compact::encode_nodes4(nodes, out);
    }
    if let Some(nodes) = &r.nodes6 {
        put_bytes(out, b"nodes6");
        put_len(out, nodes.len() * NODE6_LEN);
        compact::encode_nodes6(nodes, out);
    }
    put_opt_int(out, b"num", r.num);
    if let Some(samples) = &r.samples {
        put_bytes(out, b"samples");
        put_len(out, samples.len() * 20);
        for s in samples {
            out.extend_from_slice(&s.0);
        }
    }
    put_opt_int(out, b"seq", r.seq);
    if let Some(sig) = &r.sig {
        put_bytes(out, b"sig");
        put_bytes(out, sig);
    }
    if let Some(t) = &r.token {
        put_bytes(out, b"token");
        put_bytes(out, t);
    }
    if let Some(v) = &r.v {
        put_bytes(out, b"v");
        out.extend_from_slice(v);
    }
    if let Some(values) = &r.values {
        put_bytes(out, b"values");
        out.push(b'l');
        for v in values {
            put_peer(out, v);
        }
        out.push(b'e');
    }
    out.push(b'e');
}

// ---------------------------------------------------------------------------------------
// Serialize wrappers (the reference encoding through serde_bencode).

struct Wire<'a>(&'a Message);

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        // The length only pre-sizes serde_bencode's entry buffer (it sorts on `end`).
        let mut map = s.serialize_map(Some(6))?;
        // Sorted: a, e, ip, q, r, ro, t, v, y.
        match &m.body {
            Body::Query(q) => map.serialize_entry("a", &Args(q))?,
            Body::Error(e) => map.serialize_entry("e", &ErrorList(e))?,
            Body::Response(_) => {}
        }
        if let Some(ip) = &m.ip {
            map.serialize_entry("ip", &Peer(ip))?;
        }
        let y = match &m.body {
            Body::Query(q) => {
                map.serialize_entry("q", q.method.name())?;
                "q"
            }
            Body::Response(r) => {
                map.serialize_entry("r", &Resp(r))?;
                "r"
            }
            Body::Error(_) => "e",
        };
        if let Body::Query(Query {
            read_only: true, ..
        }) = &m.body
        {
            map.serialize_entry("ro", &1u8)?;
        }
        map.serialize_entry("t", Bytes::new(m.tid.as_bytes()))?;
        if let Some(v) = &m.version {
            map.serialize_entry("v", Bytes::new(v))?;
        }
        map.serialize_entry("y", y)?;
        map.end()
    }
}

struct Args<'a>(&'a Query);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let q = self.0;
        let mut map = s.serialize_map(Some(5))?;
        // Sorted: cas, id, implied_port, info_hash, k, port, salt, seq, sig, target,
        // token, v, want.
        if let Method::Put(p) = &q.method {
            if let Some(cas) = p.cas {
                map.serialize_entry("cas", &cas)?;
            }
        }
        map.serialize_entry("id", Bytes::new(&q.id.0))?;
        match &q.method {
            Method::Ping => {}
            Method::Get { target, seq, want } => {
                if let Some(seq) = seq {
                    map.serialize_entry("seq", seq)?;
                }
                map.serialize_entry("target", Bytes::new(&target.0))?;
                if !want.is_empty() {
                    map.serialize_entry("want", &WantList(want))?;
                }
            }
            Method::Put(p) => {
                if let Some(k) = &p.k {
                    map.serialize_entry("k", Bytes::new(k))?;
                }
                if !p.salt.is_empty() {
                    map.serialize_entry("salt", Bytes::new(&p.salt))?;
                }
                if let Some(seq) = p.seq {
                    map.serialize_entry("seq", &seq)?;
                }
                if let Some(sig) = &p.sig {
                    map.serialize_entry("sig", Bytes::new(sig))?;
                }
                map.serialize_entry("token", Bytes::new(&p.token))?;
                map.serialize_entry("v", &Raw(&p.v))?;
            }
            Method::FindNode { target, want } | Method::SampleInfohashes { target, want } => {
                map.serialize_entry("target", Bytes::new(&target.0))?;
                if !want.is_empty() {
                    map.serialize_entry("want", &WantList(want))?;
                }
            }
            Method::GetPeers { info_hash, want } => {
                map.serialize_entry("info_hash", Bytes::new(&info_hash.0))?;
                if !want.is_empty() {
                    map.serialize_entry("want", &WantList(want))?;
                }
            }
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            } => {
                if *implied_port {
                    map.serialize_entry("implied_port", &1u8)?;
                }
                map.serialize_entry("info_hash", Bytes::new(&info_hash.0))?;
                map.serialize_entry("port", port)?;
                map.serialize_entry("token", Bytes::new(token))?;
            }
        }
        map.end()
    }
}

struct WantList<'a>(&'a Want);

impl Serialize for WantList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        if self.0.n4 {
            seq.serialize_element("n4")?;
        }
        if self.0.n6 {
            seq.serialize_element("n6")?;
        }
        seq.end()
    }
}

struct Resp<'a>(&'a Response);

impl Serialize for Resp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = s.serialize_map(Some(5))?;
        // Sorted: id, interval, k, nodes, nodes6, num, samples, seq, sig, token, v, values.
        map.serialize_entry("id", Bytes::new(&r.id.0))?;
        if let Some(i) = r.interval {
            map.serialize_entry("interval", &i)?;
        }
        if let Some(k) = &r.k {
            map.serialize_entry("k", Bytes::new(k))?;
        }
        if let Some(nodes) = &r.nodes {
            map.serialize_entry("nodes", &Nodes4(nodes))?;
        }
        if let Some(nodes) = &r.nodes6 {
            map.serialize_entry("nodes6", &Nodes6(nodes))?;
        }
        if let Some(n) = r.num {
            map.serialize_entry("num", &n)?;
        }
        if let Some(samples) = &r.samples {
            let flat: Vec<u8> = samples.iter().flat_map(|s| s.0).collect();
            map.serialize_entry("samples", Bytes::new(&flat))?;
        }
        if let Some(seq) = r.seq {
            map.serialize_entry("seq", &seq)?;
        }
        if let Some(sig) = &r.sig {
            map.serialize_entry("sig", Bytes::new(sig))?;
        }
        if let Some(t) = &r.token {
            map.serialize_entry("token", Bytes::new(t))?;
        }
        if let Some(v) = &r.v {
            map.serialize_entry("v", &Raw(v))?;
        }
        if let Some(values) = &r.values {
            map.serialize_entry("values", &Values(values))?;
        }
        map.end()
    }
}

/// A BEP 44 value: bencode already, parsed into serde_bencode's value type so that
/// serde_bencode writes it (as a byte string if it is not bencode at all).
struct Raw<'a>(&'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_bencode::from_bytes::<serde_bencode::value::Value>(self.0) {
            Ok(v) => v.serialize(s),
            Err(_) => s.serialize_bytes(self.0),
        }
    }
}

struct Nodes4<'a>(&'a [Node4]);

impl Serialize for Nodes4<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Vec::new();
        compact::encode_nodes4(self.0, &mut buf);
        s.serialize_bytes(&buf)
    }
}

struct Nodes6<'a>(&'a [Node6]);

impl Serialize for Nodes6<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Vec::new();
        compact::encode_nodes6(self.0, &mut buf);
        s.serialize_bytes(&buf)
    }
}

struct Peer<'a>(&'a SocketAddr);

impl Serialize for Peer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (buf, len) = compact::encode_peer(self.0);
        s.serialize_bytes(&buf[..len])
    }
}

struct Values<'a>(&'a [SocketAddr]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            seq.serialize_element(&Peer(v))?;
        }
        seq.end()
    }
}

struct ErrorList<'a>(&'a KrpcError);

impl Serialize for ErrorList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&self.0.code.code())?;
        seq.serialize_element(Bytes::new(self.0.message.as_bytes()))?;
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ErrorCode, TransactionId};
    use crate::Id;
    use rand::{Rng, SeedableRng};

    fn random_message(rng: &mut impl Rng) -> Message {
        let id = |rng: &mut dyn rand::RngCore| {
            let mut b = [0u8; 20];
            rng.fill_bytes(&mut b);
            Id(b)
        };
        let want = Want {
            n4: rng.gen(),
            n6: rng.gen(),
        };
        let tid = TransactionId::new(
            (0..rng.gen_range(0..10))
                .map(|_| rng.gen::<u8>())
                .collect::<Vec<u8>>(),
        );
        let peer = |rng: &mut dyn rand::RngCore| -> SocketAddr {
            if rng.gen_bool(0.7) {
                SocketAddr::from((rng.gen::<[u8; 4]>(), rng.gen::<u16>()))
            } else {
                SocketAddr::from((rng.gen::<[u8; 16]>(), rng.gen::<u16>()))
            }
        };
        // A canonical bencoded value: a string, an integer, or a list or dictionary
        // (sorted, distinct keys) of strings.
        let value = |rng: &mut dyn rand::RngCore| -> Vec<u8> {
            let string = |rng: &mut dyn rand::RngCore, tag: u8| -> Vec<u8> {
                let n = rng.gen_range(0..12);
                let mut b = format!("{}:", n + 1).into_bytes();
                b.push(tag);
                b.extend((0..n).map(|_| rng.gen::<u8>()));
                b
            };
            match rng.gen_range(0..4) {
                0 => string(rng, b'x'),
                1 => format!("i{}e", rng.gen_range(-1_000_000i64..1_000_000)).into_bytes(),
                2 => {
                    let mut b = vec![b'l'];
                    for _ in 0..rng.gen_range(0..4) {
                        b.extend(string(rng, b'x'));
                    }
                    b.push(b'e');
                    b
                }
                _ => {
                    let mut b = vec![b'd'];
                    for tag in [b'a', b'b', b'c'] {
                        if rng.gen() {
                            b.extend(format!("1:{}", tag as char).into_bytes());
                            b.extend(string(rng, b'x'));
                        }
                    }
                    b.push(b'e');
                    b
                }
            }
        };
        let body = match rng.gen_range(0..10) {
            7 => Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::Get {
                    target: id(rng),
                    seq: rng.gen::<bool>().then(|| rng.gen_range(-5..1_000_000)),
                    want,
                },
            }),
            8 => Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::SampleInfohashes {
                    target: id(rng),
                    want,
                },
            }),
            9 => {
                let mutable = rng.gen::<bool>();
                Body::Query(Query {
                    id: id(rng),
                    read_only: rng.gen(),
                    method: Method::Put(Box::new(PutArgs {
                        token: (0..rng.gen_range(0..30)).map(|_| rng.gen()).collect(),
                        v: value(rng),
                        k: mutable.then(|| rng.gen()),
                        sig: mutable.then(|| {
                            let mut s = [0u8; 64];
                            rng.fill_bytes(&mut s);
                            s
                        }),
                        seq: mutable.then(|| rng.gen_range(0..i64::MAX)),
                        cas: (mutable && rng.gen()).then(|| rng.gen_range(0..100)),
                        salt: if mutable && rng.gen() {
                            (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect()
                        } else {
                            Vec::new()
                        },
                    })),
                })
            }
            0 => Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::Ping,
            }),
            1 => Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::FindNode {
                    target: id(rng),
                    want,
                },
            }),
            2 => Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::GetPeers {
                    info_hash: id(rng),
                    want,
                },
            }),
            3 => Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::AnnouncePeer {
                    info_hash: id(rng),
                    port: rng.gen(),
                    implied_port: rng.gen(),
                    token: (0..rng.gen_range(0..30)).map(|_| rng.gen()).collect(),
                },
            }),
            4 | 5 => {
                let mut r = Response::new(id(rng));
                if rng.gen() {
                    r.nodes = Some(
                        (0..rng.gen_range(0..9))
                            .map(|_| Node4 {
                                id: id(rng),
                                addr: std::net::SocketAddrV4::new(
                                    rng.gen::<[u8; 4]>().into(),
                                    rng.gen(),
                                ),
                            })
                            .collect(),
                    );
                }
                if rng.gen() {
                    r.nodes6 = Some(
                        (0..rng.gen_range(0..9))
                            .map(|_| Node6 {
                                id: id(rng),
                                addr: std::net::SocketAddrV6::new(
                                    rng.gen::<[u8; 16]>().into(),
                                    rng.gen(),
                                    0,
                                    0,
                                ),
                            })
                            .collect(),
                    );
                }
                if rng.gen() {
                    r.token = Some((0..rng.gen_range(0..30)).map(|_| rng.gen()).collect());
                }
                if rng.gen() {
                    r.values = Some((0..rng.gen_range(0..200)).map(|_| peer(rng)).collect());
                }
                if rng.gen_bool(0.3) {
                    r.v = Some(value(rng));
                    r.seq = rng.gen::<bool>().then(|| rng.gen_range(-3..1_000));
                    r.k = rng.gen::<bool>().then(|| rng.gen());
                    r.sig = rng.gen::<bool>().then(|| {
                        let mut s = [0u8; 64];
                        rng.fill_bytes(&mut s);
                        s
                    });
                }
                if rng.gen_bool(0.3) {
                    r.interval = Some(rng.gen_range(0..21_600));
                    r.num = Some(rng.gen_range(0..100_000));
                    r.samples = Some((0..rng.gen_range(0..20)).map(|_| id(rng)).collect());
                }
                Body::Response(r)
            }
            _ => Body::Error(KrpcError {
                code: match rng.gen_range(0..10) {
                    0 => ErrorCode::Generic,
                    1 => ErrorCode::Server,
                    2 => ErrorCode::Protocol,
                    3 => ErrorCode::MethodUnknown,
                    4 => ErrorCode::MessageTooBig,
                    5 => ErrorCode::InvalidSignature,
                    6 => ErrorCode::SaltTooBig,
                    7 => ErrorCode::CasMismatch,
                    8 => ErrorCode::SequenceTooOld,
                    _ => ErrorCode::Other(rng.gen_range(-1_000_000..1_000_000)),
                },
                message: (0..rng.gen_range(0..40))
                    .map(|_| rng.gen_range(' '..='~'))
                    .collect(),
            }),
        };
        Message {
            tid,
            version: rng
                .gen::<bool>()
                .then(|| (0..rng.gen_range(0..6)).map(|_| rng.gen()).collect()),
            ip: rng.gen::<bool>().then(|| peer(rng)),
            body,
        }
    }

    #[test]
    fn direct_writer_matches_serde_bencode_byte_for_byte() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        for _ in 0..20_000 {
            let m = random_message(&mut rng);
            let direct = m.encode();
            assert_eq!(direct, m.encode_serde(), "{m:?}");
            assert_eq!(direct.len(), m.encoded_len());
            assert_eq!(Message::decode(&direct).unwrap(), m);
        }
    }

    #[test]
    fn integers_encode_like_bencode() {
        for (i, want) in [
            (0i64, "i0e"),
            (7, "i7e"),
            (-3, "i-3e"),
            (65535, "i65535e"),
            (i64::MIN, "i-9223372036854775808e"),
        ] {
            let mut out = Vec::new();
            put_int(&mut out, i);
            assert_eq!(out, want.as_bytes());
        }
    }
}
