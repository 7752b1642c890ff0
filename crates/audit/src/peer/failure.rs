//! How a connection's end becomes the record's [`Failure`] (reason, stage,
//! detail), or a normal goodbye.

use std::io::ErrorKind as K;

use swarmlab_bt::ConnectionError;
use swarmlab_bt_wire::{AssembleError, SessionError};

use crate::report::{Failure, FailureReason, PeerRecord, PieceEvidence};

pub(super) fn classify_io(e: &std::io::Error, stage: &'static str) -> Failure {
    let reason = match e.kind() {
        K::ConnectionRefused => FailureReason::Refused,
        K::TimedOut => FailureReason::Timeout,
        K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe => {
            FailureReason::Disconnected
        }
        K::NetworkUnreachable | K::HostUnreachable | K::AddrNotAvailable => {
            FailureReason::Unreachable
        }
        _ => FailureReason::Io,
    };
    Failure::new(reason, stage, e.to_string())
}

/// The TCP connect failed.
pub(super) fn connect_failure(e: ConnectionError) -> Failure {
    match e {
        ConnectionError::ConnectTimeout(_) => {
            Failure::new(FailureReason::Timeout, "connect", e.to_string())
        }
        ConnectionError::Connect(io) => classify_io(&io, "connect"),
        other => Failure::new(FailureReason::Io, "connect", other.to_string()),
    }
}

/// Where a connection was when it ended.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stage {
    /// Both handshakes were done.
    pub(super) established: bool,
    /// The peer had told us what we came for (extension handshake, pieces).
    pub(super) basic_done: bool,
}

/// The end of a connection after the connect: `Ok` with how it ended when it is a
/// goodbye, the failure otherwise.
pub(super) fn end(
    e: ConnectionError,
    at: Stage,
    rec: &mut PeerRecord,
    ev: &mut PieceEvidence,
) -> Result<&'static str, Failure> {
    let stage = if at.established {
        "session"
    } else {
        "handshake"
    };
    let f = match e {
        ConnectionError::PeerClosed | ConnectionError::Io(_) if !at.established => {
            let mut f = match &e {
                ConnectionError::Io(io) => classify_io(io, "handshake"),
                _ => Failure::new(FailureReason::Disconnected, "handshake", ""),
            };
            if f.reason == FailureReason::Disconnected {
                let why = match &e {
                    ConnectionError::Io(io) => io.to_string(),
                    _ => "early eof".to_string(),
                };
                f.detail = format!("connection closed during the handshake ({why})");
            }
            f
        }
        // A close or a reset after the peer told us what we came for is a goodbye.
        ConnectionError::PeerClosed if at.basic_done => return Ok("peer_closed"),
        ConnectionError::PeerClosed => Failure::new(
            FailureReason::Disconnected,
            "session",
            "peer closed the connection before announcing its pieces",
        ),
        ConnectionError::Io(io) => {
            let f = classify_io(&io, "session");
            if at.basic_done && f.reason == FailureReason::Disconnected {
                return Ok("peer_closed");
            }
            f
        }
        ConnectionError::Session(s) => session_failure(s, stage, rec, ev),
        other => Failure::new(FailureReason::Io, stage, other.to_string()),
    };
    Err(f)
}

fn session_failure(
    e: SessionError,
    stage: &'static str,
    rec: &mut PeerRecord,
    ev: &mut PieceEvidence,
) -> Failure {
    let reason = match &e {
        SessionError::BadHandshake => FailureReason::BadHandshake,
        SessionError::WrongInfoHash { .. } => FailureReason::WrongInfoHash,
        SessionError::HandshakeTimeout(_) | SessionError::IdleTimeout(_) => FailureReason::Timeout,
        SessionError::BitfieldLength { .. } => {
            // Its bytes do not fit: a bitfield all the same, worth nothing.
            ev.kind = Some("bitfield");
            ev.raw_bitfield = None;
            FailureReason::ProtocolError
        }
        SessionError::Metadata(a) => {
            rec.metadata = Some(
                if *a == AssembleError::HashMismatch {
                    "bad_hash"
                } else {
                    "bad_piece"
                }
                .into(),
            );
            FailureReason::ProtocolError
        }
        _ => FailureReason::ProtocolError,
    };
    Failure::new(reason, stage, e.to_string())
}
