//! One peer connection on tokio: a `TcpStream` and the
//! [`Session`] it carries.
//!
//! The caller loops on [`Connection::next_event`] (or
//! [`Connection::next_event_until`], which also returns at a deadline of the
//! caller's) and answers events with the session's commands through
//! [`Connection::session_mut`]; the next call writes what the commands queued.
//! Inside, one call:
//!
//! 1. returns a queued event, if there is one;
//! 2. else returns the error that ended the connection (once; later calls get
//!    [`ConnectionError::Ended`]);
//! 3. else waits for the first of: the socket writable (when the session gave bytes),
//!    readable (only while [`Session::wants_read`] and little is left to write: the
//!    back-pressure), the session's timeout, the caller's deadline; handles it; and
//!    goes back to 1.
//!
//! Times given to the session come from tokio's clock, so tests with a paused clock
//! drive the session's timers too.

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_bt_wire::session::{Event, Session, SessionConfig, Torrent};
use swarmlab_bt_wire::CommandError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::error::ConnectionError;

/// Bytes read from the socket at a time.
pub const READ_BUFFER: usize = 64 * 1024;
/// Bytes taken from the session but not yet written above which reading pauses.
const WRITE_HIGH_WATER: usize = 256 * 1024;

/// A session over TCP. See the [module documentation](self).
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    peer_addr: SocketAddr,
    session: Session,
    read_buf: Box<[u8]>,
    /// Bytes taken from the session, written up to `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    /// The error that ended the connection, returned once the events are drained.
    failed: Option<ConnectionError>,
    ended: bool,
}

/// What woke the event loop.
enum Wake {
    Wrote(std::io::Result<usize>),
    Read(std::io::Result<usize>),
    Timer,
    Deadline,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Connection {
    /// Dial `addr` (giving up after `timeout`) and start an outgoing session for
    /// `torrent`: our handshake goes out with the first event wait.
    pub async fn connect(
        addr: SocketAddr,
        timeout: Duration,
        cfg: SessionConfig,
        torrent: Torrent,
    ) -> Result<Connection, ConnectionError> {
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Err(_) => return Err(ConnectionError::ConnectTimeout(timeout)),
            Ok(Err(e)) => return Err(ConnectionError::Connect(e)),
            Ok(Ok(s)) => s,
        };
        Ok(Connection::outgoing(stream, cfg, torrent, addr))
    }

    /// An outgoing session on a stream the caller connected to `peer_addr`.
    pub fn outgoing(
        stream: TcpStream,
        cfg: SessionConfig,
        torrent: Torrent,
        peer_addr: SocketAddr,
    ) -> Connection {
        Connection::new(stream, Session::outgoing(now(), cfg, torrent), peer_addr)
    }

    /// An incoming session on an accepted stream: the peer's handshake comes out as
    /// [`Event::HandshakeReceived`]; answer with [`Connection::accept`] or
    /// [`Connection::refuse`].
    pub fn incoming(stream: TcpStream, cfg: SessionConfig) -> Result<Connection, ConnectionError> {
        let peer_addr = stream.peer_addr().map_err(ConnectionError::Io)?;
        Ok(Connection::new(
            stream,
            Session::incoming(now(), cfg),
            peer_addr,
        ))
    }

    fn new(stream: TcpStream, session: Session, peer_addr: SocketAddr) -> Connection {
        // Small messages (requests, haves) should leave at once.
        let _ = stream.set_nodelay(true);
        Connection {
            stream,
            peer_addr,
            session,
            read_buf: vec![0u8; READ_BUFFER].into_boxed_slice(),
            out: Vec::new(),
            out_pos: 0,
            failed: None,
            ended: false,
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// The session, to read its state.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, for commands; what they queue is written by the next
    /// `next_event*` call.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Incoming: serve `torrent` (the one the peer's handshake named).
    pub fn accept(&mut self, torrent: Torrent) -> Result<(), CommandError> {
        self.session.accept(now(), torrent)
    }

    /// Incoming: refuse the peer's torrent; the connection then ends.
    pub fn refuse(&mut self) -> Result<(), CommandError> {
        self.session.refuse()
    }

    /// The next event; an error once the connection has ended.
    pub async fn next_event(&mut self) -> Result<Event, ConnectionError> {
        loop {
            if let Some(e) = self.next_event_until(None).await? {
                return Ok(e);
            }
        }
    }

    /// The next event, or `None` at `deadline`.
    pub async fn next_event_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<Event>, ConnectionError> {
        loop {
            if let Some(e) = self.session.poll_event() {
                return Ok(Some(e));
            }
            if let Some(e) = self.failed.take() {
                self.ended = true;
                return Err(e);
            }
            if self.ended {
                return Err(ConnectionError::Ended);
            }
            if let Some(e) = self.session.error() {
                self.ended = true;
                return Err(ConnectionError::Session(e.clone()));
            }
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
                if let Some(bytes) = self.session.poll_transmit() {
                    self.out = bytes;
                }
            }
            let unwritten = self.out.len() - self.out_pos;
            let want_read = self.session.wants_read() && unwritten < WRITE_HIGH_WATER;
            let timer = self.session.poll_timeout().map(Instant::from_std);
            let (mut r, mut w) = self.stream.split();
            let wake = tokio::select! {
                biased;
                res = w.write(&self.out[self.out_pos..]), if unwritten > 0 => Wake::Wrote(res),
                res = r.read(&mut self.read_buf), if want_read => Wake::Read(res),
                _ = sleep_until(timer), if timer.is_some() => Wake::Timer,
                _ = sleep_until(deadline), if deadline.is_some() => Wake::Deadline,
            };
            match wake {
                Wake::Wrote(Ok(0)) => {
                    self.fail(ConnectionError::Io(std::io::ErrorKind::WriteZero.into()))
                }
                Wake::Wrote(Ok(n)) => self.out_pos += n,
                Wake::Wrote(Err(e)) | Wake::Read(Err(e)) => self.fail(ConnectionError::Io(e)),
                Wake::Read(Ok(0)) => self.fail(ConnectionError::PeerClosed),
                Wake::Read(Ok(n)) => {
                    if let Err(e) = self.session.handle_input(now(), &self.read_buf[..n]) {
                        self.failed = Some(ConnectionError::Session(e));
                    }
                }
                Wake::Timer => {
                    if let Err(e) = self.session.handle_timeout(now()) {
                        self.failed = Some(ConnectionError::Session(e));
                    }
                }
                Wake::Deadline => return Ok(None),
            }
        }
    }

    /// A socket error or end of stream: the session ends too.
    fn fail(&mut self, e: ConnectionError) {
        self.session.close();
        self.failed = Some(e);
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
