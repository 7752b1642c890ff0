//! The progress bar of a long run, on standard error and on a terminal only.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use swarmlab_sim::experiment::Phase;

/// One bar for a whole experiment: the series, the phase and its count.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar when `wanted` and standard error is a terminal; nothing otherwise.
    pub fn new(wanted: bool) -> Bar {
        if !wanted || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{elapsed_precise} {msg} [{bar:30}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Bar(Some(b))
    }

    /// Where the run of `series` is.
    pub fn update(&self, series: &str, phase: Phase, done: usize, total: usize) {
        if let Some(b) = &self.0 {
            let what = match phase {
                Phase::Build => "adding nodes",
                Phase::Fill => "filling tables",
                Phase::Warmup => "warming up (s)",
                Phase::Lookups => "lookups",
            };
            b.set_message(format!("{series}: {what}"));
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
