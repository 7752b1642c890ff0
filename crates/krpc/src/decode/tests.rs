use super::*;

#[test]
fn nesting_guard() {
    assert_eq!(check_nesting(b"de"), Ok(2));
    assert_eq!(check_nesting(b"d1:ali1ei2eee"), Ok(13));
    assert_eq!(
        check_nesting(b"d1:ai1eexyz"),
        Ok(8),
        "trailing bytes not counted"
    );
    assert_eq!(check_nesting(b"d1:a"), Err(Reason::NotBencode));
    assert_eq!(check_nesting(b"le"), Err(Reason::NotADict));
    assert_eq!(check_nesting(b""), Err(Reason::NotBencode));
    assert_eq!(check_nesting(b"x"), Err(Reason::NotBencode));
    assert_eq!(check_nesting(b"d3:ab"), Err(Reason::NotBencode));
    assert_eq!(check_nesting(b"d:e"), Err(Reason::NotBencode));
    assert_eq!(check_nesting(b"d1:ai12"), Err(Reason::NotBencode));
    assert_eq!(
        check_nesting(b"d99999999999999999999999:e"),
        Err(Reason::NotBencode)
    );
    // "d" and "l" inside strings do not count.
    assert_eq!(check_nesting(b"d5:lllll1:xe"), Ok(12));
    assert_eq!(check_nesting(b"d5:dddddi1ee"), Ok(12));
    let ok = format!(
        "d1:a{}{}e",
        "l".repeat(MAX_DEPTH - 1),
        "e".repeat(MAX_DEPTH - 1)
    );
    assert_eq!(check_nesting(ok.as_bytes()), Ok(ok.len()));
    let deep = format!("d1:a{}{}e", "l".repeat(MAX_DEPTH), "e".repeat(MAX_DEPTH));
    assert_eq!(check_nesting(deep.as_bytes()), Err(Reason::TooDeep));
}
