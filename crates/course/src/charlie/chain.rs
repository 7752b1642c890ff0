//! Which discovery chain a run of Charlie uses: a step's, or the one `--discovery`
//! names, with what is known before any network (the file id) in front.

use std::fmt;
use std::str::FromStr;

use crate::charlie::CharlieOptions;
use crate::discovery::{
    default_broadcast_destinations, BroadcastSource, Chain, ConfigSource, Cost, DhtSource,
    IdentitySource, MetadataSource, PeerSource, PexSource, TrackerSource,
};
use crate::error::{CharlieError, DiscoveryError, UnknownSource};
use crate::torrent::CourseTorrent;

/// One step of a discovery chain, as `--discovery` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// `config`: config/file.ini and config/peers.ini (step 1).
    Config,
    /// `tracker`: the tracker of config/peers.ini (step 2).
    Tracker,
    /// `broadcast`: DISCOVER_TRACKER, then the trackers that answer (step 3).
    Broadcast,
    /// `dht`: lookups of the file id and of lacking chunks' hashes.
    Dht,
    /// `metadata`: the info dictionary from a peer (BEP 9).
    Metadata,
    /// `pex`: peer exchange with the known peers (BEP 11).
    Pex,
}

impl SourceKind {
    /// Every kind, in the order of the full chain.
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Config,
        SourceKind::Tracker,
        SourceKind::Broadcast,
        SourceKind::Dht,
        SourceKind::Metadata,
        SourceKind::Pex,
    ];

    /// The name `--discovery` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Config => "config",
            SourceKind::Tracker => "tracker",
            SourceKind::Broadcast => "broadcast",
            SourceKind::Dht => "dht",
            SourceKind::Metadata => "metadata",
            SourceKind::Pex => "pex",
        }
    }

    /// True for the sources that need the file id or use it.
    pub fn uses_file_id(self) -> bool {
        matches!(
            self,
            SourceKind::Dht | SourceKind::Metadata | SourceKind::Pex
        )
    }

    /// Parses a comma-separated list (`tracker,broadcast,dht,pex`).
    pub fn parse_list(text: &str) -> Result<Vec<SourceKind>, UnknownSource> {
        let mut out = Vec::new();
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let k: SourceKind = name.parse()?;
            if !out.contains(&k) {
                out.push(k);
            }
        }
        Ok(out)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = UnknownSource;
    fn from_str(s: &str) -> Result<SourceKind, UnknownSource> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownSource(s.to_owned()))
    }
}

/// The chain of step `step` when `--discovery` is not given: 1 `config`, 2 `tracker`,
/// 3 `broadcast`, 4 (trackerless) `dht,metadata,pex`.
pub fn step_sources(step: u8) -> Result<Vec<SourceKind>, CharlieError> {
    Ok(match step {
        1 => vec![SourceKind::Config],
        2 => vec![SourceKind::Tracker],
        3 => vec![SourceKind::Broadcast],
        4 => vec![SourceKind::Dht, SourceKind::Metadata, SourceKind::Pex],
        s => return Err(CharlieError::Step(s)),
    })
}

/// The sources a run uses, in order: `opts.discovery`, or the step's; `metadata`
/// inserted right after `dht` when the list has `dht` but not `metadata` (it does
/// nothing once the description is known).
pub fn sources_of(opts: &CharlieOptions) -> Result<Vec<SourceKind>, CharlieError> {
    let mut kinds = match &opts.discovery {
        Some(k) => k.clone(),
        None => step_sources(opts.step)?,
    };
    if !kinds.contains(&SourceKind::Metadata) {
        if let Some(at) = kinds.iter().position(|k| *k == SourceKind::Dht) {
            kinds.insert(at + 1, SourceKind::Metadata);
        }
    }
    Ok(kinds)
}

/// The discovery chain of a run (see [`sources_of`]). When a source uses the file id,
/// what is known before any network comes first: `--magnet` or `--file-id`, else
/// `config/file.torrent` when present. Steps 1, 2 and 3 are exactly the course's.
pub fn chain_for(opts: &CharlieOptions) -> Result<Chain, CharlieError> {
    let kinds = sources_of(opts)?;
    let mut sources: Vec<Box<dyn PeerSource>> = Vec::new();
    if kinds.iter().any(|k| k.uses_file_id()) {
        match &opts.file {
            Some(r) => sources.push(Box::new(IdentitySource::from_ref(r))),
            None => {
                if opts.layout.file_torrent().exists() {
                    let t = CourseTorrent::load(&opts.layout).map_err(DiscoveryError::from)?;
                    sources.push(Box::new(IdentitySource::from_torrent(&t)));
                } else if opts.step == 4 {
                    return Err(CharlieError::NoFileId);
                }
            }
        }
    }
    for k in kinds {
        sources.push(source(opts, k));
    }
    Ok(Chain::new(sources))
}

fn source(opts: &CharlieOptions, kind: SourceKind) -> Box<dyn PeerSource> {
    match kind {
        SourceKind::Config => Box::new(ConfigSource {
            layout: opts.layout.clone(),
        }),
        SourceKind::Tracker => Box::new(TrackerSource::new(
            opts.layout.clone(),
            opts.tracker_timeout,
        )),
        SourceKind::Broadcast => Box::new(BroadcastSource {
            destinations: if opts.broadcast.is_empty() {
                default_broadcast_destinations()
            } else {
                opts.broadcast.clone()
            },
            port: opts.discovery_port,
            wait: opts.discovery_wait,
            preferred_name: opts.tracker_name.clone(),
            timeout: opts.tracker_timeout,
            cost: Cost::default(),
        }),
        SourceKind::Dht => Box::new(DhtSource::new(opts.dht.clone())),
        SourceKind::Metadata => Box::new(MetadataSource::new(opts.visit_wait)),
        SourceKind::Pex => Box::new(PexSource::new(opts.visit_wait)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;

    #[test]
    fn lists_parse_and_metadata_follows_dht() {
        use SourceKind::*;
        assert_eq!(
            SourceKind::parse_list("tracker, broadcast,dht,pex,dht").unwrap(),
            [Tracker, Broadcast, Dht, Pex]
        );
        assert!(SourceKind::parse_list("tracker,carrier-pigeon").is_err());
        let mut o = CharlieOptions::new(Layout::new("/nonexistent"), 2);
        assert_eq!(sources_of(&o).unwrap(), [Tracker]);
        o.discovery = Some(vec![Tracker, Broadcast, Dht, Pex]);
        assert_eq!(
            sources_of(&o).unwrap(),
            [Tracker, Broadcast, Dht, Metadata, Pex]
        );
        o.discovery = None;
        o.step = 4;
        assert_eq!(sources_of(&o).unwrap(), [Dht, Metadata, Pex]);
        // Trackerless without any file id: refused before any network.
        assert!(matches!(chain_for(&o), Err(CharlieError::NoFileId)));
        o.step = 5;
        assert!(matches!(sources_of(&o), Err(CharlieError::Step(5))));
    }
}
