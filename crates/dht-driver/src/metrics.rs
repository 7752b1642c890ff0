//! A node's [`Snapshot`] in the Prometheus text format (0.0.4), through the
//! `prometheus-client` crate: one collector reads the snapshot at each scrape, so the
//! node keeps no second set of counters.
//!
//! Every series is prefixed `swarmlab_dht_` and labelled `family` (`v4` or `v6`, one
//! per stack). Counters:
//! `queries_in_total{method}`, `queries_out_total{method}`, `replies_sent_total`,
//! `responses_in_total`, `errors_sent_total{code}`, `errors_in_total{code}`,
//! `timeouts_total`, `refused_total{reason}` (the rate limits: `rate_limited`,
//! `blocked`, `reply_cap`, `outgoing_cap`), `datagrams_in_total`,
//! `datagrams_out_total`, `dropped_total{reason}` (`oversized`, `garbage`,
//! `bad_query`, `bad_response`), `announces_stored_total`, `items_stored_total`,
//! `items_refused_total`, `lookups_total`. Gauges: `routing_table_nodes{bucket,state}`,
//! `routing_table_cached{bucket}`, `peer_store_info_hashes`, `peer_store_peers`,
//! `item_store_items`, `lookups_running`, `uptime_seconds`. Histogram:
//! `lookup_duration_seconds` (every lookup the node finished, its own bootstrap and
//! refresh lookups included).

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use swarmlab_dht::node::LatencyHistogram;
use swarmlab_dht::Stats;

use crate::Snapshot;

type Labels = Vec<(&'static str, String)>;

/// The snapshot of every stack, as the collector reads it.
#[derive(Debug)]
struct Stacks(Vec<Snapshot>);

fn family(s: &Snapshot) -> String {
    if s.addr.is_ipv6() { "v6" } else { "v4" }.to_owned()
}

/// One metric family: its samples, each with its labels.
fn write(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: Vec<(Labels, f64)>,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, kind)?;
    for (labels, v) in samples {
        let f = m.encode_family(&labels)?;
        match kind {
            // Counters and gauges of a node are whole numbers below 2^53.
            MetricType::Counter => ConstCounter::new(v as u64).encode(f)?,
            _ => ConstGauge::new(v as i64).encode(f)?,
        }
    }
    Ok(())
}

impl Stacks {
    /// For each stack, `f`'s samples with the stack's `family` label added.
    fn each(&self, f: impl Fn(&Snapshot) -> Vec<(Labels, f64)>) -> Vec<(Labels, f64)> {
        let mut out = Vec::new();
        for s in &self.0 {
            for (mut labels, v) in f(s) {
                labels.insert(0, ("family", family(s)));
                out.push((labels, v));
            }
        }
        out
    }

    fn counter(
        &self,
        enc: &mut DescriptorEncoder<'_>,
        name: &str,
        help: &str,
        f: impl Fn(&Snapshot) -> Vec<(Labels, f64)>,
    ) -> fmt::Result {
        write(enc, name, help, MetricType::Counter, self.each(f))
    }

    fn gauge(
        &self,
        enc: &mut DescriptorEncoder<'_>,
        (name, help): (&str, &str),
        f: impl Fn(&Snapshot) -> Vec<(Labels, f64)>,
    ) -> fmt::Result {
        write(enc, name, help, MetricType::Gauge, self.each(f))
    }
}

/// One unlabelled sample.
fn one(v: u64) -> Vec<(Labels, f64)> {
    vec![(Vec::new(), v as f64)]
}

/// One sample per label value.
fn by(key: &'static str, values: impl IntoIterator<Item = (String, u64)>) -> Vec<(Labels, f64)> {
    values
        .into_iter()
        .map(|(k, v)| (vec![(key, k)], v as f64))
        .collect()
}

fn codes(c: &swarmlab_dht::node::ErrorCounts) -> Vec<(Labels, f64)> {
    by(
        "code",
        c.iter()
            .map(|(code, n)| (code.map_or_else(|| "other".into(), |c| c.to_string()), n)),
    )
}

/// Per-bucket counts (the encoder adds them up) from the cumulative ones.
fn buckets(h: &LatencyHistogram) -> Vec<(f64, u64)> {
    let mut prev = 0;
    let mut out: Vec<(f64, u64)> = LatencyHistogram::BOUNDS_MS
        .iter()
        .zip(h.counts)
        .map(|(b, c)| {
            let n = c - prev;
            prev = c;
            (b / 1000.0, n)
        })
        .collect();
    out.push((f64::INFINITY, h.count - prev));
    out
}

/// The counters labelled by the family only: name, help, value.
type Plain = (&'static str, &'static str, fn(&Stats) -> u64);

fn plain_counters() -> [Plain; 9] {
    [
        ("replies_sent", "Replies sent to queries.", |s| {
            s.replies_sent
        }),
        ("responses_in", "Responses to our queries, accepted.", |s| {
            s.responses_in
        }),
        ("timeouts", "Queries of ours not answered in time.", |s| {
            s.timeouts
        }),
        ("datagrams_in", "Datagrams received.", |s| s.datagrams_in),
        ("datagrams_out", "Datagrams sent.", |s| s.datagrams_out),
        ("announces_stored", "announce_peer queries stored.", |s| {
            s.announces_stored
        }),
        ("items_stored", "BEP 44 puts stored.", |s| s.items_stored),
        ("items_refused", "BEP 44 puts refused.", |s| s.items_refused),
        (
            "lookups",
            "Lookups finished (ours and the node's own).",
            |s| s.lookup_ms.count,
        ),
    ]
}

/// The counters labelled by a `reason` too: name, help, (reason, value) of each.
type Reasons = (
    &'static str,
    &'static str,
    fn(&Stats) -> [(&'static str, u64); 4],
);

fn reason_counters() -> [Reasons; 2] {
    [
        (
            "refused",
            "Packets refused by the rate limits, by limit.",
            |s| {
                [
                    ("rate_limited", s.rate_limited),
                    ("blocked", s.blocked),
                    ("reply_cap", s.replies_capped),
                    ("outgoing_cap", s.outgoing_capped),
                ]
            },
        ),
        (
            "dropped",
            "Datagrams dropped unanswered or unused, by reason.",
            |s| {
                [
                    ("oversized", s.oversized),
                    ("garbage", s.garbage),
                    ("bad_query", s.bad_queries),
                    ("bad_response", s.bad_responses),
                ]
            },
        ),
    ]
}

/// The gauges labelled by the family only: name, help, value.
type PlainGauge = (&'static str, &'static str, fn(&Snapshot) -> usize);

fn plain_gauges() -> [PlainGauge; 5] {
    [
        (
            "peer_store_info_hashes",
            "Info-hashes in the peer store.",
            |s| s.info_hashes_stored,
        ),
        ("peer_store_peers", "Peers in the peer store.", |s| {
            s.peers_stored
        }),
        ("item_store_items", "BEP 44 items stored.", |s| {
            s.items_stored
        }),
        ("lookups_running", "Lookups running.", |s| s.lookups_running),
        ("uptime_seconds", "Seconds since the node started.", |s| {
            s.uptime_s as usize
        }),
    ]
}

impl Collector for Stacks {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let e = &mut enc;
        self.counter(
            e,
            "queries_in",
            "Queries received, per method (before the rate limits).",
            |s| {
                by(
                    "method",
                    s.stats.queries_in.iter().map(|(m, n)| (m.to_owned(), n)),
                )
            },
        )?;
        self.counter(e, "queries_out", "Queries sent, per method.", |s| {
            by(
                "method",
                s.stats.queries_out.iter().map(|(m, n)| (m.to_owned(), n)),
            )
        })?;
        self.counter(e, "errors_sent", "Error replies sent, by KRPC code.", |s| {
            codes(&s.stats.errors_sent_by_code)
        })?;
        self.counter(
            e,
            "errors_in",
            "Error replies received, by KRPC code.",
            |s| codes(&s.stats.errors_in_by_code),
        )?;
        for (name, help, value) in plain_counters() {
            self.counter(e, name, help, |s| one(value(&s.stats)))?;
        }
        for (name, help, values) in reason_counters() {
            self.counter(e, name, help, |s| {
                by("reason", values(&s.stats).map(|(r, n)| (r.to_owned(), n)))
            })?;
        }
        self.gauge(
            e,
            (
                "routing_table_nodes",
                "Routing-table nodes per bucket and state.",
            ),
            |s| {
                s.buckets
                    .iter()
                    .flat_map(|b| {
                        [
                            ("good", b.good),
                            ("questionable", b.questionable),
                            ("unverified", b.unverified),
                            ("bad", b.bad),
                        ]
                        .map(|(state, n)| {
                            (
                                vec![("bucket", b.index.to_string()), ("state", state.to_owned())],
                                n as f64,
                            )
                        })
                    })
                    .collect()
            },
        )?;
        self.gauge(
            e,
            (
                "routing_table_cached",
                "Replacement-cache candidates per bucket.",
            ),
            |s| {
                by(
                    "bucket",
                    s.buckets
                        .iter()
                        .map(|b| (b.index.to_string(), b.cached as u64)),
                )
            },
        )?;
        for (name, help, value) in plain_gauges() {
            self.gauge(e, (name, help), |s| one(value(s) as u64))?;
        }
        let mut m = e.encode_descriptor(
            "lookup_duration_seconds",
            "How long lookups took, on the node's clock.",
            None,
            MetricType::Histogram,
        )?;
        for s in &self.0 {
            let labels: Labels = vec![("family", family(s))];
            let h = &s.stats.lookup_ms;
            m.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                h.sum_ms / 1000.0,
                h.count,
                &buckets(h),
                None,
            )?;
        }
        Ok(())
    }
}

/// The snapshot (its first stack, and the second when there is one) in the Prometheus
/// text format, every series prefixed `swarmlab_dht_`.
pub fn render(snapshot: &Snapshot) -> String {
    let mut stacks = vec![snapshot.clone()];
    if let Some(second) = &snapshot.second {
        stacks.push((**second).clone());
    }
    let mut registry = Registry::with_prefix("swarmlab_dht");
    registry.register_collector(Box::new(Stacks(stacks)));
    let mut out = String::new();
    // Writing into a String cannot fail; an encoder error would leave a partial page,
    // which the scraper reports.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}
