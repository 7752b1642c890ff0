//! The `Serialize` wrappers fed to serde_bencode: the reference encoding that the direct
//! writer must agree with byte for byte ([`Message::encode_serde`]).

use std::net::SocketAddr;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_bytes::Bytes;

use crate::compact::{self, Node4, Node6};
use crate::message::{Body, KrpcError, Message, Method, Query, Response, Want};

// ---------------------------------------------------------------------------------------
// Serialize wrappers (the reference encoding through serde_bencode).

pub(super) struct Wire<'a>(pub(super) &'a Message);

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

pub(super) struct Args<'a>(pub(super) &'a Query);

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

pub(super) struct WantList<'a>(pub(super) &'a Want);

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

pub(super) struct Resp<'a>(pub(super) &'a Response);

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
pub(super) struct Raw<'a>(pub(super) &'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_bencode::from_bytes::<serde_bencode::value::Value>(self.0) {
            Ok(v) => v.serialize(s),
            Err(_) => s.serialize_bytes(self.0),
        }
    }
}

pub(super) struct Nodes4<'a>(pub(super) &'a [Node4]);

impl Serialize for Nodes4<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Vec::new();
        compact::encode_nodes4(self.0, &mut buf);
        s.serialize_bytes(&buf)
    }
}

pub(super) struct Nodes6<'a>(pub(super) &'a [Node6]);

impl Serialize for Nodes6<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Vec::new();
        compact::encode_nodes6(self.0, &mut buf);
        s.serialize_bytes(&buf)
    }
}

pub(super) struct Peer<'a>(pub(super) &'a SocketAddr);

impl Serialize for Peer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (buf, len) = compact::encode_peer(self.0);
        s.serialize_bytes(&buf[..len])
    }
}

pub(super) struct Values<'a>(pub(super) &'a [SocketAddr]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            seq.serialize_element(&Peer(v))?;
        }
        seq.end()
    }
}

pub(super) struct ErrorList<'a>(pub(super) &'a KrpcError);

impl Serialize for ErrorList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&self.0.code.code())?;
        seq.serialize_element(Bytes::new(self.0.message.as_bytes()))?;
        seq.end()
    }
}
