//! The errors of a connection.

use std::time::Duration;

use swarmlab_bt_wire::SessionError;

/// Why a [`crate::Connection`] ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The TCP connect did not finish in time.
    #[error("no answer within {:.1} s", .0.as_secs_f64())]
    ConnectTimeout(Duration),
    /// The TCP connect failed (refused, unreachable, …).
    #[error("{0}")]
    Connect(std::io::Error),
    /// Reading or writing the socket failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The peer closed the connection (end of stream).
    #[error("peer closed the connection")]
    PeerClosed,
    /// The session ended: a protocol error, a timeout, or a close.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Called again after the connection had already ended.
    #[error("the connection has ended")]
    Ended,
}
