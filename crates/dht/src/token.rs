//! Announce tokens (BEP 5 `get_peers` → `announce_peer`).
//!
//! A token is the first [`TOKEN_LEN`] bytes of
//! `SHA-1(secret ‖ ip ‖ port ‖ info_hash)` where
//!
//! * `secret` is 20 random bytes,
//! * `ip` is the asker's address octets (4 for IPv4, 16 for IPv6;
//!   IPv4-mapped IPv6 is canonicalised to 4 octets first),
//! * `port` is the asker's UDP source port, 2 bytes big-endian,
//! * `info_hash` is the 20-byte info-hash of the `get_peers` query.
//!
//! So a token only works from the same ip *and* port for the same
//! info-hash. The secret rotates every [`TokenConfig::rotation`] (default 5
//! minutes) and the previous secret is still accepted, so a token is valid
//! for between one and two rotation periods (5-10 minutes by default).
//!
//! Rotation is driven by the `now` passed to [`TokenManager::issue`] /
//! [`TokenManager::verify`] (no timer needed); secrets come from an internal
//! [`StdRng`] seeded from the caller's RNG at construction, so runs are
//! reproducible.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sha1::{Digest, Sha1};
use swarmlab_krpc::Id;

use crate::ConfigError;

/// Length of the tokens we issue, in bytes.
pub const TOKEN_LEN: usize = 8;

/// A token we issued: truncated SHA-1, see the module docs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token(pub [u8; TOKEN_LEN]);

impl Token {
    /// The token bytes as they go on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Token settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenConfig {
    /// How often the secret rotates. Default 5 minutes.
    pub rotation: Duration,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            rotation: Duration::from_secs(5 * 60),
        }
    }
}

/// Issues and verifies announce tokens with a rotating secret.
#[derive(Debug, Clone)]
pub struct TokenManager {
    cfg: TokenConfig,
    rng: StdRng,
    current: [u8; 20],
    previous: [u8; 20],
    /// When `current` became current.
    rotated_at: Instant,
    rotations: u64,
}

impl TokenManager {
    /// A manager with default config whose secrets derive from `rng`.
    pub fn new<R: Rng + ?Sized>(now: Instant, rng: &mut R) -> Self {
        Self::build(now, TokenConfig::default(), rng)
    }

    /// A manager with `cfg`; fails if the rotation period is zero.
    pub fn with_config<R: Rng + ?Sized>(
        now: Instant,
        cfg: TokenConfig,
        rng: &mut R,
    ) -> Result<Self, ConfigError> {
        if cfg.rotation.is_zero() {
            return Err(ConfigError::ZeroDuration("token rotation"));
        }
        crate::error::check_len("token rotation", cfg.rotation)?;
        Ok(Self::build(now, cfg, rng))
    }

    fn build<R: Rng + ?Sized>(now: Instant, cfg: TokenConfig, rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut inner = StdRng::from_seed(seed);
        let mut current = [0u8; 20];
        let mut previous = [0u8; 20];
        inner.fill_bytes(&mut current);
        inner.fill_bytes(&mut previous);
        TokenManager {
            cfg,
            rng: inner,
            current,
            previous,
            rotated_at: now,
            rotations: 0,
        }
    }

    /// The token for `addr` asking about `info_hash`, made with the current
    /// secret (rotating first if due).
    pub fn issue(&mut self, now: Instant, addr: SocketAddr, info_hash: &Id) -> Token {
        self.rotate(now);
        make(&self.current, addr, info_hash)
    }

    /// True when `token` was issued to exactly `addr` for `info_hash` with
    /// the current or the previous secret. Any length other than
    /// [`TOKEN_LEN`] is rejected.
    pub fn verify(&mut self, now: Instant, addr: SocketAddr, info_hash: &Id, token: &[u8]) -> bool {
        self.rotate(now);
        if token.len() != TOKEN_LEN {
            return false;
        }
        let a = make(&self.current, addr, info_hash);
        let b = make(&self.previous, addr, info_hash);
        ct_eq(&a.0, token) | ct_eq(&b.0, token)
    }

    /// When the next rotation is due (informational; rotation happens lazily
    /// on the next `issue`/`verify`).
    pub fn next_rotation(&self) -> Instant {
        self.rotated_at
            .checked_add(self.cfg.rotation)
            .unwrap_or(self.rotated_at)
    }

    /// How many rotations happened so far.
    pub fn rotations(&self) -> u64 {
        self.rotations
    }

    /// Applies the rotations due at `now`. Rotations are anchored to the
    /// construction time; if two or more periods passed since the last one,
    /// both secrets are replaced so no old token survives.
    pub fn rotate(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.rotated_at);
        if elapsed < self.cfg.rotation {
            return;
        }
        let periods = elapsed.as_nanos() / self.cfg.rotation.as_nanos();
        if periods >= 2 {
            self.rng.fill_bytes(&mut self.previous);
        } else {
            self.previous = self.current;
        }
        self.rng.fill_bytes(&mut self.current);
        self.rotations += 1;
        // Advance by whole periods (saturating: periods fits u32 for any sane
        // duration; if not, just re-anchor at `now`).
        self.rotated_at = match u32::try_from(periods)
            .ok()
            .and_then(|p| self.cfg.rotation.checked_mul(p))
            .and_then(|d| self.rotated_at.checked_add(d))
        {
            Some(t) if t <= now => t,
            _ => now,
        };
    }
}

fn make(secret: &[u8; 20], addr: SocketAddr, info_hash: &Id) -> Token {
    let mut h = Sha1::new();
    h.update(secret);
    match addr.ip().to_canonical() {
        IpAddr::V4(v4) => h.update(v4.octets()),
        IpAddr::V6(v6) => h.update(v6.octets()),
    }
    h.update(addr.port().to_be_bytes());
    h.update(info_hash.0);
    let digest = h.finalize();
    let mut t = [0u8; TOKEN_LEN];
    t.copy_from_slice(&digest[..TOKEN_LEN]);
    Token(t)
}

/// Length-checked comparison without early exit.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Instant, TokenManager) {
        let t0 = Instant::now();
        let mut rng = StdRng::seed_from_u64(7);
        (t0, TokenManager::new(t0, &mut rng))
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn valid_immediately_and_across_one_rotation() {
        let (t0, mut m) = setup();
        let a = addr("1.2.3.4:6881");
        let ih = Id([9; 20]);
        let tok = m.issue(t0, a, &ih);
        assert!(m.verify(t0, a, &ih, tok.as_bytes()));
        assert!(m.verify(t0 + 4 * MIN, a, &ih, tok.as_bytes()));
        // One rotation at 5 min: still accepted via the previous secret.
        assert!(m.verify(t0 + 6 * MIN, a, &ih, tok.as_bytes()));
        assert!(m.verify(
            t0 + 9 * MIN + Duration::from_secs(59),
            a,
            &ih,
            tok.as_bytes()
        ));
        assert_eq!(m.rotations(), 1);
        // Second rotation at 10 min: gone.
        assert!(!m.verify(t0 + 10 * MIN, a, &ih, tok.as_bytes()));
        assert_eq!(m.rotations(), 2);
    }

    #[test]
    fn token_issued_late_in_period_lives_at_least_one_period() {
        let (t0, mut m) = setup();
        let a = addr("1.2.3.4:6881");
        let ih = Id([1; 20]);
        let tok = m.issue(t0 + 4 * MIN + Duration::from_secs(59), a, &ih);
        assert!(m.verify(
            t0 + 9 * MIN + Duration::from_secs(58),
            a,
            &ih,
            tok.as_bytes()
        ));
        assert!(!m.verify(t0 + 10 * MIN, a, &ih, tok.as_bytes()));
    }

    #[test]
    fn invalid_after_long_gap_even_without_intermediate_calls() {
        let (t0, mut m) = setup();
        let a = addr("1.2.3.4:6881");
        let ih = Id([1; 20]);
        let tok = m.issue(t0, a, &ih);
        // Nothing happens for 30 minutes, then a verify: both secrets replaced.
        assert!(!m.verify(t0 + 30 * MIN, a, &ih, tok.as_bytes()));
        // A fresh token works again and the schedule stays anchored.
        let tok2 = m.issue(t0 + 30 * MIN, a, &ih);
        assert!(m.verify(t0 + 36 * MIN, a, &ih, tok2.as_bytes()));
        assert!(!m.verify(t0 + 40 * MIN, a, &ih, tok2.as_bytes()));
    }

    #[test]
    fn bound_to_ip_port_and_info_hash() {
        let (t0, mut m) = setup();
        let a = addr("1.2.3.4:6881");
        let ih = Id([1; 20]);
        let tok = m.issue(t0, a, &ih);
        assert!(!m.verify(t0, addr("1.2.3.5:6881"), &ih, tok.as_bytes()));
        assert!(!m.verify(t0, addr("1.2.3.4:6882"), &ih, tok.as_bytes()));
        assert!(!m.verify(t0, a, &Id([2; 20]), tok.as_bytes()));
        // IPv4-mapped IPv6 source is the same asker.
        assert!(m.verify(t0, addr("[::ffff:1.2.3.4]:6881"), &ih, tok.as_bytes()));
        // Tokens differ per asker.
        assert_ne!(tok, m.issue(t0, addr("1.2.3.4:6882"), &ih));
        let v6 = addr("[2001:db8::1]:6881");
        let t6 = m.issue(t0, v6, &ih);
        assert!(m.verify(t0, v6, &ih, t6.as_bytes()));
        assert!(!m.verify(t0, addr("[2001:db8::2]:6881"), &ih, t6.as_bytes()));
    }

    #[test]
    fn garbage_tokens_rejected() {
        let (t0, mut m) = setup();
        let a = addr("1.2.3.4:6881");
        let ih = Id([1; 20]);
        let tok = m.issue(t0, a, &ih);
        assert!(!m.verify(t0, a, &ih, &[]));
        assert!(!m.verify(t0, a, &ih, &tok.0[..7]));
        let mut long = tok.0.to_vec();
        long.push(0);
        assert!(!m.verify(t0, a, &ih, &long));
        let mut flipped = tok.0;
        flipped[0] ^= 1;
        assert!(!m.verify(t0, a, &ih, &flipped));
        // A time before construction does not panic or rotate.
        let early = t0.checked_sub(MIN).unwrap_or(t0);
        assert!(m.verify(early, a, &ih, tok.as_bytes()));
    }

    #[test]
    fn deterministic_from_seed_and_config_checked() {
        let t0 = Instant::now();
        let a = addr("1.2.3.4:6881");
        let ih = Id([3; 20]);
        let mut m1 = TokenManager::new(t0, &mut StdRng::seed_from_u64(1));
        let mut m2 = TokenManager::new(t0, &mut StdRng::seed_from_u64(1));
        let mut m3 = TokenManager::new(t0, &mut StdRng::seed_from_u64(2));
        assert_eq!(m1.issue(t0, a, &ih), m2.issue(t0, a, &ih));
        assert_ne!(m1.issue(t0, a, &ih), m3.issue(t0, a, &ih));
        assert_eq!(m1.next_rotation(), t0 + 5 * MIN);
        let bad = TokenConfig {
            rotation: Duration::ZERO,
        };
        assert!(TokenManager::with_config(t0, bad, &mut StdRng::seed_from_u64(1)).is_err());
    }
}
