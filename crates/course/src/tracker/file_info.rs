//! The tracker's TCP side: FILE_INFO built from peers.ini and file.ini, merged with
//! the peers the DHT knows when the tracker runs with `--dht`.

use std::sync::Arc;

use swarmlab_course_wire::{error_message, ChunkRecord, ErrorCode, FileInfo, Message, MsgType};

use super::dht::DhtPeers;
use crate::config::{FileIni, PeersIni};
use crate::error::{ConfigError, FileInfoError};
use crate::layout::Layout;
use crate::server::Responder;

/// Builds the FILE_INFO the tracker sends: chunks in file order, each chunk's peers in
/// the order of file.ini's `chunks_peers`, names resolved through peers.ini. A name
/// peers.ini does not define is left out (and logged).
pub fn file_info(peers: &PeersIni, file: &FileIni) -> FileInfo {
    file_info_with(peers, file, None)
}

/// [`file_info`], then for each chunk the peers `dht` lists for it that are not
/// listed already (see [`super::dht`]).
pub fn file_info_with(peers: &PeersIni, file: &FileIni, dht: Option<&DhtPeers>) -> FileInfo {
    let chunks = file
        .chunks
        .iter()
        .zip(&file.chunk_peers)
        .enumerate()
        .map(|(index, (hash, names))| {
            let mut listed: Vec<_> = names
                .iter()
                .filter_map(|n| {
                    let a = peers.get(n);
                    if a.is_none() {
                        tracing::warn!(
                            "file.ini names peer {n:?}, which peers.ini does not define"
                        );
                    }
                    a
                })
                .collect();
            for p in dht
                .map(|d| d.for_chunk(&file.chunks, index))
                .unwrap_or_default()
            {
                if !listed.contains(&p) {
                    listed.push(p);
                }
            }
            ChunkRecord {
                hash: *hash,
                peers: listed,
            }
        })
        .collect();
    FileInfo {
        filename: file.filename.clone(),
        chunks,
    }
}

/// Answers GET_FILE_INFO. The configuration files are read again for every request,
/// so the tracker follows a new `chunks create` without a restart.
pub struct TrackerResponder {
    layout: Layout,
    dht: Option<Arc<DhtPeers>>,
}

impl TrackerResponder {
    /// Answers from the configuration files of `layout`.
    pub fn new(layout: Layout) -> TrackerResponder {
        TrackerResponder { layout, dht: None }
    }

    /// Answers from the configuration files of `layout`, merged with the peers of
    /// `dht`.
    pub fn with_dht(layout: Layout, dht: Arc<DhtPeers>) -> TrackerResponder {
        TrackerResponder {
            layout,
            dht: Some(dht),
        }
    }

    fn load(&self) -> Result<FileInfo, ConfigError> {
        let peers = PeersIni::load(&self.layout.peers_ini())?;
        let file = FileIni::load(&self.layout.file_ini())?;
        Ok(file_info_with(&peers, &file, self.dht.as_deref()))
    }
}

impl Responder for TrackerResponder {
    fn served(&self) -> MsgType {
        MsgType::GetFileInfo
    }

    fn respond(&self, _body: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let encoded = self
            .load()
            .map_err(FileInfoError::from)
            .and_then(|fi| Ok(Message::FileInfo(fi).encode_into(out)?));
        if let Err(e) = encoded {
            // No error code means "no file": INVALID_REQUEST is the closest.
            tracing::error!("cannot answer GET_FILE_INFO: {e}");
            out.clear();
            out.extend_from_slice(&error_message(ErrorCode::InvalidRequest));
        }
    }
}
