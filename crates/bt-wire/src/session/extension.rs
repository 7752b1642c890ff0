//! The extension protocol (BEP 10): our handshake, built from [`super::ExtConfig`]
//! and sent as soon as both sides set the extension bit; the peer's, kept (a later
//! one replaces it); and the dispatch of extended messages to ut_pex and
//! ut_metadata by the ids we announced.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Event, Misbehaviour, Session};
use crate::error::SessionError;
use crate::ext::{ExtHandshake, HANDSHAKE_ID, LOCAL_UT_METADATA, LOCAL_UT_PEX};
use crate::wire::Message;

#[derive(Debug, Default)]
pub(super) struct ExtState {
    /// The peer's extension handshake.
    pub(super) peer: Option<ExtHandshake>,
}

impl Session {
    pub(super) fn send_ext_handshake(&mut self) {
        let e = &self.cfg.extensions;
        let mut m = BTreeMap::new();
        if e.ut_pex {
            m.insert("ut_pex".to_string(), LOCAL_UT_PEX);
        }
        if e.ut_metadata {
            m.insert("ut_metadata".to_string(), LOCAL_UT_METADATA);
        }
        let metadata_size = self
            .torrent
            .as_ref()
            .and_then(|t| t.metadata.as_ref())
            .filter(|_| e.ut_metadata)
            .map(|m| m.len() as u64);
        let h = ExtHandshake {
            m,
            v: e.client.clone(),
            p: e.listen_port,
            reqq: Some(self.cfg.limits.max_pending_requests as i64),
            yourip: e.yourip,
            metadata_size,
            upload_only: e.upload_only,
            m_dropped: 0,
        };
        self.send(&Message::Extended {
            id: HANDSHAKE_ID,
            payload: h.encode(),
        });
    }

    /// The peer's extension handshake, once it has arrived.
    pub fn peer_extensions(&self) -> Option<&ExtHandshake> {
        self.ext.peer.as_ref()
    }

    /// The id the peer wants for extension `name`, if it enabled it.
    pub(super) fn peer_ext_id(&self, name: &str) -> Option<u8> {
        self.ext.peer.as_ref().and_then(|h| h.id_of(name))
    }

    pub(super) fn on_extended(
        &mut self,
        now: Instant,
        id: u8,
        payload: &[u8],
    ) -> Result<(), SessionError> {
        if !self.extended {
            self.misbehaved(Misbehaviour::ExtensionNotNegotiated);
            return Ok(());
        }
        match id {
            HANDSHAKE_ID => match ExtHandshake::decode(payload) {
                Ok(h) => {
                    self.ext.peer = Some(h.clone());
                    self.event(Event::ExtHandshake(Box::new(h)));
                }
                Err(e) => self.misbehaved(Misbehaviour::BadExtHandshake(e)),
            },
            LOCAL_UT_PEX if self.cfg.extensions.ut_pex => self.on_pex(now, payload),
            LOCAL_UT_METADATA if self.cfg.extensions.ut_metadata => self.on_metadata(payload)?,
            _ => self.misbehaved(Misbehaviour::UnknownExtension(id)),
        }
        Ok(())
    }
}
