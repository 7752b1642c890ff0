//! What the scenario tests share: running a scenario and summing up its rows.
#![allow(clippy::print_stdout)] // a test helper that shows the figures it checks

use swarmlab_sim::experiment::{run, Run, Scenario};
use swarmlab_sim::measure::{Labels, Summary};

/// Runs `s` and sums up its rows.
pub fn go(s: &Scenario, series: &str) -> (Run, Summary) {
    let labels = Labels {
        experiment: "test".into(),
        series: series.into(),
        param: 0.0,
        seed: s.seed,
    };
    let r = run(s, &labels, &mut |_, _, _| {}).expect("the scenario runs");
    let rows: Vec<_> = r.rows.iter().collect();
    let sum = Summary::of(series, 0.0, &rows);
    println!("{series}: {sum:?}");
    (r, sum)
}
