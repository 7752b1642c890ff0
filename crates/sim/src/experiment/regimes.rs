//! The two regimes the literature measured on the Mainline DHT, and the steps that
//! move one into the other.
//!
//! * **2007** (Crosby and Wallach, "An Analysis of BitTorrent's Two Kademlia-Based
//!   DHTs", 2007): median lookup times of over a minute, which they blamed on many
//!   dead contacts in routing tables (no preferential refresh of a node's own
//!   neighbourhood), long timeouts and little parallelism. Our version: 40% of the
//!   contacts in every table are dead (nodes that left, kept because nobody
//!   refreshed), one request in flight per lookup (α = 1), and a 20 s timeout with no
//!   soft timeout (a silent node holds the lookup's only slot for 20 s).
//! * **Tuned** (Jimenez, Osmani and Knutsson, "Sub-Second Lookups on a Large-Scale
//!   Kademlia-Based Overlay", IEEE P2P 2011): median latencies of 100 to 200 ms and
//!   consistently sub-second lookups, with parallel requests, soft timeouts and fresh
//!   routing tables. Our version: 2% dead contacts, α = 3, a 500 ms soft timeout and
//!   a 2 s hard one (the node's defaults).
//!
//! The steps between change one factor at a time, from each end, so the table in
//! docs/ shows which factor moves the median most.

use std::time::Duration;

use super::Scenario;

/// One set of parameters of the regimes experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeStep {
    /// Its name (the series).
    pub name: &'static str,
    /// Share of dead contacts.
    pub dead: f64,
    /// α.
    pub alpha: usize,
    /// Soft timeout.
    pub soft: Duration,
    /// Hard timeout.
    pub hard: Duration,
}

impl RegimeStep {
    /// Sets the scenario's node configuration and dead share to this step's.
    pub fn apply(&self, s: &mut Scenario) {
        s.dead = self.dead;
        s.node.alpha = self.alpha;
        s.node.soft_timeout = self.soft;
        s.node.request_timeout = self.hard;
    }
}

const OLD_DEAD: f64 = 0.4;
const NEW_DEAD: f64 = 0.02;
const OLD_T: Duration = Duration::from_secs(20);
const SOFT: Duration = Duration::from_millis(500);
const HARD: Duration = Duration::from_secs(2);

/// The 2007 regime, each factor changed alone, and the tuned regime with each
/// factor put back alone.
pub fn regime_steps() -> Vec<RegimeStep> {
    let old = RegimeStep {
        name: "2007",
        dead: OLD_DEAD,
        alpha: 1,
        soft: OLD_T,
        hard: OLD_T,
    };
    let tuned = RegimeStep {
        name: "tuned",
        dead: NEW_DEAD,
        alpha: 3,
        soft: SOFT,
        hard: HARD,
    };
    vec![
        old,
        RegimeStep {
            name: "2007+fresh_tables",
            dead: NEW_DEAD,
            ..old
        },
        RegimeStep {
            name: "2007+timeouts",
            soft: SOFT,
            hard: HARD,
            ..old
        },
        RegimeStep {
            name: "2007+alpha3",
            alpha: 3,
            ..old
        },
        RegimeStep {
            name: "tuned-fresh_tables",
            dead: OLD_DEAD,
            ..tuned
        },
        RegimeStep {
            name: "tuned-timeouts",
            soft: OLD_T,
            hard: OLD_T,
            ..tuned
        },
        RegimeStep {
            name: "tuned-alpha3",
            alpha: 1,
            ..tuned
        },
        tuned,
    ]
}
