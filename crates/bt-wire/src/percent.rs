//! Percent encoding of URL query components (RFC 3986), as trackers (BEP 3) and
//! magnet links (BEP 9) use it.
//!
//! [`encode`] leaves the unreserved characters (`A–Z a–z 0–9 - _ . ~`) and writes
//! every other byte as `%XX`; [`decode`] reverses it and also reads `+` as a space
//! (the form encoding browsers and many magnet links use).

use crate::error::PercentError;

/// Percent-encode bytes for a URL query: unreserved characters stay, others become `%XX`.
pub fn encode(bytes: &[u8]) -> String {
    encode_keeping(bytes, b"")
}

/// [`encode`], but the bytes of `keep` are written as they are: for a value whose
/// reader does not unescape (libtorrent 2.0 reads a magnet's `x.pe` endpoints verbatim,
/// so `127.0.0.1%3A6881` would not parse; `:` and `[ ]` are allowed in a query by
/// RFC 3986 anyway).
pub fn encode_keeping(bytes: &[u8], keep: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || keep.contains(&b)
        {
            s.push(b as char);
        } else {
            s.push('%');
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
    s
}

/// Percent-decode a query component (and `+` to space). The output is never longer
/// than the input.
pub fn decode(s: &str) -> Result<Vec<u8>, PercentError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = b.get(i + 1..i + 3).ok_or(PercentError::BadEscape(i))?;
                let mut v = [0u8; 1];
                hex::decode_to_slice(h, &mut v).map_err(|_| PercentError::BadEscape(i))?;
                out.push(v[0]);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let e = encode(&all);
        assert!(e
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.~%".contains(&c)));
        assert_eq!(decode(&e).unwrap(), all);
        assert_eq!(encode(b"a b/c"), "a%20b%2Fc");
        assert_eq!(decode("a+b%2fc").unwrap(), b"a b/c");
    }

    #[test]
    fn malformed_escapes_name_their_offset() {
        assert_eq!(decode("ab%G1"), Err(PercentError::BadEscape(2)));
        assert_eq!(decode("%4"), Err(PercentError::BadEscape(0)));
        assert_eq!(decode("x%"), Err(PercentError::BadEscape(1)));
    }
}
