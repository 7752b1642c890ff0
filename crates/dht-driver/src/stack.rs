//! Socket I/O of one stack (a socket and the node that owns it): datagrams in, in
//! batches of [`mmsg::BATCH`](crate::mmsg) on Linux, handed to the node; everything the
//! node queued sent out, in batches too.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmlab_dht::routing::RoutingTable;
use swarmlab_dht::{Node, Transmit};
use tokio::io::Interest;
use tokio::net::UdpSocket;

#[cfg(target_os = "linux")]
use crate::mmsg;

/// Receive buffer of one datagram: 2 KiB, above the node's
/// [`MAX_DATAGRAM_IN`](swarmlab_dht::MAX_DATAGRAM_IN) (1,500 bytes) so that every
/// datagram the node must refuse reaches it longer than the cap: a datagram longer than
/// the buffer is truncated to 2 KiB, still over the cap, and counted as oversized.
pub const RECV_BUF: usize = 2048;

/// One socket and the node that owns it: the IPv4 stack, and the IPv6 one when bound.
pub(crate) struct Stack {
    pub(crate) socket: UdpSocket,
    pub(crate) node: Node,
    pub(crate) rx: RxState,
}

impl Stack {
    /// When the node wants [`Node::handle_timeout`].
    pub(crate) fn wake(&self) -> tokio::time::Instant {
        self.node
            .poll_timeout()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(1))
    }

    /// True when `a` is of this socket's address family.
    pub(crate) fn serves(&self, a: &SocketAddr) -> bool {
        self.socket
            .local_addr()
            .is_ok_and(|l| l.is_ipv4() == a.is_ipv4())
    }
}

/// Receive buffers: one batch of `mmsg::BATCH` (16) datagrams of [`RECV_BUF`] bytes,
/// 32 KiB per node, of which only the pages datagrams land in become resident.
pub(crate) struct RxState {
    #[cfg(target_os = "linux")]
    batch: mmsg::RecvBatch,
    #[cfg(not(target_os = "linux"))]
    buf: Vec<u8>,
}

impl RxState {
    pub(crate) fn new() -> RxState {
        RxState {
            #[cfg(target_os = "linux")]
            batch: mmsg::RecvBatch::new(RECV_BUF),
            #[cfg(not(target_os = "linux"))]
            buf: vec![0u8; RECV_BUF],
        }
    }
}

/// Reads what is waiting (in batches on Linux), hands it to the node (with the other
/// family's table, when there is one, for `want`), and sends the replies, a bounded
/// number of rounds (64) before returning to the event loop.
pub(crate) async fn receive(st: &mut Stack, other: Option<&RoutingTable>) {
    let Stack { socket, node, rx } = st;
    for _ in 0..64 {
        let now = Instant::now();
        #[cfg(target_os = "linux")]
        let got = {
            use std::os::fd::AsRawFd;
            let fd = socket.as_raw_fd();
            match socket.try_io(Interest::READABLE, || rx.batch.recv(fd)) {
                Ok(n) => {
                    for i in 0..n {
                        if let Some((from, data)) = rx.batch.get(i) {
                            node.handle_with(now, from, data, other);
                        }
                    }
                    n
                }
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        tracing::debug!("recv: {e}");
                    }
                    0
                }
            }
        };
        #[cfg(not(target_os = "linux"))]
        let got = match socket.try_recv_from(&mut rx.buf) {
            Ok((n, from)) => {
                node.handle_with(now, from, &rx.buf[..n], other);
                1
            }
            Err(_) => 0,
        };
        flush(socket, node).await;
        if got == 0 {
            return;
        }
    }
}

/// Sends everything the node queued: in `sendmmsg` batches on Linux, then, for what the
/// socket buffer did not take, one awaited send at a time.
pub(crate) async fn flush(socket: &UdpSocket, node: &mut Node) {
    let mut out: Vec<Transmit> = Vec::new();
    while let Some(t) = node.poll_transmit() {
        out.push(t);
    }
    if out.is_empty() {
        return;
    }
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        let msgs: Vec<(SocketAddr, &[u8])> =
            out.iter().map(|t| (t.to, t.payload.as_slice())).collect();
        match socket.try_io(Interest::WRITABLE, || mmsg::send_batch(fd, &msgs)) {
            Ok(n) => done = n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                // One bad destination fails the whole call: fall back to single sends.
                tracing::debug!("sendmmsg: {e}");
            }
        }
    }
    for t in &out[done..] {
        match socket.try_send_to(&t.payload, t.to) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = socket.send_to(&t.payload, t.to).await {
                    tracing::debug!("send to {}: {e}", t.to);
                }
            }
            Err(e) => tracing::debug!("send to {}: {e}", t.to),
        }
    }
}
