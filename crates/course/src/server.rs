//! The request loop shared by the course's TCP servers (peers and the tracker).
//!
//! Every request type of the course has a fixed length, so a server decides its reply
//! from the 8-byte header alone ([`Header::classify_request`]) and never buffers a
//! body it will not use: the body of an invalid message is discarded as it arrives.
//! The connection stays open after an ERROR, as deployed servers keep it.
//!
//! A second protocol may share the port ([`Alternate`], [`serve_with`]): the first
//! byte of a connection tells them apart. It is peeked, not read, so the protocol
//! that takes the connection reads it from its first byte. Every course message
//! starts with version 1; a BitTorrent handshake starts with 19 (the peers' BitTorrent
//! mode). Anything else goes to the course loop, which answers it as it always has.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use swarmlab_course_wire::{
    error_message, ErrorCode, Header, MsgType, DEFAULT_MAX_MESSAGE, HEADER_LEN,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// Bounds on what one client may cost a server.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// A connection with no complete message for this long is closed.
    pub idle_timeout: Duration,
    /// An invalid message announcing a body longer than this gets its ERROR and then
    /// the connection is closed instead of reading the body to skip it.
    pub max_skip: u64,
    /// Connections served at once; more are accepted and closed at once.
    pub max_conns: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            idle_timeout: Duration::from_secs(120),
            max_skip: DEFAULT_MAX_MESSAGE as u64,
            max_conns: 4096,
        }
    }
}

/// Counters of one server, readable while it runs.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections accepted and served.
    pub connections: AtomicU64,
    /// Connections accepted and closed at once (over `max_conns`).
    pub refused_connections: AtomicU64,
    /// Requests (TCP messages or UDP datagrams) received.
    pub requests: AtomicU64,
    /// Replies other than ERROR sent.
    pub replies_ok: AtomicU64,
    /// Bytes of replies written (TCP).
    pub bytes_sent: AtomicU64,
    /// ERROR replies sent, per code 0, 1 and 2 (other codes count as 2).
    pub errors_sent: [AtomicU64; 3],
    /// Connections handed to the [`Alternate`] protocol (counted in `connections` too).
    pub alternate_connections: AtomicU64,
}

impl ServerStats {
    fn count_error(&self, code: ErrorCode) {
        let i = (code.to_u16() as usize).min(2);
        self.errors_sent[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an encoded ERROR reply.
    pub fn count_error_bytes(&self, reply: &[u8]) {
        if let Some(c) = reply.get(8..10) {
            self.count_error(ErrorCode::from_u16(u16::from_be_bytes([c[0], c[1]])));
        }
    }

    /// ERROR replies sent with `code`.
    pub fn errors(&self, code: ErrorCode) -> u64 {
        self.errors_sent[(code.to_u16() as usize).min(2)].load(Ordering::Relaxed)
    }
}

/// What a server does with a valid request.
pub trait Responder: Send + Sync + 'static {
    /// The one request type this server serves.
    fn served(&self) -> MsgType;
    /// Builds the whole reply to a valid request (its `body`) into `out`, replacing
    /// what `out` held. It runs on the connection's task: it may block only briefly
    /// (a chunk read from the page cache), and must use `block_in_place`-style
    /// guarding for anything longer (see `PeerResponder`).
    fn respond(&self, body: &[u8], out: &mut Vec<u8>);
}

/// A second protocol on a course server's port, told apart by a connection's first
/// byte (see the [module documentation](self)).
pub trait Alternate: Send + Sync + 'static {
    /// True when a connection whose first byte is `first` speaks this protocol. It
    /// must never claim 1, the version byte of every course message.
    fn claims(&self, first: u8) -> bool;
    /// Serves such a connection to its end; nothing has been read from it.
    fn serve(&self, stream: TcpStream) -> BoxFuture<'static, ()>;
}

/// Accepts connections on `listener` and serves each with `responder` until the task
/// is dropped.
pub async fn serve<R: Responder>(
    listener: TcpListener,
    responder: Arc<R>,
    limits: ServerLimits,
    stats: Arc<ServerStats>,
) -> io::Result<()> {
    serve_with(listener, responder, None, limits, stats).await
}

/// [`serve`], with connections whose first byte `alternate` claims handed to it.
/// `max_conns` bounds the connections of both protocols together.
pub async fn serve_with<R: Responder>(
    listener: TcpListener,
    responder: Arc<R>,
    alternate: Option<Arc<dyn Alternate>>,
    limits: ServerLimits,
    stats: Arc<ServerStats>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_conns));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: wait a little rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            stats.refused_connections.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, "too many connections ({}): closing", limits.max_conns);
            continue;
        };
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let (responder, limits, stats) = (responder.clone(), limits.clone(), stats.clone());
        let alternate = alternate.clone();
        tokio::spawn(async move {
            let stream = match alternate {
                Some(alt) => match dispatch(stream, peer, alt.as_ref(), &limits, &stats).await {
                    Some(s) => s,
                    None => return drop(permit),
                },
                None => stream,
            };
            if let Err(e) = connection(stream, peer, responder, &limits, &stats).await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(permit);
        });
    }
}

/// Peeks at the first byte: the stream back for the course loop, or `None` once the
/// alternate protocol has served it (or it closed or idled before its first byte).
async fn dispatch(
    stream: TcpStream,
    peer: SocketAddr,
    alt: &dyn Alternate,
    limits: &ServerLimits,
    stats: &ServerStats,
) -> Option<TcpStream> {
    let mut first = [0u8; 1];
    match timeout(limits.idle_timeout, stream.peek(&mut first)).await {
        Err(_) => {
            tracing::debug!(%peer, "idle for {:?}: closing", limits.idle_timeout);
            None
        }
        Ok(Ok(0)) => None,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "connection ended: {e}");
            None
        }
        Ok(Ok(_)) if alt.claims(first[0]) => {
            stats.alternate_connections.fetch_add(1, Ordering::Relaxed);
            alt.serve(stream).await;
            None
        }
        Ok(Ok(_)) => Some(stream),
    }
}

async fn connection<R: Responder>(
    stream: TcpStream,
    peer: SocketAddr,
    responder: Arc<R>,
    limits: &ServerLimits,
    stats: &ServerStats,
) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::with_capacity(4096, rd);
    let mut out = Vec::new();
    let idle = limits.idle_timeout;
    loop {
        let mut head = [0u8; HEADER_LEN];
        match timeout(idle, rd.read_exact(&mut head)).await {
            Err(_) => {
                tracing::debug!(%peer, "idle for {idle:?}: closing");
                return Ok(());
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(r) => r?,
        };
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let header = Header::parse(&head);
        match header.classify_request(responder.served()) {
            Ok(()) => {
                let mut body = [0u8; 64];
                let body = &mut body[..header.body_len() as usize];
                timeout(idle, rd.read_exact(body)).await.map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "request body timed out")
                })??;
                // Inline: a chunk read from the page cache takes tens of microseconds,
                // and handing every request to a blocking thread cost about a fifth of
                // the 1 GiB benchmark's throughput. Long reads guard themselves (peer.rs).
                responder.respond(body, &mut out);
                if out.get(1) != Some(&(MsgType::Error as u8)) {
                    stats.replies_ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    stats.count_error_bytes(&out);
                }
                wr.write_all(&out).await?;
                stats
                    .bytes_sent
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                if out.capacity() > 1 << 20 && out.len() < out.capacity() / 4 {
                    out = Vec::new();
                }
            }
            Err(code) => {
                tracing::debug!(%peer, ?header, "invalid request: {code}");
                stats.count_error(code);
                wr.write_all(&error_message(code)).await?;
                if header.words < 2 {
                    continue; // only the header can be consumed
                }
                let skip = header.body_len();
                if skip > limits.max_skip {
                    tracing::debug!(%peer, "message of {skip} bytes announced: closing");
                    return Ok(());
                }
                let mut sink = tokio::io::sink();
                let copied = timeout(idle, tokio::io::copy(&mut (&mut rd).take(skip), &mut sink))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "skipping timed out"))??;
                if copied < skip {
                    return Ok(()); // closed while we skipped
                }
            }
        }
    }
}
