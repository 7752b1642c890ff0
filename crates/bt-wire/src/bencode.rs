//! A small, bounded bencode reader and writer.
//!
//! Used for everything that must not be re-encoded (the exact byte span of a
//! `.torrent`'s `info` dictionary, the dictionary at the front of a ut_metadata
//! message) and for the small dictionaries of the extension protocol. Every
//! function is bounded: nesting is limited to [`MAX_DEPTH`], a string length can
//! never exceed the bytes actually present, and nothing is allocated before the
//! bytes it describes have been seen.

use crate::error::BencodeError;
use std::collections::BTreeMap;
use std::ops::Range;

/// Deepest nesting of lists and dictionaries accepted.
pub const MAX_DEPTH: usize = 64;

/// A decoded bencode value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `i...e`
    Int(i64),
    /// `N:...`
    Bytes(Vec<u8>),
    /// `l...e`
    List(Vec<Value>),
    /// `d...e`; keys kept as raw bytes, sorted.
    Dict(BTreeMap<Vec<u8>, Value>),
}

impl Value {
    /// The dictionary entry `key`, if this is a dictionary that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(d) => d.get(key.as_bytes()),
            _ => None,
        }
    }
    /// This value as an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// This value as a byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }
    /// This value as a dictionary.
    pub fn as_dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }
    /// This value as a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    /// Shorthand for a byte-string value.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }
    /// Encode this value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
    /// Append the encoding of this value to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(i) => {
                out.push(b'i');
                out.extend_from_slice(i.to_string().as_bytes());
                out.push(b'e');
            }
            Value::Bytes(b) => {
                out.extend_from_slice(b.len().to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(b);
            }
            Value::List(l) => {
                out.push(b'l');
                for v in l {
                    v.encode_into(out);
                }
                out.push(b'e');
            }
            Value::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    out.extend_from_slice(k.len().to_string().as_bytes());
                    out.push(b':');
                    out.extend_from_slice(k);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }
}

/// Builder helper: a dictionary from `(key, value)` pairs.
pub fn dict<I, K>(entries: I) -> Value
where
    I: IntoIterator<Item = (K, Value)>,
    K: Into<Vec<u8>>,
{
    Value::Dict(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// Parse an integer body between `start` (after `i`) and the terminating `e`.
/// Returns the value and the index just after `e`.
fn parse_int(buf: &[u8], start: usize) -> Result<(i64, usize), BencodeError> {
    let end = buf[start..]
        .iter()
        .position(|&b| b == b'e')
        .map(|p| start + p)
        .ok_or(BencodeError::Truncated(buf.len()))?;
    let s = &buf[start..end];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits[0] == b'0')
        || (neg && digits == b"0")
    {
        return Err(BencodeError::BadInteger(start));
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| {
                if neg {
                    v.checked_sub(i64::from(d - b'0'))
                } else {
                    v.checked_add(i64::from(d - b'0'))
                }
            })
            .ok_or(BencodeError::BadInteger(start))?;
    }
    Ok((v, end + 1))
}

/// Parse a string header at `start` (first digit). Returns the byte range of
/// the string's content; the range always lies inside `buf`.
fn parse_str(buf: &[u8], start: usize) -> Result<Range<usize>, BencodeError> {
    let mut i = start;
    let mut len: usize = 0;
    while i < buf.len() && buf[i].is_ascii_digit() {
        if i - start >= 12 {
            return Err(BencodeError::Invalid(start));
        }
        len = len * 10 + usize::from(buf[i] - b'0');
        i += 1;
    }
    if i >= buf.len() {
        return Err(BencodeError::Truncated(buf.len()));
    }
    if buf[i] != b':' || i == start {
        return Err(BencodeError::Invalid(i));
    }
    let body = i + 1;
    if len > buf.len() - body {
        return Err(BencodeError::Truncated(buf.len()));
    }
    Ok(body..body + len)
}

/// The index just past the value that starts at `start`, without building it.
///
/// This is the scanner used to find exact byte spans (e.g. the `info`
/// dictionary). It is iterative, so hostile nesting cannot overflow the stack;
/// nesting beyond [`MAX_DEPTH`] is refused.
pub fn value_end(buf: &[u8], start: usize) -> Result<usize, BencodeError> {
    // Stack of open containers: true = dictionary expecting a key next.
    let mut stack: Vec<(bool, bool)> = Vec::new(); // (is_dict, expecting_key)
    let mut i = start;
    loop {
        // At a value (or key) position.
        let b = *buf.get(i).ok_or(BencodeError::Truncated(buf.len()))?;
        if b == b'e' {
            match stack.last() {
                Some(&(is_dict, expecting_key)) if !is_dict || expecting_key => {
                    stack.pop();
                    i += 1;
                }
                _ => return Err(BencodeError::Invalid(i)),
            }
        } else {
            let key_pos = matches!(stack.last(), Some(&(true, true)));
            if key_pos && !b.is_ascii_digit() {
                return Err(BencodeError::BadKey(i));
            }
            match b {
                b'i' => i = parse_int(buf, i + 1)?.1,
                b'0'..=b'9' => i = parse_str(buf, i)?.end,
                b'l' | b'd' => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(BencodeError::TooDeep);
                    }
                    // The enclosing dict (if any) now expects a key again after this value;
                    // flip happens below, so push after flipping.
                    if let Some(top) = stack.last_mut() {
                        if top.0 {
                            top.1 = !top.1;
                        }
                    }
                    stack.push((b == b'd', true));
                    i += 1;
                    continue;
                }
                _ => return Err(BencodeError::Invalid(i)),
            }
            if let Some(top) = stack.last_mut() {
                if top.0 {
                    top.1 = !top.1;
                }
            }
        }
        if stack.is_empty() {
            return Ok(i);
        }
    }
}

/// Check that `buf` is exactly one well-formed bencoded value.
pub fn validate(buf: &[u8]) -> Result<(), BencodeError> {
    let end = value_end(buf, 0)?;
    if end != buf.len() {
        return Err(BencodeError::Trailing(buf.len() - end));
    }
    Ok(())
}

/// In a buffer holding a top-level dictionary, the exact byte span of the value
/// stored under `key` (first occurrence), or `None` if the key is absent.
pub fn dict_value_span(buf: &[u8], key: &[u8]) -> Result<Option<Range<usize>>, BencodeError> {
    if buf.first() != Some(&b'd') {
        return Err(BencodeError::Invalid(0));
    }
    let mut i = 1;
    loop {
        match buf.get(i) {
            None => return Err(BencodeError::Truncated(buf.len())),
            Some(b'e') => return Ok(None),
            Some(b) if b.is_ascii_digit() => {}
            Some(_) => return Err(BencodeError::BadKey(i)),
        }
        let k = parse_str(buf, i)?;
        let vstart = k.end;
        let vend = value_end(buf, vstart)?;
        if &buf[k] == key {
            return Ok(Some(vstart..vend));
        }
        i = vend;
    }
}

/// Decode one value at the front of `buf`; returns it and the number of bytes used.
pub fn decode_prefix(buf: &[u8]) -> Result<(Value, usize), BencodeError> {
    // Validate first (iteratively) so the recursive builder below is bounded.
    let end = value_end(buf, 0)?;
    let (v, used) = build(&buf[..end], 0)?;
    debug_assert_eq!(used, end);
    Ok((v, used))
}

/// Decode a buffer that must hold exactly one value.
pub fn decode(buf: &[u8]) -> Result<Value, BencodeError> {
    let (v, used) = decode_prefix(buf)?;
    if used != buf.len() {
        return Err(BencodeError::Trailing(buf.len() - used));
    }
    Ok(v)
}

// Only called on input already checked by `value_end`, so depth <= MAX_DEPTH.
fn build(buf: &[u8], i: usize) -> Result<(Value, usize), BencodeError> {
    match buf.get(i) {
        Some(b'i') => {
            let (v, n) = parse_int(buf, i + 1)?;
            Ok((Value::Int(v), n))
        }
        Some(b'0'..=b'9') => {
            let r = parse_str(buf, i)?;
            let end = r.end;
            Ok((Value::Bytes(buf[r].to_vec()), end))
        }
        Some(b'l') => {
            let mut items = Vec::new();
            let mut j = i + 1;
            while buf.get(j) != Some(&b'e') {
                let (v, n) = build(buf, j)?;
                items.push(v);
                j = n;
            }
            Ok((Value::List(items), j + 1))
        }
        Some(b'd') => {
            let mut map = BTreeMap::new();
            let mut j = i + 1;
            while buf.get(j) != Some(&b'e') {
                let k = parse_str(buf, j)?;
                let key = buf[k.clone()].to_vec();
                let (v, n) = build(buf, k.end)?;
                map.insert(key, v);
                j = n;
            }
            Ok((Value::Dict(map), j + 1))
        }
        Some(_) => Err(BencodeError::Invalid(i)),
        None => Err(BencodeError::Truncated(buf.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_spans() {
        let src = b"d3:agei42e4:infod6:lengthi5e4:name1:ae4:listl1:xi-3eee";
        let v = decode(src).unwrap();
        assert_eq!(v.encode(), src.to_vec());
        assert_eq!(v.get("age").and_then(Value::as_int), Some(42));
        let span = dict_value_span(src, b"info").unwrap().unwrap();
        assert_eq!(&src[span], b"d6:lengthi5e4:name1:ae");
        assert_eq!(dict_value_span(src, b"nope").unwrap(), None);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(decode(b"i01e"), Err(BencodeError::BadInteger(_))));
        assert!(matches!(decode(b"i-0e"), Err(BencodeError::BadInteger(_))));
        assert!(matches!(decode(b"ie"), Err(BencodeError::BadInteger(_))));
        assert!(matches!(
            decode(b"i99999999999999999999e"),
            Err(BencodeError::BadInteger(_))
        ));
        assert!(matches!(decode(b"5:abc"), Err(BencodeError::Truncated(_))));
        assert!(matches!(
            decode(b"4294967296:x"),
            Err(BencodeError::Truncated(_))
        ));
        assert!(decode(b"99999999999999999:x").is_err());
        assert!(matches!(decode(b"di1e1:ae"), Err(BencodeError::BadKey(_))));
        assert!(decode(b"d1:ae").is_err());
        assert!(matches!(decode(b"l"), Err(BencodeError::Truncated(_))));
        assert!(matches!(decode(b"i1ei2e"), Err(BencodeError::Trailing(3))));
        assert!(matches!(decode(b"x"), Err(BencodeError::Invalid(0))));
        assert!(matches!(decode(b""), Err(BencodeError::Truncated(0))));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let mut deep = vec![b'l'; 100_000];
        deep.extend(vec![b'e'; 100_000]);
        assert_eq!(decode(&deep), Err(BencodeError::TooDeep));
        let mut ok = vec![b'l'; MAX_DEPTH];
        ok.extend(vec![b'e'; MAX_DEPTH]);
        assert!(decode(&ok).is_ok());
    }

    #[test]
    fn prefix_leaves_trailing_bytes() {
        let (v, n) = decode_prefix(b"d1:ai1eeRAW").unwrap();
        assert_eq!(n, 8);
        assert_eq!(v.get("a").and_then(Value::as_int), Some(1));
    }
}
