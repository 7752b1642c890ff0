//! Where a value sits in a bencoded datagram, without decoding it.
//!
//! BEP 44 signs and hashes the value `v` as the bytes the putter wrote: an immutable
//! item's key is the SHA-1 of exactly those bytes, a mutable item's signature covers
//! them. serde_bencode gives parsed values, not their bytes, so [`dict_value`] walks
//! the token stream and returns the range of the value under a key of a dictionary.
//! Every step is bounds-checked: a malformed input gives `None`, never a panic, and no
//! recursion happens whatever the nesting.

use std::ops::Range;

/// The range of `buf` holding the value under `key` in the dictionary that starts at
/// `start` (its `d`), or `None` if there is no such key or the bytes are not bencode.
pub(crate) fn dict_value(buf: &[u8], start: usize, key: &[u8]) -> Option<Range<usize>> {
    if buf.get(start) != Some(&b'd') {
        return None;
    }
    let mut i = start + 1;
    loop {
        if *buf.get(i)? == b'e' {
            return None;
        }
        let k = string(buf, i)?;
        let value_start = k.end;
        let value_end = skip(buf, value_start)?;
        if &buf[k.start..k.end] == key {
            return Some(value_start..value_end);
        }
        i = value_end;
    }
}

/// The value under `outer`, then under `inner` in it: e.g. `a` then `v` of a query.
pub(crate) fn nested_value(buf: &[u8], outer: &[u8], inner: &[u8]) -> Option<Range<usize>> {
    let o = dict_value(buf, 0, outer)?;
    dict_value(buf, o.start, inner)
}

/// The length of the one bencoded value at the start of `buf` (strings, integers, lists
/// and dictionaries, any nesting, walked without recursion), or `None` if `buf` does not
/// start with a complete value. Dictionary keys are checked to be strings; their order
/// is not checked. BEP 44 values are one such value: `bencoded_len(v) == Some(v.len())`.
pub fn bencoded_len(buf: &[u8]) -> Option<usize> {
    skip(buf, 0)
}

/// The content of the byte string at `i` (`len:bytes`).
fn string(buf: &[u8], i: usize) -> Option<Range<usize>> {
    let colon = i + buf.get(i..)?.iter().position(|&b| b == b':')?;
    let digits = &buf[i..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let len: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let end = (colon + 1).checked_add(len)?;
    (end <= buf.len()).then_some(colon + 1..end)
}

/// What an open container expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// A list: a value or its `e`.
    List,
    /// A dictionary: a key (a string) or its `e`.
    Key,
    /// A dictionary after a key: its value.
    Value,
}

/// The index just past the value that starts at `i`.
fn skip(buf: &[u8], mut i: usize) -> Option<usize> {
    let mut open: Vec<Open> = Vec::new();
    loop {
        let c = *buf.get(i)?;
        match (open.last().copied(), c) {
            (Some(Open::Key), b'0'..=b'9') => {
                i = string(buf, i)?.end;
                *open.last_mut()? = Open::Value;
                continue;
            }
            (Some(Open::Key), b'e') | (Some(Open::List), b'e') => {
                open.pop();
                i += 1;
            }
            (Some(Open::Key), _) | (Some(Open::Value), b'e') | (None, b'e') => return None,
            (_, b'i') => i = integer(buf, i)?,
            (_, b'0'..=b'9') => i = string(buf, i)?.end,
            (_, b'l') => {
                open.push(Open::List);
                i += 1;
                continue;
            }
            (_, b'd') => {
                open.push(Open::Key);
                i += 1;
                continue;
            }
            _ => return None,
        }
        // A whole value was read: the end, or the next step of its container.
        match open.last_mut() {
            None => return Some(i),
            Some(o @ Open::Value) => *o = Open::Key,
            Some(_) => {}
        }
    }
}

/// The index just past the integer at `i` (`i-?digits e`).
fn integer(buf: &[u8], i: usize) -> Option<usize> {
    let end = i + 1 + buf.get(i + 1..)?.iter().position(|&b| b == b'e')?;
    let body = &buf[i + 1..end];
    let digits = body.strip_prefix(b"-").unwrap_or(body);
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_by_key() {
        let b = b"d1:ad2:id3:abc1:vd1:xli1ei2eeee1:q3:put1:t2:aa1:y1:qe";
        let r = nested_value(b, b"a", b"v").unwrap();
        assert_eq!(&b[r], b"d1:xli1ei2eee");
        let r = nested_value(b, b"a", b"id").unwrap();
        assert_eq!(&b[r], b"3:abc");
        assert_eq!(nested_value(b, b"a", b"k"), None);
        assert_eq!(nested_value(b, b"r", b"v"), None);
        let r = dict_value(b, 0, b"y").unwrap();
        assert_eq!(&b[r], b"1:q");
    }

    #[test]
    fn malformed_input_is_none() {
        for b in [
            &b""[..],
            b"d",
            b"d1:v",
            b"d1:vi1",
            b"d1:v5:ab",
            b"d1:vl",
            b"d1:vx",
            b"d99999999999999999999999:ve",
            b"d:e",
            b"l1:ve",
        ] {
            assert_eq!(dict_value(b, 0, b"v"), None, "{b:?}");
        }
        assert_eq!(bencoded_len(b"d1:ai1e1:bl1:xee"), Some(16));
        assert_eq!(bencoded_len(b"di1ei2ee"), None, "integer key");
        assert_eq!(bencoded_len(b"d1:ae"), None, "key without value");
        assert_eq!(bencoded_len(b"12:Hello World!"), Some(15));
        assert_eq!(bencoded_len(b"i-3exyz"), Some(4));
        assert_eq!(bencoded_len(b"ixe"), None);
        assert_eq!(bencoded_len(b"li1ei2ee"), Some(8));
        assert_eq!(bencoded_len(b"ld1:ai1eee"), Some(10));
        assert_eq!(bencoded_len(b"e"), None);
        // The first matching key wins; nothing past the dictionary is read.
        assert_eq!(dict_value(b"d1:vi1eeXX", 0, b"v"), Some(4..7));
    }
}
