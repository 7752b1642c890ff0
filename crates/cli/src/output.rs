//! Writing to the terminal: the one place where the binary prints raw bytes.

use std::io::Write as _;

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn emit(s: &str) {
    let _ = std::io::stdout().lock().write_all(s.as_bytes());
}
