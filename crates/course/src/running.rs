//! The course's roles as tasks of this process (the demo and tests run them so).

use std::net::{SocketAddr, SocketAddrV4};
use std::sync::Arc;

use swarmlab_course_wire::TrackerInfo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::layout::Layout;
use crate::peer::PeerResponder;
use crate::server::{self, Responder, ServerLimits, ServerStats};
use crate::tracker::{self, TrackerResponder};

/// A role running as a task of this process; stopped when dropped.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its counters.
    pub stats: Arc<ServerStats>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a TCP server answering with `responder` on an already bound listener.
pub fn start_server<R: Responder>(
    listener: TcpListener,
    responder: R,
    limits: ServerLimits,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let stats = Arc::new(ServerStats::default());
    let task = tokio::spawn(server::serve(
        listener,
        Arc::new(responder),
        limits,
        stats.clone(),
    ));
    Ok(Running { addr, stats, task })
}

/// Starts a peer serving `chunks/<name>/` on an already bound listener.
pub fn start_peer(
    layout: &Layout,
    name: &str,
    listener: TcpListener,
    limits: ServerLimits,
) -> std::io::Result<Running> {
    start_server(listener, PeerResponder::new(layout.chunk_dir(name)), limits)
}

/// Starts the tracker's TCP side on an already bound listener.
pub fn start_tracker(
    layout: &Layout,
    listener: TcpListener,
    limits: ServerLimits,
) -> std::io::Result<Running> {
    start_server(listener, TrackerResponder::new(layout.clone()), limits)
}

/// Starts the tracker's discovery side on `bind` (normally 0.0.0.0:9000).
pub fn start_discovery(bind: SocketAddrV4, info: TrackerInfo) -> std::io::Result<Running> {
    let sock = tracker::bind_discovery(bind)?;
    let addr = sock.local_addr()?;
    let stats = Arc::new(ServerStats::default());
    let task = tokio::spawn(tracker::serve_discovery(sock, info, stats.clone()));
    Ok(Running { addr, stats, task })
}
