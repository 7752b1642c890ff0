//! The direct writer of canonical bencode.

use std::net::SocketAddr;

use crate::compact::{self, NODE4_LEN, NODE6_LEN};
use crate::message::{Body, Message, Method, Query, Response, Want};

// ---------------------------------------------------------------------------------------
// The direct writer. Keys go out in raw byte order, as canonical bencode requires:
// message a, e, ip, q, r, ro, t, v, y; arguments cas, id, implied_port, info_hash, k,
// port, salt, seq, sig, target, token, v, want; response id, interval, k, nodes, nodes6,
// num, samples, seq, sig, token, v, values.

pub(super) fn put_uint(out: &mut Vec<u8>, mut n: u64) {
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

pub(super) fn put_int(out: &mut Vec<u8>, i: i64) {
    out.push(b'i');
    if i < 0 {
        out.push(b'-');
    }
    put_uint(out, i.unsigned_abs());
    out.push(b'e');
}

pub(super) fn put_len(out: &mut Vec<u8>, n: usize) {
    put_uint(out, n as u64);
    out.push(b':');
}

pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

pub(super) fn put_peer(out: &mut Vec<u8>, a: &SocketAddr) {
    let (buf, len) = compact::encode_peer(a);
    put_bytes(out, &buf[..len]);
}

pub(super) fn put_want(out: &mut Vec<u8>, w: &Want) {
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

pub(super) fn write_message(m: &Message, out: &mut Vec<u8>) {
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

pub(super) fn put_opt_int(out: &mut Vec<u8>, key: &[u8], i: Option<i64>) {
    if let Some(i) = i {
        put_bytes(out, key);
        put_int(out, i);
    }
}

pub(super) fn write_args(q: &Query, out: &mut Vec<u8>) {
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

pub(super) fn write_response(r: &Response, out: &mut Vec<u8>) {
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
