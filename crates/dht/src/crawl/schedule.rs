//! The crawl's state machine: every node known, when each may be asked next, the IPs
//! with a query in flight, the rate, and what the answers brought.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use swarmlab_krpc::{Id, Response};
use swarmlab_net::{canonical, is_valid_peer};

use super::report::{CrawlReport, FoundHash};
use super::{CrawlConfig, CrawlQuery, QueryKind};
use crate::ConfigError;

/// Where a node stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting in `due` until its time.
    Due,
    /// A query is out.
    InFlight(QueryKind),
    /// Never asked again (done with, or dropped).
    Done,
}

#[derive(Debug, Clone)]
struct Record {
    state: State,
    /// Queries sent to it.
    queried: u32,
    /// Answers it gave.
    answered: u32,
    /// Queries it did not answer in a row.
    failures: u32,
    /// It answered `sample_infohashes` (`Some(true)`), or refused it.
    bep51: Option<bool>,
    /// Its last `num`.
    num: Option<i64>,
    /// When it may be asked again (its place in `due`).
    next: Instant,
}

/// A BEP 51 crawl in progress. See the module docs for the rules.
#[derive(Debug)]
pub struct Crawl {
    cfg: CrawlConfig,
    rng: StdRng,
    started: Instant,
    nodes: HashMap<SocketAddr, Record>,
    /// (time the node may be asked, node), for every node in state `Due`.
    due: BTreeSet<(Instant, SocketAddr)>,
    /// IPs with a query in flight.
    busy: HashSet<IpAddr>,
    /// The earliest time the next query may go (the rate).
    next_send: Instant,
    found: HashMap<Id, usize>,
    hashes: Vec<FoundHash>,
    sent: u64,
    timeouts: u64,
    errors: u64,
}

impl Crawl {
    /// A crawl starting at `now`; `seed` seeds the random targets.
    pub fn new(now: Instant, cfg: CrawlConfig, seed: u64) -> Result<Crawl, ConfigError> {
        cfg.validate()?;
        Ok(Crawl {
            cfg,
            rng: StdRng::seed_from_u64(seed),
            started: now,
            nodes: HashMap::new(),
            due: BTreeSet::new(),
            busy: HashSet::new(),
            next_send: now,
            found: HashMap::new(),
            hashes: Vec::new(),
            sent: 0,
            timeouts: 0,
            errors: 0,
        })
    }

    /// Queues a node to ask (now), unless it is known, invalid, or the crawl remembers
    /// [`CrawlConfig::max_nodes`] already.
    pub fn add_node(&mut self, now: Instant, addr: SocketAddr) {
        let addr = canonical(addr);
        if !is_valid_peer(&addr)
            || self.nodes.contains_key(&addr)
            || self.nodes.len() >= self.cfg.max_nodes
        {
            return;
        }
        self.nodes.insert(
            addr,
            Record {
                state: State::Due,
                queried: 0,
                answered: 0,
                failures: 0,
                bep51: None,
                num: None,
                next: now,
            },
        );
        self.due.insert((now, addr));
    }

    /// The next query to send now, if the rate, the in-flight cap and the nodes' own
    /// times allow one.
    pub fn poll_query(&mut self, now: Instant) -> Option<CrawlQuery> {
        if now < self.next_send || self.busy.len() >= self.cfg.max_in_flight {
            return None;
        }
        let &(t, to) = self
            .due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .find(|(_, a)| !self.busy.contains(&a.ip()))?;
        self.due.remove(&(t, to));
        let rec = self.nodes.get_mut(&to)?;
        let kind = if rec.bep51 == Some(false) {
            QueryKind::FindNode
        } else {
            QueryKind::Sample
        };
        rec.state = State::InFlight(kind);
        rec.queried += 1;
        self.busy.insert(to.ip());
        self.sent += 1;
        let gap = Duration::from_secs_f64(1.0 / self.cfg.rate);
        self.next_send = self.next_send.max(now) + gap;
        Some(CrawlQuery {
            to,
            kind,
            target: Id::random(&mut self.rng),
        })
    }

    /// When [`Crawl::poll_query`] may have something next; `None` while only an answer
    /// can change that (the in-flight cap is reached, or every waiting node's IP has a
    /// query out), or when nothing is left at all.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.busy.len() >= self.cfg.max_in_flight {
            return None;
        }
        let (t, _) = self
            .due
            .iter()
            .find(|(_, a)| !self.busy.contains(&a.ip()))?;
        Some((*t).max(self.next_send))
    }

    /// True when no node is due and none is in flight: the crawl has nothing left
    /// until the re-queries (or at all without them).
    pub fn is_idle(&self) -> bool {
        self.busy.is_empty() && self.due.is_empty()
    }

    /// Takes the node out of flight; its record if it was in flight.
    fn landed(&mut self, from: SocketAddr) -> Option<(QueryKind, &mut Record)> {
        let from = canonical(from);
        let rec = self.nodes.get_mut(&from)?;
        let State::InFlight(kind) = rec.state else {
            return None;
        };
        self.busy.remove(&from.ip());
        Some((kind, rec))
    }

    fn schedule(&mut self, addr: SocketAddr, at: Instant) {
        let addr = canonical(addr);
        if let Some(rec) = self.nodes.get_mut(&addr) {
            rec.state = State::Due;
            rec.next = at;
            self.due.insert((at, addr));
        }
    }

    fn done(&mut self, addr: SocketAddr) {
        if let Some(rec) = self.nodes.get_mut(&canonical(addr)) {
            rec.state = State::Done;
        }
    }

    /// The answer of `from` to the crawl's query: its samples, interval and nodes.
    pub fn on_reply(&mut self, now: Instant, from: SocketAddr, r: &Response) {
        let cfg = self.cfg;
        let Some((kind, rec)) = self.landed(from) else {
            return;
        };
        rec.answered += 1;
        rec.failures = 0;
        let mut next = None;
        if kind == QueryKind::Sample {
            match &r.samples {
                Some(_) => {
                    rec.bep51 = Some(true);
                    rec.num = r.num;
                    let interval = r
                        .interval
                        .and_then(|s| u64::try_from(s).ok())
                        .map_or(cfg.max_interval, Duration::from_secs)
                        .clamp(cfg.min_interval, cfg.max_interval.max(cfg.min_interval));
                    if cfg.requery {
                        next = Some(now + interval);
                    }
                }
                // Answered, but not BEP 51: its nodes were the point; done with it.
                None => rec.bep51 = Some(false),
            }
        }
        match next {
            Some(at) => self.schedule(from, at),
            None => self.done(from),
        }
        let elapsed = now.saturating_duration_since(self.started).as_secs_f64();
        for ih in r.samples.iter().flatten() {
            match self.found.get(ih) {
                Some(&i) => self.hashes[i].nodes += 1,
                None => {
                    self.found.insert(*ih, self.hashes.len());
                    self.hashes.push(FoundHash {
                        info_hash: *ih,
                        first_seen_s: elapsed,
                        nodes: 1,
                    });
                }
            }
        }
        for n in r.nodes.iter().flatten() {
            self.add_node(now, SocketAddr::V4(n.addr));
        }
        for n in r.nodes6.iter().flatten() {
            self.add_node(now, SocketAddr::V6(n.addr));
        }
    }

    /// `from` answered with an error (`code`): a node that does not know
    /// `sample_infohashes` gets one `find_node`; any other error ends it.
    pub fn on_error(&mut self, now: Instant, from: SocketAddr, code: i64) {
        self.errors += 1;
        let Some((kind, rec)) = self.landed(from) else {
            return;
        };
        if kind == QueryKind::Sample && rec.bep51.is_none() {
            rec.bep51 = Some(false);
            if code == 204 {
                self.schedule(from, now);
                return;
            }
        }
        self.done(from);
    }

    /// `from` did not answer: asked once more after [`CrawlConfig::retry_after`], then
    /// dropped.
    pub fn on_timeout(&mut self, now: Instant, from: SocketAddr) {
        self.timeouts += 1;
        let retry = self.cfg.retry_after;
        let Some((_, rec)) = self.landed(from) else {
            return;
        };
        rec.failures += 1;
        if rec.failures < 2 {
            self.schedule(from, now + retry);
        } else {
            self.done(from);
        }
    }

    /// When `addr` may be asked next, if it is waiting (for tests and the politeness
    /// log).
    pub fn next_query_at(&self, addr: SocketAddr) -> Option<Instant> {
        self.nodes
            .get(&canonical(addr))
            .filter(|r| r.state == State::Due)
            .map(|r| r.next)
    }

    /// What the crawl has found so far.
    pub fn report(&self, now: Instant) -> CrawlReport {
        let elapsed_s = now.saturating_duration_since(self.started).as_secs_f64();
        let recs = self.nodes.values();
        let contacted = recs.clone().filter(|r| r.queried > 0).count();
        let answered = recs.clone().filter(|r| r.answered > 0).count();
        let bep51 = recs.clone().filter(|r| r.bep51 == Some(true)).count();
        let num_total = recs.filter_map(|r| r.num).filter(|&n| n > 0).sum();
        CrawlReport {
            elapsed_s,
            nodes_known: self.nodes.len(),
            nodes_contacted: contacted,
            nodes_answered: answered,
            nodes_bep51: bep51,
            queries: self.sent,
            timeouts: self.timeouts,
            errors: self.errors,
            num_total,
            info_hashes: self.hashes.len(),
            per_hour: if elapsed_s > 0.0 {
                self.hashes.len() as f64 * 3600.0 / elapsed_s
            } else {
                0.0
            },
            found: self.hashes.clone(),
        }
    }
}
