//! The progress bar of Charlie's download, drawn from the engine's progress events.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use swarmlab_course::engine::Progress;

/// A bar on standard error: chunks done of the total, and megabytes fetched.
#[derive(Default)]
pub struct ChunkBar {
    bar: Mutex<Option<ProgressBar>>,
    bytes: AtomicU64,
}

impl std::fmt::Debug for ChunkBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkBar").finish_non_exhaustive()
    }
}

impl ChunkBar {
    /// A bar when `wanted` and standard error is a terminal, as before: nothing
    /// otherwise (pipes and files get no bar).
    pub fn on_terminal(wanted: bool) -> Option<Arc<dyn Progress>> {
        (wanted && std::io::stderr().is_terminal())
            .then(|| Arc::new(ChunkBar::default()) as Arc<dyn Progress>)
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            f(b);
        }
    }
}

impl Progress for ChunkBar {
    fn started(&self, total: u64, done: u64) {
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_position(done);
        self.bytes.store(0, Ordering::Relaxed);
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn chunk_done(&self, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.with_bar(|b| {
            b.inc(1);
            b.set_message(format!("{:.1} MB", total as f64 / 1e6));
        });
    }

    fn refilling(&self, chunks: u64) {
        self.with_bar(|b| b.set_message(format!("looking for holders of {chunks} chunk(s)")));
    }

    fn finished(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}
