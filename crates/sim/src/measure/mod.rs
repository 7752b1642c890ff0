//! What the experiments write: one row per lookup ([`LookupRow`]), a summary per
//! series ([`Summary`]), percentiles, and the process's memory ([`rss`]).

mod row;
mod rss;
mod stats;
mod summary;

pub use row::{Labels, LookupRow, COLUMNS};
pub use rss::{rss, Rss};
pub use stats::{mean, percentile};
pub use summary::Summary;
