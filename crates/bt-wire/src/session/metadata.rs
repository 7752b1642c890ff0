//! ut_metadata (BEP 9), both ways.
//!
//! Fetching: [`Session::request_metadata`] asks for every piece of the peer's
//! `metadata_size` at once; the pieces are checked as they arrive (index, size,
//! `total_size`) and the whole is checked against the info-hash before it comes out
//! as [`Event::Metadata`]. A bad piece or a wrong hash ends the session.
//!
//! Serving: from the info-dictionary bytes the driver gave in [`super::Torrent`].
//! A request out of range, over the per-session limit (twice the pieces, plus
//! four), or while the output buffer is full gets a reject.

use super::{Event, Misbehaviour, Session};
use crate::error::{CommandError, SessionError};
use crate::ext::{MetadataAssembler, MetadataMsg, METADATA_PIECE};
use crate::wire::Message;

#[derive(Debug, Default)]
pub(super) struct MetadataState {
    fetch: Option<MetadataAssembler>,
    served: u32,
}

impl Session {
    /// Ask the peer for the info dictionary (every piece at once). Needs the peer's
    /// ut_metadata and `metadata_size`; returns the number of pieces requested.
    pub fn request_metadata(&mut self) -> Result<u32, CommandError> {
        self.ready()?;
        let unsupported = CommandError::Unsupported("ut_metadata (BEP 9)");
        if !self.extended || !self.cfg.extensions.ut_metadata {
            return Err(unsupported);
        }
        let id = self.peer_ext_id("ut_metadata").ok_or(unsupported)?;
        let size = self
            .ext
            .peer
            .as_ref()
            .and_then(|h| h.metadata_size)
            .ok_or(CommandError::NoMetadata)?;
        if self.meta.fetch.is_some() {
            return Err(CommandError::NoMetadata);
        }
        let asm = MetadataAssembler::new(size);
        let n = asm.num_pieces();
        // A request is at most 49 bytes on the wire.
        self.out.reserve(n as usize * 49)?;
        for piece in 0..n {
            self.send(&Message::Extended {
                id,
                payload: MetadataMsg::Request { piece }.encode(),
            });
        }
        self.meta.fetch = Some(asm);
        Ok(n)
    }

    /// Abandon a metadata fetch (the info dictionary came from elsewhere); pieces
    /// still on their way are dropped.
    pub fn cancel_metadata(&mut self) {
        self.meta.fetch = None;
    }

    /// A metadata fetch is running.
    pub fn fetching_metadata(&self) -> bool {
        self.meta.fetch.is_some()
    }

    pub(super) fn on_metadata(&mut self, payload: &[u8]) -> Result<(), SessionError> {
        let msg = match MetadataMsg::decode(payload) {
            Ok(m) => m,
            Err(error) => {
                self.misbehaved(Misbehaviour::BadExtensionMessage {
                    extension: "ut_metadata",
                    error,
                });
                return Ok(());
            }
        };
        match msg {
            MetadataMsg::Request { piece } => self.serve_metadata(piece),
            MetadataMsg::Reject { piece } => {
                if self.meta.fetch.take().is_some() {
                    self.event(Event::MetadataRejected(piece));
                }
            }
            MetadataMsg::Data {
                piece,
                total_size,
                data,
            } => {
                let Some(asm) = self.meta.fetch.as_mut() else {
                    self.misbehaved(Misbehaviour::UnrequestedMetadata(piece));
                    return Ok(());
                };
                asm.add(piece, total_size, &data)?;
                if asm.is_complete() {
                    if let (Some(asm), Some(t)) = (self.meta.fetch.take(), &self.torrent) {
                        let raw = asm.finish(&t.info_hash)?;
                        self.event(Event::Metadata(raw));
                    }
                }
            }
        }
        Ok(())
    }

    fn serve_metadata(&mut self, piece: u32) {
        // Without the peer's id for ut_metadata there is no way to answer.
        let Some(id) = self.peer_ext_id("ut_metadata") else {
            return;
        };
        let meta = self.torrent.as_ref().and_then(|t| t.metadata.clone());
        let reply = match meta {
            Some(m) => {
                let pieces = m.len().div_ceil(METADATA_PIECE) as u32;
                if piece >= pieces {
                    self.misbehaved(Misbehaviour::MetadataOutOfRange(piece));
                    MetadataMsg::Reject { piece }
                } else if self.meta.served >= pieces.saturating_mul(2).saturating_add(4) {
                    self.misbehaved(Misbehaviour::MetadataServeLimit(piece));
                    MetadataMsg::Reject { piece }
                } else if self.out.is_high() {
                    MetadataMsg::Reject { piece }
                } else {
                    self.meta.served += 1;
                    self.stats.metadata_served += 1;
                    let start = piece as usize * METADATA_PIECE;
                    let end = (start + METADATA_PIECE).min(m.len());
                    MetadataMsg::Data {
                        piece,
                        total_size: m.len() as u64,
                        data: m[start..end].to_vec(),
                    }
                }
            }
            None => MetadataMsg::Reject { piece },
        };
        if matches!(reply, MetadataMsg::Reject { .. }) {
            self.stats.metadata_rejected += 1;
        }
        self.send(&Message::Extended {
            id,
            payload: reply.encode(),
        });
    }
}
