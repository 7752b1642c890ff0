//! What swarmlab's tests share.
//!
//! The tests run real implementations where they exist: libtorrent's DHT node and
//! BitTorrent client through Debian's `python3-libtorrent`, driven by the helper
//! scripts in `tests/python/` (one JSON object per line on standard output). This
//! crate finds the interpreter and the scripts, so that every test names them the
//! same way. Tests that span several library crates (and no binary) live in
//! `tests/tests/`; tests of the `swarmlab` binary live in `crates/cli/tests/`.
//!
//! - [`python`], [`script`], [`require_libtorrent`]: the interpreter and the scripts.
//! - [`swarm`]: a real libtorrent swarm on loopback (`swarm.py`), for the audit's
//!   tests, its benchmark and the binary's.
//! - [`raw_bt`]: a raw BitTorrent peer that sends what a hostile test asks for.
#![forbid(unsafe_code)]

pub mod raw_bt;
pub mod swarm;

use std::path::PathBuf;
use std::process::Command;

/// The Python interpreter where `python3-libtorrent` imports: Debian's
/// `/usr/bin/python3` (the `python3` on `PATH` may be another one), or
/// `SWARMLAB_LT_PYTHON` when set.
pub fn python() -> String {
    std::env::var("SWARMLAB_LT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

/// The path of a helper script of `tests/python/` (`lt_net.py`, `swarm.py`, …).
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// Panics with the remedy when libtorrent's Python binding does not import: a test
/// that needs the real client fails loudly rather than passing without it.
pub fn require_libtorrent() {
    let ok = Command::new(python())
        .args(["-c", "import libtorrent"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this test runs real libtorrent: install Debian's python3-libtorrent (scripts/test does), \
         or point SWARMLAB_LT_PYTHON at an interpreter where `import libtorrent` works"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_exist() {
        for s in ["lt_net.py", "swarm.py", "lt_fetch.py"] {
            assert!(script(s).is_file(), "{}", script(s).display());
        }
    }
}
