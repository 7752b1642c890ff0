//! One audit round: gather peers from every source, audit each address once with
//! bounded concurrency, follow PEX, and build the report.

use crate::dht::DhtLookup;
use crate::report::{finalize, summarize, PeerRecord, PieceEvidence, RoundReport};
use crate::session::{audit_peer, our_peer_id, usable, SessionCtx, SharedMeta};
use crate::sources::{self, SourceReport, TrackerOptions};
use crate::target::Target;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

/// Settings of an audit round.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Most peer connections at once.
    pub max_conns: usize,
    /// TCP connect timeout (the handshake gets twice this, at least 2 s).
    pub connect_timeout: Duration,
    /// Most time spent with one peer.
    pub peer_budget: Duration,
    /// Time to stay after the basic exchange, to watch haves and PEX.
    pub linger: Duration,
    /// Pieces to download and verify per peer (0 = none).
    pub probe_pieces: usize,
    /// Connect to peers learned through PEX.
    pub follow_pex: bool,
    /// Most distinct addresses audited per round.
    pub max_peers: usize,
    /// HTTP tracker and DHT timeout.
    pub tracker_timeout: Duration,
    /// UDP tracker base timeout.
    pub udp_base_timeout: Duration,
    /// UDP tracker retries.
    pub udp_retries: u32,
    /// Ask the DHT (when one is given).
    pub use_dht: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            max_conns: 200,
            connect_timeout: Duration::from_secs(5),
            peer_budget: Duration::from_secs(30),
            linger: Duration::from_secs(10),
            probe_pieces: 0,
            follow_pex: true,
            max_peers: 5000,
            tracker_timeout: Duration::from_secs(15),
            udp_base_timeout: Duration::from_secs(15),
            udp_retries: 2,
            use_dht: true,
        }
    }
}

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Addresses found.
    pub found: std::sync::atomic::AtomicUsize,
    /// Sessions finished.
    pub done: std::sync::atomic::AtomicUsize,
    /// Handshakes that succeeded.
    pub reached: std::sync::atomic::AtomicUsize,
    /// Sessions running.
    pub in_flight: std::sync::atomic::AtomicUsize,
}

/// The peers and extra inputs of a round, beyond the target itself.
#[derive(Clone, Default)]
pub struct RoundInputs {
    /// Extra tracker URLs.
    pub trackers: Vec<String>,
    /// Extra peers given by hand.
    pub peers: Vec<SocketAddr>,
    /// The DHT, if any.
    pub dht: Option<Arc<dyn DhtLookup>>,
}

enum SourceDone {
    Tracker(SourceReport, Vec<SocketAddr>),
}

/// Run one audit round. `target.info` is updated when the metadata is fetched.
pub async fn audit_round(
    target: &mut Target,
    inputs: &RoundInputs,
    cfg: &AuditConfig,
    round: u32,
    progress: Option<Arc<Progress>>,
) -> RoundReport {
    use std::sync::atomic::Ordering::Relaxed;
    let started = Instant::now();
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let progress = progress.unwrap_or_default();
    let had_info = target.info.is_some();
    let meta = Arc::new(SharedMeta::new(target.info.clone()));
    let cfg = Arc::new(cfg.clone());
    let (pex_tx, mut pex_rx) = mpsc::channel::<(SocketAddr, Vec<SocketAddr>)>(1024);
    let ctx = SessionCtx {
        info_hash: target.info_hash,
        meta: meta.clone(),
        cfg: cfg.clone(),
        pex_tx: Some(pex_tx),
    };

    // Sources.
    let mut source_tasks: JoinSet<SourceDone> = JoinSet::new();
    let mut trackers: Vec<String> = Vec::new();
    for t in target.trackers.iter().chain(&inputs.trackers) {
        if !trackers.contains(t) {
            trackers.push(t.clone());
        }
    }
    let left = target
        .info
        .as_ref()
        .map(|i| i.total_length())
        .unwrap_or(16_384);
    let announce = sources::make_announce(target.info_hash, our_peer_id(), left);
    let opts = TrackerOptions {
        http_timeout: cfg.tracker_timeout,
        udp_base_timeout: cfg.udp_base_timeout,
        udp_retries: cfg.udp_retries,
    };
    let mut reports: Vec<SourceReport> = Vec::new();
    match sources::http_client(cfg.tracker_timeout) {
        Ok(http) => {
            for url in trackers {
                let (a, o, h) = (announce.clone(), opts.clone(), http.clone());
                source_tasks.spawn(async move {
                    let (r, p) = sources::query_tracker(&url, &a, &o, &h).await;
                    SourceDone::Tracker(r, p)
                });
            }
        }
        Err(e) => reports.push(SourceReport::unavailable(
            "http_tracker",
            "-",
            format!("no HTTP client: {e}"),
        )),
    }
    if cfg.use_dht {
        match &inputs.dht {
            Some(dht) => {
                let dht = dht.clone();
                let ih = target.info_hash;
                let timeout = cfg.tracker_timeout;
                source_tasks.spawn(async move {
                    let t0 = Instant::now();
                    let res = tokio::time::timeout(timeout, dht.get_peers(ih)).await;
                    let (ok, peers, error) = match res {
                        Ok(Ok(p)) => (true, p, None),
                        Ok(Err(e)) => (false, Vec::new(), Some(e.to_string())),
                        Err(_) => (false, Vec::new(), Some("timeout".to_string())),
                    };
                    let r = SourceReport {
                        ok,
                        peers: peers.len(),
                        attempts: 1,
                        elapsed_ms: t0.elapsed().as_millis() as u64,
                        error,
                        ..SourceReport::unavailable("dht", "dht", "")
                    };
                    SourceDone::Tracker(r, peers)
                });
            }
            None => reports.push(SourceReport::unavailable(
                "dht",
                "dht",
                "no DHT node available to the audit",
            )),
        }
    }

    // Address book: sources per address, in order of discovery.
    let mut book: HashMap<SocketAddr, Vec<String>> = HashMap::new();
    let mut order: Vec<SocketAddr> = Vec::new();
    let mut queue: VecDeque<SocketAddr> = VecDeque::new();
    let mut add = |addr: SocketAddr,
                   src: &str,
                   connect: bool,
                   book: &mut HashMap<SocketAddr, Vec<String>>,
                   queue: &mut VecDeque<SocketAddr>| {
        if !usable(&addr) {
            return;
        }
        if let Some(s) = book.get_mut(&addr) {
            if !s.iter().any(|x| x == src) {
                s.push(src.to_string());
            }
            return;
        }
        if book.len() >= cfg.max_peers {
            return;
        }
        book.insert(addr, vec![src.to_string()]);
        order.push(addr);
        if connect {
            queue.push_back(addr);
        }
        progress.found.store(book.len(), Relaxed);
    };
    for p in &target.peers {
        add(*p, "magnet", true, &mut book, &mut queue);
    }
    for p in &inputs.peers {
        add(*p, "manual", true, &mut book, &mut queue);
    }

    let sem = Arc::new(Semaphore::new(cfg.max_conns));
    let mut sessions: JoinSet<(SocketAddr, PeerRecord, PieceEvidence)> = JoinSet::new();
    let mut results: HashMap<SocketAddr, (PeerRecord, PieceEvidence)> = HashMap::new();
    let mut pex_open = true;
    loop {
        // Start sessions while permits are available.
        while let Some(addr) = queue.front().copied() {
            let Ok(permit) = sem.clone().try_acquire_owned() else {
                break;
            };
            queue.pop_front();
            let ctx = ctx.clone();
            let srcs = book.get(&addr).cloned().unwrap_or_default();
            progress.in_flight.fetch_add(1, Relaxed);
            sessions.spawn(async move {
                let (rec, ev) = audit_peer(addr, srcs, ctx).await;
                drop(permit);
                (addr, rec, ev)
            });
        }
        if source_tasks.is_empty() && sessions.is_empty() && queue.is_empty() {
            // Drain any PEX left in the channel, then stop.
            let mut more = false;
            while let Ok((_, peers)) = pex_rx.try_recv() {
                for p in peers {
                    let before = queue.len();
                    add(p, "pex", cfg.follow_pex, &mut book, &mut queue);
                    more |= queue.len() > before;
                }
            }
            if !more {
                break;
            }
            continue;
        }
        tokio::select! {
            Some(done) = source_tasks.join_next(), if !source_tasks.is_empty() => {
                if let Ok(SourceDone::Tracker(r, peers)) = done {
                    let kind = r.kind.clone();
                    for p in peers {
                        add(p, &kind, true, &mut book, &mut queue);
                    }
                    reports.push(r);
                }
            }
            Some(done) = sessions.join_next(), if !sessions.is_empty() => {
                progress.in_flight.fetch_sub(1, Relaxed);
                progress.done.fetch_add(1, Relaxed);
                if let Ok((addr, rec, ev)) = done {
                    if rec.reached {
                        progress.reached.fetch_add(1, Relaxed);
                    }
                    results.insert(addr, (rec, ev));
                }
            }
            msg = pex_rx.recv(), if pex_open => {
                match msg {
                    Some((_, peers)) => {
                        for p in peers {
                            add(p, "pex", cfg.follow_pex, &mut book, &mut queue);
                        }
                    }
                    None => pex_open = false,
                }
            }
        }
    }

    // Build records in discovery order; addresses never connected (PEX with --no-pex) get a stub.
    let info = meta.get();
    let mut recs: Vec<PeerRecord> = Vec::with_capacity(order.len());
    let mut evs: Vec<PieceEvidence> = Vec::with_capacity(order.len());
    for addr in &order {
        let srcs = book.get(addr).cloned().unwrap_or_default();
        let (mut rec, ev) = results.remove(addr).unwrap_or_else(|| {
            let mut r = PeerRecord::new(*addr);
            r.ended = "not_contacted".into();
            (r, PieceEvidence::default())
        });
        rec.sources = srcs;
        finalize(&mut rec, &ev, info.as_deref());
        recs.push(rec);
        evs.push(ev);
    }
    // Sort by address for stable output.
    let mut both: Vec<(PeerRecord, PieceEvidence)> = recs.into_iter().zip(evs).collect();
    both.sort_by(|a, b| {
        let pa: Option<SocketAddr> = a.0.addr.parse().ok();
        let pb: Option<SocketAddr> = b.0.addr.parse().ok();
        pa.cmp(&pb)
    });
    let (recs, evs): (Vec<_>, Vec<_>) = both.into_iter().unzip();
    let summary = summarize(&recs, &evs, info.as_deref());
    let mut sources_sorted = reports;
    sources_sorted
        .sort_by(|a, b| (a.kind.as_str(), a.url.as_str()).cmp(&(b.kind.as_str(), b.url.as_str())));
    if info.is_some() && target.info.is_none() {
        target.info = info.clone();
        if target.name.is_none() {
            target.name = info.as_ref().map(|i| i.name.clone());
        }
    }
    RoundReport {
        round,
        started_unix,
        duration_ms: started.elapsed().as_millis() as u64,
        info_hash: target.info_hash.to_hex(),
        name: target.name.clone(),
        num_pieces: info.as_ref().map(|i| i.num_pieces()),
        piece_length: info.as_ref().map(|i| i.piece_length),
        metadata_fetched: !had_info && info.is_some(),
        sources: sources_sorted,
        summary,
        churn: None,
        peers: recs,
    }
}
