//! Typed KRPC messages.

use std::fmt;
use std::net::SocketAddr;

use crate::compact::{Node4, Node6};
use crate::Id;

/// A KRPC transaction id (`t`).
///
/// Ids received from other nodes may have any length (libtorrent uses 2 bytes) and must be
/// echoed back byte-for-byte. Our own ids are 4 bytes ([`TransactionId::from_u32`]): the
/// `mainline` crate only accepts that length.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransactionId(Vec<u8>);

impl TransactionId {
    /// Wraps raw bytes of any length.
    pub fn new(bytes: impl Into<Vec<u8>>) -> TransactionId {
        TransactionId(bytes.into())
    }

    /// A 4-byte id (big endian), the form we use for our own queries.
    pub fn from_u32(n: u32) -> TransactionId {
        TransactionId(n.to_be_bytes().to_vec())
    }

    /// The value of a 4-byte id (big endian); `None` for any other length.
    pub fn to_u32(&self) -> Option<u32> {
        <[u8; 4]>::try_from(self.0.as_slice())
            .ok()
            .map(u32::from_be_bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the (legal) empty id.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw bytes, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl From<u32> for TransactionId {
    fn from(n: u32) -> TransactionId {
        TransactionId::from_u32(n)
    }
}

impl From<&[u8]> for TransactionId {
    fn from(b: &[u8]) -> TransactionId {
        TransactionId(b.to_vec())
    }
}

impl From<Vec<u8>> for TransactionId {
    fn from(b: Vec<u8>) -> TransactionId {
        TransactionId(b)
    }
}

impl AsRef<[u8]> for TransactionId {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({})", hex::encode(&self.0))
    }
}

/// One KRPC message: a query, a response or an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Transaction id (`t`).
    pub tid: TransactionId,
    /// Client version (`v`), e.g. `b"LT\x01\x02"`. Optional; any bytes.
    pub version: Option<Vec<u8>>,
    /// BEP 42 `ip`: the requester's address as seen by the responder. Set it on responses
    /// and errors we send; read it from responses we receive. A malformed `ip` (not 6 or
    /// 18 bytes) decodes as `None`.
    pub ip: Option<SocketAddr>,
    /// What the message says.
    pub body: Body,
}

/// The `y`-dependent part of a message.
// A response carries BEP 44's key and signature inline (about 300 bytes in all): a
// message lives for one datagram, decoded or encoded, so boxing would cost an
// allocation per message to save stack space nobody keeps.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `y = "q"`.
    Query(Query),
    /// `y = "r"`.
    Response(Response),
    /// `y = "e"`.
    Error(KrpcError),
}

/// A query (`y = "q"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The querying node's id (`a.id`).
    pub id: Id,
    /// BEP 43 read-only flag (top-level `ro: 1`): do not add the sender to routing tables.
    pub read_only: bool,
    /// The method and its arguments.
    pub method: Method,
}

/// Query methods with their arguments: BEP 5's four, BEP 44's `get` and `put`, BEP 51's
/// `sample_infohashes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// `ping`.
    Ping,
    /// `find_node`.
    FindNode {
        /// Id whose closest nodes are wanted.
        target: Id,
        /// BEP 32 `want`.
        want: Want,
    },
    /// `get_peers`.
    GetPeers {
        /// The torrent's info-hash.
        info_hash: Id,
        /// BEP 32 `want`.
        want: Want,
    },
    /// `announce_peer`.
    AnnouncePeer {
        /// The torrent's info-hash.
        info_hash: Id,
        /// The announced port. When `implied_port` is set the receiver uses the UDP
        /// source port instead; an absent or out-of-range `port` then decodes as 0.
        port: u16,
        /// `implied_port: 1` (encoded only when true).
        implied_port: bool,
        /// The token from an earlier `get_peers` response.
        token: Vec<u8>,
    },
    /// BEP 44 `get`: the item stored under `target`, with a write token and the closest
    /// nodes.
    Get {
        /// SHA-1 of the value (immutable) or of the public key and salt (mutable).
        target: Id,
        /// Only return the value if its sequence number is greater than this.
        seq: Option<i64>,
        /// BEP 32 `want`.
        want: Want,
    },
    /// BEP 44 `put` (boxed: the largest arguments by far).
    Put(Box<PutArgs>),
    /// BEP 51 `sample_infohashes`: a sample of the info-hashes the node stores, and the
    /// closest nodes to `target`.
    SampleInfohashes {
        /// Where in the key space the querier walks (the `nodes` returned are the
        /// closest to it).
        target: Id,
        /// BEP 32 `want`.
        want: Want,
    },
}

/// The arguments of a BEP 44 `put`. Immutable items carry only `token` and `v`;
/// mutable items also `k`, `sig` and `seq`, and optionally `salt` and `cas`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutArgs {
    /// The write token from an earlier `get` response.
    pub token: Vec<u8>,
    /// The value: one bencoded value, exactly as it goes on the wire (BEP 44 limits it
    /// to 1,000 bytes; the decoder takes any length and leaves the check to the node).
    pub v: Vec<u8>,
    /// The ed25519 public key (mutable items).
    pub k: Option<[u8; 32]>,
    /// The ed25519 signature of `salt`, `seq` and `v` (mutable items).
    pub sig: Option<[u8; 64]>,
    /// The sequence number (mutable items).
    pub seq: Option<i64>,
    /// Compare-and-swap: store only if the current sequence number is this one.
    pub cas: Option<i64>,
    /// The salt (mutable items); empty means none (an empty `salt` is not sent).
    pub salt: Vec<u8>,
}

impl Method {
    /// The wire name (`q`) of the method.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Ping => "ping",
            Method::FindNode { .. } => "find_node",
            Method::GetPeers { .. } => "get_peers",
            Method::AnnouncePeer { .. } => "announce_peer",
            Method::Get { .. } => "get",
            Method::Put(_) => "put",
            Method::SampleInfohashes { .. } => "sample_infohashes",
        }
    }
}

/// BEP 32 `want` argument: which address families the querier wants nodes for.
/// Both false means "not given" (the responder uses the family of the query's transport).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Want {
    /// `"n4"`: wants `nodes`.
    pub n4: bool,
    /// `"n6"`: wants `nodes6`.
    pub n6: bool,
}

impl Want {
    /// True if the querier named no family.
    pub fn is_empty(&self) -> bool {
        !self.n4 && !self.n6
    }
}

/// A response (`y = "r"`). KRPC responses do not name the query they answer; the caller
/// matches them by transaction id. Absent keys are `None`; present but empty are `Some(empty)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The responding node's id (`r.id`).
    pub id: Id,
    /// `nodes`: compact IPv4 nodes. Send `Some` (even empty) in `find_node` replies: the
    /// `mainline` crate reads a reply without `nodes` as a ping reply.
    pub nodes: Option<Vec<Node4>>,
    /// BEP 32 `nodes6`: compact IPv6 nodes.
    pub nodes6: Option<Vec<Node6>>,
    /// `values`: peers (6-byte IPv4 or 18-byte IPv6 entries). On decode at most
    /// [`MAX_DECODED_VALUES`](crate::MAX_DECODED_VALUES) are kept and entries of other
    /// lengths are skipped.
    pub values: Option<Vec<SocketAddr>>,
    /// `token` (in `get_peers` and `get` replies).
    pub token: Option<Vec<u8>>,
    /// BEP 44 `v`: the stored item's value, one bencoded value exactly as on the wire.
    pub v: Option<Vec<u8>>,
    /// BEP 44 `k`: the mutable item's public key.
    pub k: Option<[u8; 32]>,
    /// BEP 44 `sig`: the mutable item's signature.
    pub sig: Option<[u8; 64]>,
    /// BEP 44 `seq`: the mutable item's sequence number.
    pub seq: Option<i64>,
    /// BEP 51 `interval`: seconds before the node's sample may change (the querier
    /// should not ask again before).
    pub interval: Option<i64>,
    /// BEP 51 `num`: how many info-hashes the node stores.
    pub num: Option<i64>,
    /// BEP 51 `samples`: some of those info-hashes (whole 20-byte entries; a trailing
    /// partial one is dropped on decode).
    pub samples: Option<Vec<Id>>,
}

impl Response {
    /// A response carrying only the responder's id (a `ping` or `announce_peer` reply).
    pub fn new(id: Id) -> Response {
        Response {
            id,
            nodes: None,
            nodes6: None,
            values: None,
            token: None,
            v: None,
            k: None,
            sig: None,
            seq: None,
            interval: None,
            num: None,
            samples: None,
        }
    }
}

/// KRPC error codes (BEP 5, and BEP 44's for `put`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 201 Generic Error.
    Generic,
    /// 202 Server Error.
    Server,
    /// 203 Protocol Error (malformed packet, invalid arguments, bad token).
    Protocol,
    /// 204 Method Unknown.
    MethodUnknown,
    /// 205 (BEP 44): the value `v` is longer than 1,000 bytes.
    MessageTooBig,
    /// 206 (BEP 44): the signature of a mutable item does not verify.
    InvalidSignature,
    /// 207 (BEP 44): the salt is longer than 64 bytes.
    SaltTooBig,
    /// 301 (BEP 44): `cas` does not match the stored sequence number.
    CasMismatch,
    /// 302 (BEP 44): the sequence number is less than the stored one.
    SequenceTooOld,
    /// Any other code.
    Other(i64),
}

impl ErrorCode {
    /// The numeric code.
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::Generic => 201,
            ErrorCode::Server => 202,
            ErrorCode::Protocol => 203,
            ErrorCode::MethodUnknown => 204,
            ErrorCode::MessageTooBig => 205,
            ErrorCode::InvalidSignature => 206,
            ErrorCode::SaltTooBig => 207,
            ErrorCode::CasMismatch => 301,
            ErrorCode::SequenceTooOld => 302,
            ErrorCode::Other(c) => c,
        }
    }

    /// The conventional message text for the BEP 5 and BEP 44 codes.
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::Generic => "Generic Error",
            ErrorCode::Server => "Server Error",
            ErrorCode::Protocol => "Protocol Error",
            ErrorCode::MethodUnknown => "Method Unknown",
            ErrorCode::MessageTooBig => "Message (v field) too big",
            ErrorCode::InvalidSignature => "Invalid signature",
            ErrorCode::SaltTooBig => "Salt (salt field) too big",
            ErrorCode::CasMismatch => "CAS mismatch, re-read value and try again",
            ErrorCode::SequenceTooOld => "Sequence number less than current",
            ErrorCode::Other(_) => "Error",
        }
    }
}

impl From<i64> for ErrorCode {
    fn from(c: i64) -> ErrorCode {
        match c {
            201 => ErrorCode::Generic,
            202 => ErrorCode::Server,
            203 => ErrorCode::Protocol,
            204 => ErrorCode::MethodUnknown,
            205 => ErrorCode::MessageTooBig,
            206 => ErrorCode::InvalidSignature,
            207 => ErrorCode::SaltTooBig,
            301 => ErrorCode::CasMismatch,
            302 => ErrorCode::SequenceTooOld,
            c => ErrorCode::Other(c),
        }
    }
}

impl From<ErrorCode> for i64 {
    fn from(c: ErrorCode) -> i64 {
        c.code()
    }
}

/// An error message (`y = "e"`, `e: [code, "message"]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KrpcError {
    /// The error code.
    pub code: ErrorCode,
    /// The message text. Non-UTF-8 bytes decode lossily (U+FFFD); a missing or
    /// non-string message decodes as empty.
    pub message: String,
}

impl Message {
    /// A query with a fresh transaction id.
    pub fn query(tid: TransactionId, id: Id, method: Method) -> Message {
        Message {
            tid,
            version: None,
            ip: None,
            body: Body::Query(Query {
                id,
                read_only: false,
                method,
            }),
        }
    }

    /// A response echoing `tid`.
    pub fn response(tid: TransactionId, response: Response) -> Message {
        Message {
            tid,
            version: None,
            ip: None,
            body: Body::Response(response),
        }
    }

    /// An error echoing `tid`.
    pub fn error(tid: TransactionId, code: ErrorCode, message: impl Into<String>) -> Message {
        Message {
            tid,
            version: None,
            ip: None,
            body: Body::Error(KrpcError {
                code,
                message: message.into(),
            }),
        }
    }

    /// Sets BEP 42 `ip` (the requester's address as we see it).
    pub fn with_ip(mut self, ip: SocketAddr) -> Message {
        self.ip = Some(ip);
        self
    }

    /// Sets the client version `v`.
    pub fn with_version(mut self, v: impl Into<Vec<u8>>) -> Message {
        self.version = Some(v.into());
        self
    }

    /// The sender's node id, for queries and responses.
    pub fn sender_id(&self) -> Option<Id> {
        match &self.body {
            Body::Query(q) => Some(q.id),
            Body::Response(r) => Some(r.id),
            Body::Error(_) => None,
        }
    }
}
