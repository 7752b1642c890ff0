//! Churn between two rounds: who joined, who left, whose completion changed.

use serde::Serialize;
use std::collections::BTreeMap;

use super::PeerRecord;

/// Differences between two rounds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Churn {
    /// Reached now, not reached in the previous round.
    pub joined: Vec<String>,
    /// Reached in the previous round, not now.
    pub left: Vec<String>,
    /// Peers whose completion changed: (addr, before, after).
    pub completion_changes: Vec<(String, f64, f64)>,
}

/// Churn from `prev` to `cur` (reached peers only).
pub fn churn(prev: &[PeerRecord], cur: &[PeerRecord]) -> Churn {
    let p: BTreeMap<&str, &PeerRecord> = prev
        .iter()
        .filter(|r| r.reached)
        .map(|r| (r.addr.as_str(), r))
        .collect();
    let c: BTreeMap<&str, &PeerRecord> = cur
        .iter()
        .filter(|r| r.reached)
        .map(|r| (r.addr.as_str(), r))
        .collect();
    let mut out = Churn::default();
    for (a, r) in &c {
        match p.get(a) {
            None => out.joined.push(a.to_string()),
            Some(old) => {
                if let (Some(x), Some(y)) = (old.completion, r.completion) {
                    if (x - y).abs() > 1e-9 {
                        out.completion_changes.push((a.to_string(), x, y));
                    }
                }
            }
        }
    }
    for a in p.keys() {
        if !c.contains_key(a) {
            out.left.push(a.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::evidence::test_util::*;
    use super::*;

    #[test]
    fn churn_between_rounds() {
        let mut a = reached("127.0.0.2:1");
        a.completion = Some(0.5);
        let b = reached("127.0.0.3:1");
        let mut a2 = a.clone();
        a2.completion = Some(0.75);
        let c = reached("127.0.0.4:1");
        let ch = churn(&[a, b], &[a2, c]);
        assert_eq!(ch.joined, vec!["127.0.0.4:1"]);
        assert_eq!(ch.left, vec!["127.0.0.3:1"]);
        assert_eq!(
            ch.completion_changes,
            vec![("127.0.0.2:1".to_string(), 0.5, 0.75)]
        );
    }
}
