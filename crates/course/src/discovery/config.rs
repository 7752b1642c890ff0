//! Step 1's source: `config/file.ini` and `config/peers.ini`.

use futures::future::BoxFuture;

use crate::config::{FileIni, PeersIni};
use crate::discovery::{Found, PeerSource, Query};
use crate::error::DiscoveryError;
use crate::layout::Layout;

/// Step 1: the description and the peers from the configuration files, read again at
/// every call (so a refill sees an edited file.ini).
pub struct ConfigSource {
    /// Where the configuration files are.
    pub layout: Layout,
}

impl PeerSource for ConfigSource {
    fn name(&self) -> &str {
        "config"
    }

    fn discover<'a>(&'a mut self, _q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let peers = PeersIni::load(&self.layout.peers_ini())?;
            let file = FileIni::load(&self.layout.file_ini())?;
            let fi = crate::tracker::file_info(&peers, &file);
            let detail = format!(
                "{} chunks of {} from config/file.ini",
                fi.chunks.len(),
                fi.filename
            );
            Ok(Found::from_file_info(fi, detail))
        })
    }
}
