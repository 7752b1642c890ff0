//! The nesting guard: a non-recursive walk of the bencode tokens run before serde_bencode.

use crate::error::Reason;

use super::MAX_DEPTH;

/// Walks the bencode token stream without recursion and fails if nesting exceeds
/// [`MAX_DEPTH`] or if the first value is not a well-delimited dictionary; returns the
/// length of that dictionary (the index just past its closing `e`). Tokenization
/// matches serde_bencode's (integers run to the next `e`; string lengths are ASCII digits
/// up to `:`), so serde_bencode never recurses deeper than this guard saw.
pub(super) fn check_nesting(buf: &[u8]) -> Result<usize, Reason> {
    match buf.first() {
        Some(b'd') => {}
        Some(b'l' | b'i' | b'0'..=b'9') => return Err(Reason::NotADict),
        _ => return Err(Reason::NotBencode),
    }
    let mut depth = 0usize;
    let mut i = 0usize;
    loop {
        let Some(&c) = buf.get(i) else {
            return Err(Reason::NotBencode);
        };
        match c {
            b'd' | b'l' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Reason::TooDeep);
                }
                i += 1;
            }
            b'e' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
                i += 1;
            }
            b'i' => {
                let rest = &buf[i + 1..];
                let end = rest
                    .iter()
                    .position(|&b| b == b'e')
                    .ok_or(Reason::NotBencode)?;
                i += end + 2;
            }
            b'0'..=b'9' => {
                let mut len = 0usize;
                i += 1 + loop_digits(&buf[i..], &mut len)?;
                i = i
                    .checked_add(len)
                    .filter(|&end| end <= buf.len())
                    .ok_or(Reason::NotBencode)?;
            }
            _ => return Err(Reason::NotBencode),
        }
    }
}

/// Parses `digits ':'` at the start of `b` into `len`; returns the number of digits.
pub(super) fn loop_digits(b: &[u8], len: &mut usize) -> Result<usize, Reason> {
    for (n, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                *len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(c - b'0')))
                    .ok_or(Reason::NotBencode)?;
            }
            b':' if n > 0 => return Ok(n),
            _ => return Err(Reason::NotBencode),
        }
    }
    Err(Reason::NotBencode)
}
