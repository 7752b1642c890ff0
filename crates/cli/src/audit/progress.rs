//! The live progress line of a round on stderr (on a terminal only).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use swarmlab_audit::Progress;

/// The line drawn from `progress` until the returned task is aborted; `None` when
/// quiet or stderr is not a terminal.
pub fn spawn(quiet: bool, progress: Arc<Progress>) -> Option<tokio::task::JoinHandle<()>> {
    if quiet {
        return None;
    }
    let line = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if line.is_hidden() {
        return None;
    }
    line.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    Some(tokio::spawn(async move {
        // Cleared when the task is aborted (the guard drops).
        struct Clear(ProgressBar);
        impl Drop for Clear {
            fn drop(&mut self) {
                self.0.finish_and_clear();
            }
        }
        let line = Clear(line);
        loop {
            line.0.set_message(format!(
                "found {}  done {}  reached {}  connecting {}",
                progress.found.load(Relaxed),
                progress.done.load(Relaxed),
                progress.reached.load(Relaxed),
                progress.in_flight.load(Relaxed),
            ));
            line.0.tick();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }))
}
