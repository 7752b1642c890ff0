//! Counters of what a session saw and did.

/// What a session counted. Read with [`super::Session::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes fed to [`super::Session::handle_input`].
    pub bytes_in: u64,
    /// Bytes handed out by [`super::Session::poll_transmit`].
    pub bytes_out: u64,
    /// Messages decoded (keep-alives included).
    pub messages_in: u64,
    /// Messages queued (keep-alives included; the handshake not).
    pub messages_out: u64,
    /// Blocks received that matched one of our requests.
    pub blocks_in: u64,
    /// Blocks sent with [`super::Session::send_piece`].
    pub blocks_out: u64,
    /// Blocks received that we had not requested (dropped).
    pub unrequested_blocks: u64,
    /// The peer's requests that failed a check (range, size, choked, missing piece,
    /// full queue).
    pub requests_refused: u64,
    /// BEP 6 rejects we sent.
    pub rejects_sent: u64,
    /// Keep-alives we sent.
    pub keepalives_sent: u64,
    /// ut_pex messages received (ignored ones included).
    pub pex_received: u64,
    /// ut_pex messages ignored for arriving too often.
    pub pex_ignored: u64,
    /// ut_pex messages we sent.
    pub pex_sent: u64,
    /// ut_metadata pieces we served.
    pub metadata_served: u64,
    /// ut_metadata requests we rejected.
    pub metadata_rejected: u64,
    /// Every [`super::Misbehaviour`] reported.
    pub misbehaviours: u64,
}
