//! The checks on a path a torrent (that is, a peer) gave.

use std::path::PathBuf;

use crate::error::StorageError;

/// The relative path of `components`, if every component is a plain name: not
/// empty, not `.` or `..`, no `/`, `\` or NUL inside, no drive prefix (`C:`), and
/// at most 255 bytes. Joined to a directory, the result stays inside it (symbolic
/// links apart: [`crate::FileStorage`] refuses those on the way).
pub fn safe_relative_path(components: &[String]) -> Result<PathBuf, StorageError> {
    let unsafe_path = |reason| StorageError::UnsafePath {
        path: components.join("/"),
        reason,
    };
    if components.is_empty() {
        return Err(unsafe_path("no path component"));
    }
    let mut out = PathBuf::new();
    for c in components {
        if c.is_empty() {
            return Err(unsafe_path("an empty component"));
        }
        if c == "." || c == ".." {
            return Err(unsafe_path("a `.` or `..` component"));
        }
        if c.contains(['/', '\\', '\0']) {
            return Err(unsafe_path("a separator or NUL inside a component"));
        }
        if c.len() >= 2 && c.as_bytes()[1] == b':' {
            return Err(unsafe_path("a drive prefix"));
        }
        if c.len() > 255 {
            return Err(unsafe_path("a component over 255 bytes"));
        }
        out.push(c);
    }
    // Belt and braces: the components above cannot make these, but check the result.
    if out.is_absolute() || out.components().count() != components.len() {
        return Err(unsafe_path("not a plain relative path"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Result<PathBuf, StorageError> {
        safe_relative_path(&parts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn plain_names_pass_and_everything_else_is_refused() {
        assert_eq!(p(&["a", "b.txt"]).unwrap(), PathBuf::from("a/b.txt"));
        for bad in [
            &["..", "etc", "passwd"][..],
            &["a", "..", "..", "x"],
            &["/etc/passwd"],
            &["a/../../x"],
            &["a", ""],
            &["."],
            &["a\\..\\x"],
            &["C:", "x"],
            &["a\0b"],
            &[],
        ] {
            assert!(
                matches!(p(bad), Err(StorageError::UnsafePath { .. })),
                "{bad:?} accepted"
            );
        }
    }
}
