//! Exact size arithmetic: the encoded length of every message, computed before writing
//! so that [`Message::encode`] allocates once.

use std::net::SocketAddr;

use crate::compact::{self, NODE4_LEN, NODE6_LEN};
use crate::message::{Method, PutArgs, Query, Response, Want};

/// Encoded size of one `values` entry: 8 bytes for IPv4 (`6:` + 6), 21 for IPv6 (`18:` + 18).
pub fn value_len(addr: &SocketAddr) -> usize {
    bytes_len(compact::peer_len(addr))
}

pub(super) fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Encoded length of a byte string of `n` bytes.
pub(super) fn bytes_len(n: usize) -> usize {
    digits(n as u64) + 1 + n
}

pub(super) fn key_len(k: &str) -> usize {
    bytes_len(k.len())
}

pub(super) fn int_len(i: i64) -> usize {
    2 + usize::from(i < 0) + digits(i.unsigned_abs())
}

pub(super) fn want_len(w: &Want) -> usize {
    if w.is_empty() {
        0
    } else {
        key_len("want") + 2 + 4 * (usize::from(w.n4) + usize::from(w.n6))
    }
}

pub(super) fn opt_int_len(key: &str, i: Option<i64>) -> usize {
    i.map_or(0, |i| key_len(key) + int_len(i))
}

pub(super) fn put_args_len(p: &PutArgs) -> usize {
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

pub(super) fn args_len(q: &Query) -> usize {
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

pub(super) fn response_len(r: &Response) -> usize {
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
