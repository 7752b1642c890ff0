//! The raw message as read from bencode (`e`, `a`, `r` and the top level), before
//! classification.

use std::net::SocketAddr;

use serde::de::{IgnoredAny, MapAccess, SeqAccess};

use crate::error::DecodeError;
use crate::message::{Body, ErrorCode, KrpcError, Message, TransactionId, Want};
use crate::Id;

use super::classify::*;
use super::lenient::*;

/// `e`: `[code, message, ...]`. The code must be an integer; the message is optional.
pub(super) struct ErrorList {
    pub(super) code: i64,
    pub(super) message: Option<Vec<u8>>,
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
pub(super) struct RawArgs {
    pub(super) id: F<Id>,
    pub(super) target: F<Id>,
    pub(super) info_hash: F<Id>,
    pub(super) port: F<i64>,
    pub(super) implied_port: F<i64>,
    pub(super) token: F<Vec<u8>>,
    pub(super) want: F<Want>,
    pub(super) k: F<[u8; 32]>,
    pub(super) sig: F<[u8; 64]>,
    pub(super) seq: F<i64>,
    pub(super) cas: F<i64>,
    pub(super) salt: F<Vec<u8>>,
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
pub(super) struct RawResponse {
    pub(super) id: F<Id>,
    pub(super) nodes: F<Nodes4>,
    pub(super) nodes6: F<Nodes6>,
    pub(super) values: F<Values>,
    pub(super) token: F<Vec<u8>>,
    pub(super) k: F<[u8; 32]>,
    pub(super) sig: F<[u8; 64]>,
    pub(super) seq: F<i64>,
    pub(super) interval: F<i64>,
    pub(super) num: F<i64>,
    pub(super) samples: F<Samples>,
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
pub(super) struct RawMessage {
    pub(super) t: F<TransactionId>,
    pub(super) y: F<Kind>,
    pub(super) q: F<MethodName>,
    pub(super) a: F<RawArgs>,
    pub(super) r: F<RawResponse>,
    pub(super) e: F<ErrorList>,
    pub(super) v: F<Vec<u8>>,
    pub(super) ip: F<SocketAddr>,
    pub(super) ro: F<i64>,
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
    pub(super) fn classify(self, buf: &[u8]) -> Result<Message, DecodeError> {
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
