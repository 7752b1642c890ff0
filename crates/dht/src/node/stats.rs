//! What the node counts: datagrams, queries per method, replies, errors by code,
//! timeouts, everything it refused, and how long its lookups took.

use serde::ser::{Serialize, SerializeMap, Serializer};
use swarmlab_krpc::Method;

/// Counters per query method.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PerMethod {
    /// `ping` queries.
    pub ping: u64,
    /// `find_node` queries.
    pub find_node: u64,
    /// `get_peers` queries.
    pub get_peers: u64,
    /// `announce_peer` queries.
    pub announce_peer: u64,
    /// BEP 44 `get` queries.
    pub get: u64,
    /// BEP 44 `put` queries.
    pub put: u64,
    /// BEP 51 `sample_infohashes` queries.
    pub sample_infohashes: u64,
}

impl PerMethod {
    pub(super) fn bump(&mut self, m: &Method) {
        match m {
            Method::Ping => self.ping += 1,
            Method::FindNode { .. } => self.find_node += 1,
            Method::GetPeers { .. } => self.get_peers += 1,
            Method::AnnouncePeer { .. } => self.announce_peer += 1,
            Method::Get { .. } => self.get += 1,
            Method::Put(_) => self.put += 1,
            Method::SampleInfohashes { .. } => self.sample_infohashes += 1,
        }
    }

    /// Every method together.
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, n)| n).sum()
    }

    /// `(wire name, count)` for every method, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("ping", self.ping),
            ("find_node", self.find_node),
            ("get_peers", self.get_peers),
            ("announce_peer", self.announce_peer),
            ("get", self.get),
            ("put", self.put),
            ("sample_infohashes", self.sample_infohashes),
        ]
        .into_iter()
    }
}

/// Error messages counted by code: BEP 5's 201-204, BEP 44's 205-207, 301 and 302,
/// and every other code together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    counts: [u64; ErrorCounts::CODES.len() + 1],
}

impl ErrorCounts {
    /// The codes counted one by one.
    pub const CODES: [i64; 9] = [201, 202, 203, 204, 205, 206, 207, 301, 302];

    pub(super) fn bump(&mut self, code: i64) {
        let i = Self::CODES
            .iter()
            .position(|&c| c == code)
            .unwrap_or(Self::CODES.len());
        self.counts[i] += 1;
    }

    /// How many errors had `code` (`None`: a code not in [`ErrorCounts::CODES`]).
    pub fn get(&self, code: Option<i64>) -> u64 {
        let i = code
            .and_then(|c| Self::CODES.iter().position(|&x| x == c))
            .unwrap_or(Self::CODES.len());
        self.counts[i]
    }

    /// `(code, count)` for every code of [`ErrorCounts::CODES`], then `(None, count)`
    /// for the others.
    pub fn iter(&self) -> impl Iterator<Item = (Option<i64>, u64)> + '_ {
        Self::CODES
            .iter()
            .map(|&c| Some(c))
            .chain([None])
            .zip(self.counts.iter().copied())
    }

    /// All errors.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

impl Serialize for ErrorCounts {
    /// As a map from the code (`"other"` for the rest) to its count.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.counts.len()))?;
        for (code, n) in self.iter() {
            match code {
                Some(c) => m.serialize_entry(&c.to_string(), &n)?,
                None => m.serialize_entry("other", &n)?,
            }
        }
        m.end()
    }
}

/// Lookup durations in milliseconds, in cumulative buckets (as a Prometheus
/// histogram): `counts[i]` lookups took at most [`LatencyHistogram::BOUNDS_MS`]`[i]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct LatencyHistogram {
    /// Lookups at or under each bound (cumulative).
    pub counts: [u64; LatencyHistogram::BOUNDS_MS.len()],
    /// Every lookup.
    pub count: u64,
    /// The sum of their durations, in milliseconds.
    pub sum_ms: f64,
}

impl LatencyHistogram {
    /// The upper bounds of the buckets, in milliseconds (the last bucket is +Inf).
    pub const BOUNDS_MS: [f64; 12] = [
        10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0,
    ];

    /// Records one lookup of `ms` milliseconds.
    pub fn record(&mut self, ms: f64) {
        for (c, b) in self.counts.iter_mut().zip(Self::BOUNDS_MS) {
            if ms <= b {
                *c += 1;
            }
        }
        self.count += 1;
        self.sum_ms += ms;
    }
}

/// What the node has done, for `swarmlab node`'s periodic stats and its metrics.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Stats {
    /// Datagrams handed to [`Node::handle`](super::Node::handle), oversized ones included.
    pub datagrams_in: u64,
    /// Datagrams queued for sending (queries, replies and error replies).
    pub datagrams_out: u64,
    /// Queries received, per method (counted before the rate limits).
    pub queries_in: PerMethod,
    /// Queries sent, per method.
    pub queries_out: PerMethod,
    /// Replies sent to queries.
    pub replies_sent: u64,
    /// Error replies sent (201-204, and BEP 44's).
    pub errors_sent: u64,
    /// Error replies sent, by code.
    pub errors_sent_by_code: ErrorCounts,
    /// Responses to our queries, accepted.
    pub responses_in: u64,
    /// Error replies to our queries received.
    pub errors_in: u64,
    /// Error replies received, by code (counted as `errors_in`).
    pub errors_in_by_code: ErrorCounts,
    /// Queries of ours that got no answer within the request timeout.
    pub timeouts: u64,
    /// Datagrams longer than [`MAX_DATAGRAM_IN`](super::MAX_DATAGRAM_IN), dropped unread.
    pub oversized: u64,
    /// Datagrams that were not KRPC at all (dropped silently).
    pub garbage: u64,
    /// Queries answered 203 (malformed) or 204 (unknown method).
    pub bad_queries: u64,
    /// Responses or errors that were malformed, unexpected, or from the wrong address.
    pub bad_responses: u64,
    /// Queries dropped by the per-IP rate limit.
    pub rate_limited: u64,
    /// Queries dropped because their IP is blocked (it went over the limit).
    pub blocked: u64,
    /// Queries dropped by the global reply cap.
    pub replies_capped: u64,
    /// Queries left unanswered because the node is read-only (BEP 43).
    pub read_only_unanswered: u64,
    /// Queries of ours delayed by the outgoing-query cap.
    pub outgoing_capped: u64,
    /// `announce_peer` queries stored.
    pub announces_stored: u64,
    /// `announce_peer` queries refused for a bad token.
    pub announces_bad_token: u64,
    /// BEP 44 `put` queries whose item was stored (new, refreshed or replaced).
    pub items_stored: u64,
    /// BEP 44 `put` queries refused (bad token, size, signature, `seq`, `cas`).
    pub items_refused: u64,
    /// BEP 44 items in `get` responses that failed their check (hash or signature).
    pub items_bad: u64,
    /// Lookups started with [`Node::start_lookup`](super::Node::start_lookup).
    pub lookups_started: u64,
    /// Lookups reported as [`Event::LookupDone`](super::Event::LookupDone).
    pub lookups_done: u64,
    /// How long every finished lookup took (the node's own bootstrap and refresh
    /// lookups included), on the node's clock.
    pub lookup_ms: LatencyHistogram,
}
