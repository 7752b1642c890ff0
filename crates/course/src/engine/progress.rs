//! How the engine tells its caller about progress, without printing.

/// Receives the engine's progress as it happens. The binary draws a progress bar from
/// it; a library caller may count or ignore. Calls come from the workers' tasks,
/// outside any lock, once per chunk: keep them short.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// The download starts: `total` unique chunks, of which `done` were found on disk.
    fn started(&self, total: u64, done: u64) {
        let _ = (total, done);
    }

    /// One more chunk of `bytes` bytes is verified and written.
    fn chunk_done(&self, bytes: u64) {
        let _ = bytes;
    }

    /// `chunks` chunks are left without a usable holder: the download asks its refill
    /// for more (discovery runs again while the other peers go on).
    fn refilling(&self, chunks: u64) {
        let _ = chunks;
    }

    /// The download ended (complete or not).
    fn finished(&self) {}
}
