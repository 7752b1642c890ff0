//! Where a node joins: the public routers a real user's node starts from, and their
//! resolution, in a task of its own so that a slow or failing DNS never holds up the
//! node (it answers queries from the first instant), retried with backoff.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

/// The well-known public bootstrap routers of the Mainline DHT, for a node started with
/// no `--bootstrap` and no state file: BitTorrent's, uTorrent's, Transmission's and
/// libtorrent's. Tests never use them: each passes its own loopback bootstrap.
pub const PUBLIC_ROUTERS: [&str; 4] = [
    "router.bittorrent.com:6881",
    "router.utorrent.com:6881",
    "dht.transmissionbt.com:6881",
    "dht.libtorrent.org:25401",
];

/// A function that resolves a `host:port` name.
type ResolveFn = dyn Fn(String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> + Send + Sync;

/// How bootstrap names are resolved: the system's resolver ([`Resolver::system`], the
/// default), or a function given by a test.
#[derive(Clone)]
pub struct Resolver(Arc<ResolveFn>);

impl Resolver {
    /// The system's resolver (`tokio::net::lookup_host`).
    pub fn system() -> Resolver {
        Resolver::new(|name| {
            Box::pin(async move { Ok(tokio::net::lookup_host(name).await?.collect()) })
        })
    }

    /// Resolves `name`.
    pub(crate) fn resolve(&self, name: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        (self.0)(name)
    }

    /// A resolver of one's own (a test's: slow, failing, or fixed answers).
    pub fn new(
        f: impl Fn(String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> + Send + Sync + 'static,
    ) -> Resolver {
        Resolver(Arc::new(f))
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::system()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// The waits between two rounds of resolution of the names not resolved yet: `first`,
/// doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 1 s doubling up to 5 minutes.
    fn default() -> Self {
        Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

/// Starts resolving `names` in a task; each name's addresses come out of the channel
/// once it resolves. A name that fails is tried again after the backoff; the task ends
/// once every name has resolved or the receiver is dropped.
pub(crate) fn spawn(
    names: Vec<String>,
    resolver: Resolver,
    backoff: Backoff,
) -> (
    mpsc::UnboundedReceiver<Vec<SocketAddr>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut pending = names;
        let mut wait = backoff.first;
        loop {
            let mut left = Vec::new();
            for name in pending {
                match resolver.resolve(name.clone()).await {
                    Ok(addrs) if !addrs.is_empty() => {
                        if tx.send(addrs).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {
                        tracing::warn!("bootstrap {name}: no address");
                        left.push(name);
                    }
                    Err(e) => {
                        tracing::warn!("cannot resolve bootstrap {name}: {e}");
                        left.push(name);
                    }
                }
            }
            if left.is_empty() || tx.is_closed() {
                return;
            }
            pending = left;
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(backoff.max);
        }
    });
    (rx, task)
}
