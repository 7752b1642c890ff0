//! Classification of a raw query or response into [`Query`] or [`Response`], with the
//! reason when a required field is missing or malformed.

use crate::error::Reason;
use crate::message::{Method, PutArgs, Query, Response};
use crate::span;

use super::lenient::*;
use super::raw::*;

pub(super) enum QueryError {
    Unknown(Vec<u8>),
    Invalid(Reason),
}

impl From<Reason> for QueryError {
    fn from(r: Reason) -> QueryError {
        QueryError::Invalid(r)
    }
}

pub(super) fn query(
    q: F<MethodName>,
    a: F<RawArgs>,
    ro: F<i64>,
    buf: &[u8],
) -> Result<Query, QueryError> {
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

pub(super) fn response(r: F<RawResponse>, buf: &[u8]) -> Result<Response, Reason> {
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
