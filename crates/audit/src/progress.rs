//! Live counters of a round, for a progress display (the binary draws it).

use std::sync::atomic::AtomicUsize;

/// Live counters of a round; read them with `load(Relaxed)` while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Addresses found.
    pub found: AtomicUsize,
    /// Sessions finished.
    pub done: AtomicUsize,
    /// Handshakes that succeeded.
    pub reached: AtomicUsize,
    /// Sessions running.
    pub in_flight: AtomicUsize,
}
