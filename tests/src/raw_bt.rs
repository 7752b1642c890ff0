//! A raw BitTorrent peer for hostile tests: it sends exactly the bytes a test asks
//! for (messages the session of `swarmlab-bt-wire` would refuse to send, floods,
//! wrong info-hashes) and reads what comes back, over a blocking `TcpStream`.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use swarmlab_bt_wire::ext::{ExtHandshake, MetadataMsg, PexMessage};
use swarmlab_bt_wire::wire::{reserved, Decoder, Handshake, Message, HANDSHAKE_LEN};
use swarmlab_bt_wire::InfoHash;

/// The id this peer asks the other side to use for ut_pex messages to it.
pub const OUR_UT_PEX: u8 = 1;
/// The id this peer asks the other side to use for ut_metadata messages to it.
pub const OUR_UT_METADATA: u8 = 2;

/// A raw peer connection. Reads time out after 10 s (an error, so a test fails
/// rather than hangs).
pub struct RawPeer {
    stream: TcpStream,
    decoder: Decoder,
    buf: Vec<u8>,
    /// The other side's extension handshake, once read by [`RawPeer::expect`] or
    /// [`RawPeer::next_message`].
    pub their_ext: Option<ExtHandshake>,
}

impl RawPeer {
    /// Connects to `addr` and sends a handshake for `info_hash` with the extension,
    /// DHT and fast bits.
    pub fn connect(addr: SocketAddr, info_hash: [u8; 20]) -> io::Result<RawPeer> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let h = Handshake {
            reserved: reserved::ours(),
            info_hash: InfoHash(info_hash),
            peer_id: *b"-RAW000-hostiletest!",
        };
        stream.write_all(&h.encode())?;
        Ok(RawPeer {
            stream,
            decoder: Decoder::new(32 << 20),
            buf: vec![0; 64 * 1024],
            their_ext: None,
        })
    }

    /// Reads the other side's 68-byte handshake.
    pub fn read_handshake(&mut self) -> io::Result<Handshake> {
        let mut b = [0u8; HANDSHAKE_LEN];
        self.stream.read_exact(&mut b)?;
        Handshake::decode(&b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Sends our extension handshake: ut_pex and ut_metadata, and `p` when given.
    pub fn send_ext_handshake(&mut self, p: Option<u16>) -> io::Result<()> {
        let mut m = BTreeMap::new();
        m.insert("ut_pex".to_string(), OUR_UT_PEX);
        m.insert("ut_metadata".to_string(), OUR_UT_METADATA);
        let h = ExtHandshake {
            m,
            p,
            v: Some("raw test peer".into()),
            ..ExtHandshake::default()
        };
        self.send(&Message::Extended {
            id: 0,
            payload: h.encode(),
        })
    }

    /// Sends one message.
    pub fn send(&mut self, m: &Message) -> io::Result<()> {
        self.stream.write_all(&m.encode())
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends a ut_metadata request for `piece` (needs the other side's extension
    /// handshake, read earlier).
    pub fn request_metadata(&mut self, piece: u32) -> io::Result<()> {
        let id = self.their_id("ut_metadata")?;
        self.send(&Message::Extended {
            id,
            payload: MetadataMsg::Request { piece }.encode(),
        })
    }

    /// Sends a ut_pex message (needs the other side's extension handshake).
    pub fn send_pex(&mut self, m: &PexMessage) -> io::Result<()> {
        let id = self.their_id("ut_pex")?;
        self.send(&Message::Extended {
            id,
            payload: m.encode(),
        })
    }

    fn their_id(&self, name: &str) -> io::Result<u8> {
        self.their_ext
            .as_ref()
            .and_then(|h| h.id_of(name))
            .ok_or_else(|| io::Error::other(format!("the other side offers no {name}")))
    }

    /// The next message; `None` when the other side closed the connection.
    pub fn next_message(&mut self) -> io::Result<Option<Message>> {
        loop {
            match self.decoder.next_message() {
                Ok(Some(m)) => {
                    if let Message::Extended { id: 0, payload } = &m {
                        self.their_ext = ExtHandshake::decode(payload).ok();
                    }
                    return Ok(Some(m));
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(n) => self.decoder.extend(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads messages until one for which `want` is true (returned); the others are
    /// skipped. An error when the connection closes first.
    pub fn expect(&mut self, mut want: impl FnMut(&Message) -> bool) -> io::Result<Message> {
        loop {
            match self.next_message()? {
                Some(m) if want(&m) => return Ok(m),
                Some(_) => {}
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }

    /// True when the other side closes the connection within `wait` (messages
    /// before the close are skipped).
    pub fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return false;
            }
            match self.next_message() {
                Ok(None) => return true,
                Ok(Some(_)) => {}
                Err(_) => return false,
            }
        }
    }
}
