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
//! - [`lt_seed`]: libtorrent seeders of a payload it makes (`lt_seed.py`), with a
//!   tracker, the DHT, a liar, an upload limit, for fetch's tests and benchmark.
//! - [`raw_bt`]: a raw BitTorrent peer that sends what a hostile test asks for.
//! - [`udp_tracker`]: a BEP 15 tracker's replies, for the UDP trackers of tests.
//! - [`ScriptProcess`]: a helper script that prints one JSON line and runs until
//!   its standard input closes (what `swarm` and `lt_seed` start).
#![forbid(unsafe_code)]

pub mod lt_seed;
pub mod raw_bt;
pub mod swarm;
pub mod udp_tracker;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

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

/// A helper script of `tests/python/` started with `--dir` (a temporary directory
/// of its own) and arguments: it prints one JSON line once it is up, and runs until
/// its standard input closes, which happens when this is dropped.
pub struct ScriptProcess {
    /// The directory given as `--dir`.
    pub dir: tempfile::TempDir,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for ScriptProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl ScriptProcess {
    /// Starts `name` with `--dir DIR` and `args`; returns once it printed its line,
    /// decoded as `T`. Panics with the remedy when libtorrent is missing, and with
    /// the line when it does not decode.
    pub fn start<T: serde::de::DeserializeOwned>(name: &str, args: &[&str]) -> (ScriptProcess, T) {
        require_libtorrent();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(python())
            .arg(script(name))
            .arg("--dir")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("read {name}'s output: {e}"));
        let info: T = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{name} did not start ({e}): {line}"));
        (ScriptProcess { dir, child, stdin }, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_exist() {
        for s in ["lt_net.py", "swarm.py", "lt_fetch.py", "lt_seed.py"] {
            assert!(script(s).is_file(), "{}", script(s).display());
        }
    }
}
