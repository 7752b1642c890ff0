//! Rounds with churn (`--watch`): each round after the first reports who joined,
//! who left and whose completion changed since the one before.

use std::sync::Arc;

use crate::config::{AuditConfig, RoundInputs};
use crate::progress::Progress;
use crate::report::{churn, PeerRecord, RoundReport};
use crate::round::audit_round;
use crate::target::Target;

/// A series of rounds on one target. The caller waits between rounds as it likes.
pub struct Watch {
    target: Target,
    inputs: RoundInputs,
    cfg: AuditConfig,
    prev: Option<Vec<PeerRecord>>,
    rounds: u32,
}

impl Watch {
    /// Rounds on `target`, none run yet.
    pub fn new(target: Target, inputs: RoundInputs, cfg: AuditConfig) -> Watch {
        Watch {
            target,
            inputs,
            cfg,
            prev: None,
            rounds: 0,
        }
    }

    /// Run the next round (its churn against the previous one filled in), with live
    /// counters in `progress` if given.
    pub async fn next_round(&mut self, progress: Option<Arc<Progress>>) -> RoundReport {
        self.rounds += 1;
        let mut report = audit_round(
            &mut self.target,
            &self.inputs,
            &self.cfg,
            self.rounds,
            progress,
        )
        .await;
        if let Some(p) = &self.prev {
            report.churn = Some(churn(p, &report.peers));
        }
        self.prev = Some(report.peers.clone());
        report
    }

    /// Rounds run so far.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// The target (its info dictionary once fetched).
    pub fn target(&self) -> &Target {
        &self.target
    }
}
