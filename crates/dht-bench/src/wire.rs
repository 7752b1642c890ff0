//! The generator's KRPC, kept cheap: queries and responses from fixed templates with
//! the transaction id patched in, and answers parsed only as far as `t` and `y`.

use crate::Kind;

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

/// A KRPC query with a 4-byte transaction id (the `mainline` crate requires 4 bytes).
pub fn encode_query(
    out: &mut Vec<u8>,
    kind: Kind,
    id: &[u8; 20],
    target: &[u8; 20],
    tid: u32,
    read_only: bool,
) {
    out.clear();
    out.extend_from_slice(b"d1:ad2:id");
    put_bytes(out, id);
    match kind {
        Kind::Ping => {}
        Kind::FindNode => {
            out.extend_from_slice(b"6:target");
            put_bytes(out, target);
        }
        Kind::GetPeers => {
            out.extend_from_slice(b"9:info_hash");
            put_bytes(out, target);
        }
    }
    out.extend_from_slice(b"e1:q");
    put_bytes(out, kind.name().as_bytes());
    if read_only {
        out.extend_from_slice(b"2:roi1e");
    }
    out.extend_from_slice(b"1:t");
    put_bytes(out, &tid.to_be_bytes());
    out.extend_from_slice(b"1:y1:qe");
}

/// A response carrying only our id (answers ping, and is a valid enough answer to
/// anything else a node asks a benchmark socket).
pub fn encode_response(out: &mut Vec<u8>, id: &[u8; 20], tid: &[u8]) {
    out.clear();
    out.extend_from_slice(b"d1:rd2:id");
    put_bytes(out, id);
    out.extend_from_slice(b"e1:t");
    put_bytes(out, tid);
    out.extend_from_slice(b"1:y1:re");
}

/// The end of the bencoded value starting at `i`.
fn skip(b: &[u8], mut i: usize, depth: u32) -> Option<usize> {
    if depth > 32 {
        return None;
    }
    match *b.get(i)? {
        b'i' => Some(i + b[i..].iter().position(|&c| c == b'e')? + 1),
        b'l' | b'd' => {
            i += 1;
            while *b.get(i)? != b'e' {
                i = skip(b, i, depth + 1)?;
            }
            Some(i + 1)
        }
        b'0'..=b'9' => {
            let (s, e) = string_at(b, i)?;
            let _ = s;
            Some(e)
        }
        _ => None,
    }
}

/// The byte string at `i`: (its bytes' start, the end).
fn string_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let colon = i + b[i..].iter().take(8).position(|&c| c == b':')?;
    let len: usize = std::str::from_utf8(&b[i..colon]).ok()?.parse().ok()?;
    let end = colon + 1 + len;
    (end <= b.len()).then_some((colon + 1, end))
}

/// The top-level `t` (transaction id) and the first byte of `y` of a KRPC message.
pub fn top_t_y(b: &[u8]) -> Option<(&[u8], u8)> {
    if b.first() != Some(&b'd') {
        return None;
    }
    let mut i = 1;
    let (mut t, mut y) = (None, None);
    while *b.get(i)? != b'e' {
        let (ks, ke) = string_at(b, i)?;
        let key = &b[ks..ke];
        let vend = skip(b, ke, 0)?;
        if key == b"t" || key == b"y" {
            let (vs, _) = string_at(b, ke)?;
            if key == b"t" {
                t = Some(&b[vs..vend]);
            } else {
                y = b.get(vs).copied();
            }
        }
        i = vend;
    }
    Some((t?, y?))
}
