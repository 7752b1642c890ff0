//! Charlie, the client: discovery, download, merge and check.
//!
//! A run, in order:
//! 1. `chain`: the discovery chain — a course step's (1 `config`, 2 `tracker`,
//!    3 `broadcast`), the trackerless step 4 (`dht,metadata,pex` from a file id), or
//!    the sources `--discovery` names — with the file id in front when a source uses
//!    it ([`chain_for`]);
//! 2. the chain runs in phase `start` until the description is known and every chunk
//!    has a usable peer;
//! 3. the download ([`crate::engine::download_with`]); when chunks are left without a
//!    usable holder (a peer died, a chunk is missing everywhere known), `refill` runs
//!    the chain again in phase `refill` while the download goes on;
//! 4. merge into `chunks/charlie/<filename>` and compare with `files/<filename>`.
//!
//! Every run of a source is reported ([`StepReport`]: what it found, the time, the
//! datagrams and connections it cost), in [`CharlieReport::discovery`].

mod chain;
mod refill;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

pub use chain::{chain_for, sources_of, step_sources, SourceKind};

use crate::chunks::{merge_into, same_contents};
use crate::discovery::{Chain, DhtOptions, FileRef, Phase, StepReport, Swarm};
use crate::engine::{download_with, DownloadReport, EngineOptions};
use crate::error::{CharlieError, ChunkError};
use crate::layout::{check_name, Layout};
use crate::tracker::DISCOVERY_PORT;
use refill::ChainRefill;

/// How Charlie runs.
#[derive(Debug, Clone)]
pub struct CharlieOptions {
    /// The course tree (config/, files/, chunks/).
    pub layout: Layout,
    /// The course's step: 1 config files, 2 tracker from peers.ini, 3 broadcast;
    /// 4 trackerless (DHT, metadata, PEX from a file id).
    pub step: u8,
    /// The sources to use, in order (`--discovery`); `None`: the step's.
    pub discovery: Option<Vec<SourceKind>>,
    /// The file by its id (`--magnet`, `--file-id`); without it, sources that use the
    /// id read `config/file.torrent` when present.
    pub file: Option<FileRef>,
    /// Charlie's DHT node.
    pub dht: DhtOptions,
    /// Time allowed for one BitTorrent visit (PEX, metadata).
    pub visit_wait: Duration,
    /// Step 3's destinations; empty: [`crate::discovery::default_broadcast_destinations`].
    pub broadcast: Vec<Ipv4Addr>,
    /// Step 3's UDP port.
    pub discovery_port: u16,
    /// How long step 3 collects TRACKER_INFO replies.
    pub discovery_wait: Duration,
    /// Step 3 tries trackers of this name first.
    pub tracker_name: String,
    /// Time allowed for the whole exchange with a tracker.
    pub tracker_timeout: Duration,
    /// How the download runs.
    pub engine: EngineOptions,
}

impl CharlieOptions {
    /// The defaults of the command line for `step` in `layout`.
    pub fn new(layout: Layout, step: u8) -> CharlieOptions {
        let dir = layout.chunk_dir("charlie");
        CharlieOptions {
            layout,
            step,
            discovery: None,
            file: None,
            dht: DhtOptions::new(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), Vec::new()),
            visit_wait: Duration::from_secs(3),
            broadcast: Vec::new(),
            discovery_port: DISCOVERY_PORT,
            discovery_wait: Duration::from_millis(500),
            tracker_name: "tracker".into(),
            tracker_timeout: Duration::from_secs(10),
            engine: EngineOptions::new(dir),
        }
    }
}

/// Everything a run did, printed by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct CharlieReport {
    /// The step run (also with `--discovery`: the step it was given, 0 for none).
    pub step: u8,
    /// The sources of the chain, in order.
    pub chain: Vec<String>,
    /// The file id, when known.
    pub file_id: Option<String>,
    /// One report per run of a source, in phase `start` then in each refill.
    pub discovery: Vec<StepReport>,
    /// The file's name.
    pub filename: String,
    /// What the download did.
    pub download: DownloadReport,
    /// The merged file.
    pub output: String,
    /// Whether the merged file equals `files/<filename>`; `None` when there is no such
    /// reference file (every chunk was verified by its SHA-1 all the same).
    pub identical: Option<bool>,
}

/// Runs Charlie: discovery, download, merge into `chunks/charlie/<filename>`, check.
pub async fn run(opts: &CharlieOptions) -> Result<CharlieReport, CharlieError> {
    let mut chain = chain_for(opts)?;
    let r = run_with_chain(opts, &mut chain).await;
    chain.close().await;
    r
}

/// [`run`] with any discovery chain (the caller closes it).
pub async fn run_with_chain(
    opts: &CharlieOptions,
    chain: &mut Chain,
) -> Result<CharlieReport, CharlieError> {
    let mut swarm = Swarm::default();
    let names: Vec<String> = chain.names().into_iter().map(str::to_owned).collect();
    let discovery = chain.run(&mut swarm, Phase::Start).await;
    let Some(manifest) = swarm.manifest.clone() else {
        return Err(CharlieError::NoManifest(discovery));
    };
    // The name comes from the network (FILE_INFO, a peer's info dictionary): check
    // it before any path is built.
    check_name(&manifest.filename).map_err(ChunkError::from)?;
    let (holders, presumed) = (swarm.live_holders(), swarm.live_file_peers());
    let mut refill = ChainRefill {
        chain,
        swarm: &mut swarm,
        reports: discovery,
    };
    let report = download_with(
        &manifest,
        &holders,
        &presumed,
        &opts.engine,
        Some(&mut refill),
    )
    .await;
    let discovery = refill.reports;
    let report = report.map_err(|e| CharlieError::Download {
        source: e,
        discovery: discovery.clone(),
    })?;
    let dir = &opts.engine.dir;
    let join_err = |e| ChunkError::Io {
        path: dir.clone(),
        source: std::io::Error::other(e),
    };
    let (d, name, chunks) = (
        dir.clone(),
        manifest.filename.clone(),
        manifest.chunks.clone(),
    );
    let output = tokio::task::spawn_blocking(move || merge_into(&d, &name, &chunks))
        .await
        .map_err(join_err)??;
    let reference = opts.layout.files_dir().join(&manifest.filename);
    let identical = if reference.is_file() {
        let (a, b) = (reference, output.clone());
        Some(
            tokio::task::spawn_blocking(move || same_contents(&a, &b))
                .await
                .map_err(join_err)??,
        )
    } else {
        None
    };
    Ok(CharlieReport {
        step: opts.step,
        chain: names,
        file_id: swarm.file_id.map(|id| id.to_hex()),
        discovery,
        filename: manifest.filename,
        download: report,
        output: output.display().to_string(),
        identical,
    })
}

#[cfg(test)]
mod tests;
