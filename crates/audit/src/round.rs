//! One audit round: ask every source, audit each address once with at most
//! `max_conns` connections in flight, follow PEX, and build the report.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::book::AddressBook;
use crate::config::{AuditConfig, RoundInputs};
use crate::error::TargetError;
use crate::peer::{audit_peer, our_peer_id, SessionCtx, SharedMeta};
use crate::progress::Progress;
use crate::report::{finalize, summarize, PeerRecord, PieceEvidence, RoundReport};
use crate::sources::{self, SourceReport, TrackerOptions};
use crate::target::Target;

/// Resolve `target` (a .torrent path, a magnet link or an info-hash) and run one
/// round on it.
pub async fn audit(
    target: &str,
    inputs: &RoundInputs,
    cfg: &AuditConfig,
) -> Result<RoundReport, TargetError> {
    let mut target = Target::resolve(target)?;
    Ok(audit_round(&mut target, inputs, cfg, 1, None).await)
}

/// Start every source's query: trackers (the target's and the extra ones) and the
/// DHT. Sources that cannot be asked at all are reported at once in `reports`.
fn start_sources(
    target: &Target,
    inputs: &RoundInputs,
    cfg: &AuditConfig,
    tasks: &mut JoinSet<(SourceReport, Vec<SocketAddr>)>,
    reports: &mut Vec<SourceReport>,
) {
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
        local_ip: None,
    };
    match sources::http_client(cfg.tracker_timeout) {
        Ok(http) => {
            for url in trackers {
                let (a, o, h) = (announce.clone(), opts.clone(), http.clone());
                tasks.spawn(async move { sources::query_tracker(&url, &a, &o, &h).await });
            }
        }
        Err(e) => reports.push(SourceReport::unavailable(
            "http_tracker",
            "-",
            format!("no HTTP client: {e}"),
        )),
    }
    if !cfg.use_dht {
        return;
    }
    let Some(dht) = inputs.dht.clone() else {
        reports.push(SourceReport::unavailable(
            "dht",
            "dht",
            "no DHT node available to the audit",
        ));
        return;
    };
    let ih = target.info_hash;
    let timeout = cfg.tracker_timeout;
    tasks.spawn(async move {
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
        (r, peers)
    });
}

/// Run one audit round. `target.info` is updated when the metadata is fetched.
pub async fn audit_round(
    target: &mut Target,
    inputs: &RoundInputs,
    cfg: &AuditConfig,
    round: u32,
    progress: Option<Arc<Progress>>,
) -> RoundReport {
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

    let mut source_tasks = JoinSet::new();
    let mut reports: Vec<SourceReport> = Vec::new();
    start_sources(target, inputs, &cfg, &mut source_tasks, &mut reports);

    let mut book = AddressBook::new(cfg.max_peers);
    let add = |book: &mut AddressBook, addr: SocketAddr, src: &str, connect: bool| {
        let queued = book.add(addr, src, connect);
        progress.found.store(book.len(), Relaxed);
        queued
    };
    for p in &target.peers {
        add(&mut book, *p, "magnet", true);
    }
    for p in &inputs.peers {
        add(&mut book, *p, "manual", true);
    }

    // At most `max_conns` sessions hold a permit, from before the connect until the
    // session's end.
    let sem = Arc::new(Semaphore::new(cfg.max_conns));
    let mut sessions: JoinSet<(SocketAddr, PeerRecord, PieceEvidence)> = JoinSet::new();
    let mut results: HashMap<SocketAddr, (PeerRecord, PieceEvidence)> = HashMap::new();
    let mut pex_open = true;
    loop {
        while book.peek_queued().is_some() {
            let Ok(permit) = sem.clone().try_acquire_owned() else {
                break;
            };
            let Some(addr) = book.pop_queued() else {
                break;
            };
            let ctx = ctx.clone();
            let srcs = book.sources(&addr);
            progress.in_flight.fetch_add(1, Relaxed);
            sessions.spawn(async move {
                let (rec, ev) = audit_peer(addr, srcs, ctx).await;
                drop(permit);
                (addr, rec, ev)
            });
        }
        if source_tasks.is_empty() && sessions.is_empty() && book.queue_is_empty() {
            // Take in any PEX left in the channel, then stop.
            let mut more = false;
            while let Ok((_, peers)) = pex_rx.try_recv() {
                for p in peers {
                    more |= add(&mut book, p, "pex", cfg.follow_pex);
                }
            }
            if !more {
                break;
            }
            continue;
        }
        tokio::select! {
            Some(done) = source_tasks.join_next(), if !source_tasks.is_empty() => {
                if let Ok((r, peers)) = done {
                    for p in peers {
                        add(&mut book, p, &r.kind, true);
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
                            add(&mut book, p, "pex", cfg.follow_pex);
                        }
                    }
                    None => pex_open = false,
                }
            }
        }
    }

    // Records in discovery order; addresses never connected (PEX with --no-pex) get a stub.
    let info = meta.get();
    let mut both: Vec<(PeerRecord, PieceEvidence)> = book
        .order()
        .iter()
        .map(|addr| {
            let (mut rec, ev) = results.remove(addr).unwrap_or_else(|| {
                let mut r = PeerRecord::new(*addr);
                r.ended = "not_contacted".into();
                (r, PieceEvidence::default())
            });
            rec.sources = book.sources(addr);
            finalize(&mut rec, &ev, info.as_deref());
            (rec, ev)
        })
        .collect();
    // Sorted by address for stable output.
    both.sort_by_key(|(r, _)| r.addr.parse::<SocketAddr>().ok());
    let (recs, evs): (Vec<_>, Vec<_>) = both.into_iter().unzip();
    let summary = summarize(&recs, &evs, info.as_deref());
    reports
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
        sources: reports,
        summary,
        churn: None,
        peers: recs,
    }
}
