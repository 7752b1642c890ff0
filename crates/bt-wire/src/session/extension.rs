//! The extension protocol (BEP 10): our handshake, built from [`super::ExtConfig`]
//! and sent as soon as both sides set the extension bit; the peer's, kept (a later
//! one replaces it); and the dispatch of extended messages to ut_pex and
//! ut_metadata by the ids we announced, and of the driver's own extensions
//! ([`super::ExtConfig::extra`], sent with [`Session::send_extension`], received
//! as [`Event::Extension`]).

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Event, Misbehaviour, Session};
use crate::error::{CommandError, SessionError};
use crate::ext::{
    ExtHandshake, HANDSHAKE_ID, LOCAL_EXTRA_FIRST, LOCAL_UT_METADATA, LOCAL_UT_PEX,
    MAX_EXTRA_EXTENSIONS,
};
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
        for (id, name) in extra_ids(&e.extra) {
            m.insert(name.to_string(), id);
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

    /// Send `payload` under one of our [`super::ExtConfig::extra`] extensions, with
    /// the id the peer's extension handshake gave it. Refused when `name` is not
    /// ours, the peer did not offer it, the message would exceed
    /// [`super::Limits::max_message`], or the output buffer is full.
    pub fn send_extension(&mut self, name: &str, payload: &[u8]) -> Result<(), CommandError> {
        self.ready()?;
        if !extra_ids(&self.cfg.extensions.extra).any(|(_, n)| n == name) {
            return Err(CommandError::ExtensionNotOurs(name.to_string()));
        }
        let id = self
            .peer_ext_id(name)
            .filter(|_| self.extended)
            .ok_or_else(|| CommandError::ExtensionNotOffered(name.to_string()))?;
        // The length prefix counts the message id and the extended id.
        let len = payload.len() + 2;
        if len > self.cfg.limits.max_message as usize {
            return Err(CommandError::MessageTooLarge(len));
        }
        self.out.reserve(len + 4)?;
        self.send(&Message::Extended {
            id,
            payload: payload.to_vec(),
        });
        Ok(())
    }

    /// Whether the peer's extension handshake offered `name`.
    pub fn peer_offers(&self, name: &str) -> bool {
        self.extended && self.peer_ext_id(name).is_some()
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
            _ => {
                let name = extra_ids(&self.cfg.extensions.extra)
                    .find(|&(i, _)| i == id)
                    .map(|(_, n)| n.to_string());
                match name {
                    Some(name) => self.event(Event::Extension {
                        name,
                        payload: payload.to_vec(),
                    }),
                    None => self.misbehaved(Misbehaviour::UnknownExtension(id)),
                }
            }
        }
        Ok(())
    }
}

/// Our local ids for the driver's extensions: from [`LOCAL_EXTRA_FIRST`] on, in
/// order, skipping the session's own names, at most [`MAX_EXTRA_EXTENSIONS`].
fn extra_ids(extra: &[String]) -> impl Iterator<Item = (u8, &str)> {
    extra
        .iter()
        .map(String::as_str)
        .filter(|n| *n != "ut_pex" && *n != "ut_metadata")
        .take(MAX_EXTRA_EXTENSIONS)
        .zip(LOCAL_EXTRA_FIRST..=u8::MAX)
        .map(|(n, id)| (id, n))
}
