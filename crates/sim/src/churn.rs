//! Churn: nodes leave silently and new ones arrive, with heavy-tailed session
//! lengths.
//!
//! Session lengths follow a Weibull law (shape `k`, scale `λ`). Measurements of real
//! peer-to-peer networks found Weibull (or similarly heavy-tailed) sessions: Stutzbach
//! and Rejaie ("Understanding Churn in Peer-to-Peer Networks", IMC 2006) fit BitTorrent
//! session lengths with shape 0.38 and scale 42.4 min (a Debian torrent), 0.34 and
//! 21.3 min (Red Hat), 0.59 and 41.9 min (FlatOut), and found the same shape of
//! distribution in Kad; Steiner, En-Najjary and Biersack ("A Global View of KAD",
//! IMC 2007; "Long Term Study of Peer Behavior in the KAD DHT", IEEE/ACM ToN 2009)
//! found KAD session times Weibull-distributed. The default, [`Churn::debian`], is
//! the Debian fit: median session 16 minutes, mean 2.8 hours.
//!
//! The network keeps its size: every departure is followed at once by the arrival of
//! a new node (a new id at a new address) that joins through the protocol
//! ([`Join`]). At the start, every live node is given the time it has left in its
//! session: for a node seen at a random instant that is not a fresh session length
//! but the residual of a length-biased one (a long session is more likely to be in
//! progress), drawn as `S × U` with `S` from the length-biased Weibull (`(S/λ)^k` is
//! Gamma(1 + 1/k)) and `U` uniform.

use std::time::Duration;

use rand::Rng;
use rand_distr::{Distribution, Gamma, Weibull};
use swarmlab_dht::NodeConfig;

use crate::engine::queue::Item;
use crate::init::Join;
use crate::{Sim, SimError};

/// How nodes come and go.
#[derive(Debug, Clone)]
pub struct Churn {
    /// Weibull shape `k` of session lengths (below 1: heavy tail).
    pub shape: f64,
    /// Weibull scale `λ` of session lengths.
    pub scale: Duration,
    /// How newcomers join.
    pub join: Join,
    /// The configuration of newcomers (the seed is drawn for each).
    pub node: NodeConfig,
}

impl Churn {
    /// Stutzbach and Rejaie's Debian fit: shape 0.38, scale 42.4 minutes.
    pub fn debian(node: NodeConfig) -> Churn {
        Churn {
            shape: 0.38,
            scale: Duration::from_secs_f64(42.4 * 60.0),
            join: Join::Random(3),
            node,
        }
    }

    /// Checks that shape and scale are finite and positive.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(self.shape.is_finite() && self.shape > 0.0) {
            return Err(SimError::BadChurn("shape"));
        }
        if self.scale.is_zero() {
            return Err(SimError::BadChurn("scale"));
        }
        Ok(())
    }

    /// The median session length, `λ (ln 2)^(1/k)`.
    pub fn median_session(&self) -> Duration {
        self.scale
            .mul_f64(std::f64::consts::LN_2.powf(1.0 / self.shape))
    }

    /// A fresh session length.
    pub fn session<R: Rng>(&self, rng: &mut R) -> Duration {
        let w = Weibull::new(self.scale.as_secs_f64(), self.shape)
            .map(|w| w.sample(rng))
            .unwrap_or(0.0);
        Duration::from_secs_f64(w.clamp(0.0, 1e9))
    }

    /// What is left of the session of a node seen at a random instant.
    pub fn residual<R: Rng>(&self, rng: &mut R) -> Duration {
        let g = Gamma::new(1.0 + 1.0 / self.shape, 1.0)
            .map(|g| g.sample(rng))
            .unwrap_or(1.0);
        let s = self.scale.as_secs_f64() * g.powf(1.0 / self.shape);
        Duration::from_secs_f64((s * rng.gen::<f64>()).clamp(0.0, 1e9))
    }
}

/// The churn of a running simulation, and what it has done.
#[derive(Debug, Clone)]
pub(crate) struct ChurnState {
    churn: Churn,
    departures: u64,
}

impl Sim {
    /// Starts churn: every live node gets the rest of its session, and leaves at its
    /// end; each departure brings a newcomer.
    pub fn start_churn(&mut self, churn: Churn) -> Result<(), SimError> {
        churn.validate()?;
        let mut nodes = self.alive_nodes().to_vec();
        nodes.sort_unstable();
        for i in nodes {
            let left = churn.residual(&mut self.rng);
            self.queue.push(
                self.now.saturating_add(left.as_nanos() as u64),
                Item::Depart(i),
            );
        }
        self.churn = Some(ChurnState {
            churn,
            departures: 0,
        });
        Ok(())
    }

    /// Departures (each followed by an arrival) since churn started.
    pub fn departures(&self) -> u64 {
        self.churn.as_ref().map_or(0, |c| c.departures)
    }

    pub(crate) fn on_depart(&mut self, i: usize) {
        let Some(state) = self.churn.as_mut() else {
            return;
        };
        let churn = state.churn.clone();
        if !self.remove_node(i) {
            return;
        }
        if let Some(s) = self.churn.as_mut() {
            s.departures += 1;
        }
        let Ok(new) = self.add_node(churn.node.clone()) else {
            return;
        };
        self.join(new, churn.join);
        let session = churn.session(&mut self.rng);
        self.queue.push(
            self.now.saturating_add(session.as_nanos() as u64),
            Item::Depart(new as u32),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn sessions_follow_the_weibull_fit() {
        let c = Churn::debian(NodeConfig::default());
        c.validate().unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        let mut s: Vec<f64> = (0..20_000)
            .map(|_| c.session(&mut rng).as_secs_f64())
            .collect();
        s.sort_by(f64::total_cmp);
        let median = s[s.len() / 2];
        let want = c.median_session().as_secs_f64();
        assert!((median / want - 1.0).abs() < 0.05, "{median} vs {want}");
        // The residual of a length-biased session is longer than a fresh one.
        let mut r: Vec<f64> = (0..20_000)
            .map(|_| c.residual(&mut rng).as_secs_f64())
            .collect();
        r.sort_by(f64::total_cmp);
        assert!(r[r.len() / 2] > 2.0 * median);
        assert!(Churn { shape: 0.0, ..c }.validate().is_err());
    }
}
