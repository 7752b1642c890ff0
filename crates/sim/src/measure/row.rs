//! One row per lookup: what it was, whether it found what it should, and what it
//! cost. The same row comes from the simulator ([`LookupRow::from_record`]) and from
//! a real UDP testnet ([`LookupRow::from_result`]), so both land in one CSV format.

use serde::{Deserialize, Serialize};
use swarmlab_dht::lookup::{LookupKind, LookupResult, Outcome};
use swarmlab_dht::Id;

use crate::workload::LookupRecord;

/// The CSV columns, in order (the field names of [`LookupRow`]).
pub const COLUMNS: [&str; 18] = [
    "experiment",
    "series",
    "param",
    "seed",
    "nodes",
    "lookup",
    "kind",
    "started_s",
    "finished",
    "exact",
    "closest_found",
    "closest_k",
    "hops",
    "messages",
    "responses",
    "timeouts",
    "latency_ms",
    "first_closest_ms",
];

/// One lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupRow {
    /// The experiment (`size`, `alpha`, …).
    pub experiment: String,
    /// The series within it (`alpha=3`, `nodes=10000`, …).
    pub series: String,
    /// The value of the parameter the experiment varies, for plots.
    pub param: f64,
    /// The run's seed.
    pub seed: u64,
    /// Live nodes when the lookup started.
    pub nodes: usize,
    /// The lookup's number in its run.
    pub lookup: usize,
    /// `find_node`, `get_peers` or `announce`.
    pub kind: String,
    /// When it started, in simulated seconds from the start of the run.
    pub started_s: f64,
    /// It ended (within the run's limit).
    pub finished: bool,
    /// For a lookup of a node's id: whether that node came first.
    pub exact: Option<bool>,
    /// How many of the true closest reachable nodes it returned.
    pub closest_found: usize,
    /// How many true closest nodes there were to find (k, or fewer nodes).
    pub closest_k: usize,
    /// Highest hop among the closest nodes it returned.
    pub hops: u32,
    /// Requests it sent.
    pub messages: usize,
    /// Requests answered.
    pub responses: usize,
    /// Requests that timed out.
    pub timeouts: usize,
    /// From its start to its end, in ms (empty: it did not end).
    pub latency_ms: Option<f64>,
    /// From its start to the first answer from one of the true closest nodes, in ms
    /// (the time a get_peers for a key those nodes hold would get its first peers).
    pub first_closest_ms: Option<f64>,
}

/// Labels of the rows of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The experiment.
    pub experiment: String,
    /// The series.
    pub series: String,
    /// The parameter's value.
    pub param: f64,
    /// The seed.
    pub seed: u64,
}

impl LookupRow {
    /// The row of a simulated lookup.
    pub fn from_record(l: &Labels, rec: &LookupRecord) -> LookupRow {
        let mut row = LookupRow::from_result(
            l,
            rec.index,
            rec.alive,
            rec.started.as_secs_f64(),
            rec.result.as_ref(),
            &rec.truth,
        );
        if rec.target_node.is_some() {
            row.exact = Some(
                rec.result
                    .as_ref()
                    .and_then(|r| r.closest.first())
                    .is_some_and(|c| c.0 == rec.target),
            );
        }
        row
    }

    /// The row of a lookup that gave `result` (`None`: it did not end), `truth` being
    /// the true closest reachable nodes to its target.
    pub fn from_result(
        l: &Labels,
        lookup: usize,
        nodes: usize,
        started_s: f64,
        result: Option<&LookupResult>,
        truth: &[Id],
    ) -> LookupRow {
        let mut row = LookupRow {
            experiment: l.experiment.clone(),
            series: l.series.clone(),
            param: l.param,
            seed: l.seed,
            nodes,
            lookup,
            kind: String::new(),
            started_s,
            finished: false,
            exact: None,
            closest_found: 0,
            closest_k: truth.len(),
            hops: 0,
            messages: 0,
            responses: 0,
            timeouts: 0,
            latency_ms: None,
            first_closest_ms: None,
        };
        let Some(r) = result else {
            return row;
        };
        row.kind = match r.kind {
            LookupKind::FindNode => "find_node",
            LookupKind::GetPeers => "get_peers",
            LookupKind::Announce { .. } => "announce",
            LookupKind::GetItem => "get",
            LookupKind::PutItem => "put",
        }
        .to_string();
        row.finished = true;
        row.closest_found = r
            .closest
            .iter()
            .filter(|(id, _)| truth.contains(id))
            .count();
        row.hops = r.hops;
        row.messages = r.messages;
        row.responses = r.responses;
        row.timeouts = r.timeouts;
        row.latency_ms = Some(r.elapsed_ms);
        row.first_closest_ms = r
            .trace
            .iter()
            .filter(|t| t.outcome == Outcome::Answered)
            .filter(|t| t.id.is_some_and(|id| truth.contains(&id)))
            .filter_map(|t| t.rtt_ms.map(|rtt| t.sent_ms + rtt))
            .min_by(f64::total_cmp);
        row
    }

    /// Whether it returned every one of the true closest nodes.
    pub fn found_all(&self) -> bool {
        self.finished && self.closest_k > 0 && self.closest_found == self.closest_k
    }
}
