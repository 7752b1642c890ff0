//! The state file: our node id and the routing table, as JSON, so that a restarted node
//! answers lookups without its bootstrap nodes.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use swarmlab_dht::Node;
use swarmlab_krpc::Id;

use crate::DriverError;

/// The saved state: our id and the routing table.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    /// Format version (1).
    pub version: u32,
    /// Our node id, 40 hex digits.
    pub id: String,
    /// Every routing-table entry of every stack (IPv4 and IPv6).
    pub nodes: Vec<SavedNode>,
}

/// One routing-table entry of the state file.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedNode {
    /// The node's id, 40 hex digits.
    pub id: String,
    /// Its UDP address.
    pub addr: SocketAddr,
}

impl State {
    /// The state of these nodes (the first one's id; every table).
    pub(crate) fn of(nodes: &[&Node], now: Instant) -> State {
        State {
            version: 1,
            id: nodes.first().map(|n| n.id().to_hex()).unwrap_or_default(),
            nodes: nodes
                .iter()
                .flat_map(|node| node.nodes(now))
                .map(|n| SavedNode {
                    id: n.id.to_hex(),
                    addr: n.addr,
                })
                .collect(),
        }
    }

    /// Loads a state file; a missing file is `Ok(None)`.
    pub fn load(path: &Path) -> Result<Option<State>, DriverError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(DriverError::StateRead {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let s: State = serde_json::from_str(&text).map_err(|source| DriverError::StateParse {
            path: path.to_owned(),
            source,
        })?;
        if Id::from_hex(&s.id).is_none() {
            return Err(DriverError::StateId {
                path: path.to_owned(),
            });
        }
        Ok(Some(s))
    }

    /// Writes the state to `FILE.tmp`, fsyncs it, renames it over `FILE` and fsyncs the
    /// directory: after a crash the file is the old state or the new one, never a
    /// truncated one.
    pub fn save(&self, path: &Path) -> Result<(), DriverError> {
        let fail = |source| DriverError::StateWrite {
            path: path.to_owned(),
            source,
        };
        let text = serde_json::to_vec_pretty(self).map_err(|e| fail(io::Error::other(e)))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(fail)?;
        f.write_all(&text).map_err(fail)?;
        f.sync_all().map_err(fail)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(fail)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // A directory opened read-only can be fsynced on Unix (it makes the rename
        // durable); elsewhere opening it may fail, which only costs that guarantee.
        if let Ok(d) = File::open(dir) {
            d.sync_all().map_err(fail)?;
        }
        Ok(())
    }
}
