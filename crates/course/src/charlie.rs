//! Charlie, the client: discovery (steps 1, 2, 3), download, merge and check.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Serialize;

use crate::chunks::{merge_into, same_contents};
use crate::discovery::{
    BroadcastSource, Chain, ConfigSource, Cost, Phase, StepReport, Swarm, TrackerSource,
};
use crate::engine::{download, DownloadReport, EngineOptions};
use crate::error::{CharlieError, ChunkError};
use crate::layout::{check_name, Layout};
use crate::tracker::DISCOVERY_PORT;

/// How Charlie runs.
#[derive(Debug, Clone)]
pub struct CharlieOptions {
    /// The course tree (config/, files/, chunks/).
    pub layout: Layout,
    /// The course's step: 1 config files, 2 tracker from peers.ini, 3 broadcast.
    pub step: u8,
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
    /// The step run.
    pub step: u8,
    /// One report per source asked.
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

/// The discovery chain of a step.
pub fn chain_for_step(opts: &CharlieOptions) -> Result<Chain, CharlieError> {
    Ok(Chain::new(match opts.step {
        1 => vec![Box::new(ConfigSource {
            layout: opts.layout.clone(),
        })],
        2 => vec![Box::new(TrackerSource::new(
            opts.layout.clone(),
            opts.tracker_timeout,
        ))],
        3 => vec![Box::new(BroadcastSource {
            destinations: if opts.broadcast.is_empty() {
                crate::discovery::default_broadcast_destinations()
            } else {
                opts.broadcast.clone()
            },
            port: opts.discovery_port,
            wait: opts.discovery_wait,
            preferred_name: opts.tracker_name.clone(),
            timeout: opts.tracker_timeout,
            cost: Cost::default(),
        })],
        s => return Err(CharlieError::Step(s)),
    }))
}

/// Runs one step: discovery, download, merge into `chunks/charlie/<filename>`, check.
pub async fn run(opts: &CharlieOptions) -> Result<CharlieReport, CharlieError> {
    let mut chain = chain_for_step(opts)?;
    run_with_chain(opts, &mut chain).await
}

/// [`run`] with any discovery chain.
pub async fn run_with_chain(
    opts: &CharlieOptions,
    chain: &mut Chain,
) -> Result<CharlieReport, CharlieError> {
    let mut swarm = Swarm::default();
    let discovery = chain.run(&mut swarm, Phase::Start).await;
    let Some(manifest) = swarm.manifest.clone() else {
        return Err(CharlieError::NoManifest(discovery));
    };
    // The name comes from the network (FILE_INFO): check it before any path is built.
    check_name(&manifest.filename).map_err(ChunkError::from)?;
    let report = download(&manifest, &swarm.live_holders(), &opts.engine).await?;
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
        discovery,
        filename: manifest.filename,
        download: report,
        output: output.display().to_string(),
        identical,
    })
}
