//! Decoding whole messages: strict about lengths, never reading past the body.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::{
    padded, padding, ChunkHash, ChunkRecord, DecodeError, ErrorCode, FileInfo, Header, Message,
    MsgType, TrackerInfo, DEFAULT_MAX_MESSAGE, HASH_LEN, HEADER_LEN,
};

/// The header at the front of `bytes`.
fn front_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let head: &[u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(DecodeError::Truncated("header"))?;
    Ok(Header::parse(head))
}

/// The body the validated `header` announces, at the front of `bytes` after it.
fn body<'a>(header: &Header, bytes: &'a [u8]) -> Result<&'a [u8], DecodeError> {
    if (bytes.len() as u64) < header.total_len() {
        return Err(DecodeError::Truncated("message"));
    }
    Ok(&bytes[HEADER_LEN..header.total_len() as usize])
}

impl Message {
    /// Decodes exactly one whole message (header and body, `bytes.len()` equal to the
    /// header's msg_length), accepting messages up to [`DEFAULT_MAX_MESSAGE`].
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        Self::decode_with_max(bytes, DEFAULT_MAX_MESSAGE)
    }

    /// [`Message::decode`] with another maximum size.
    pub fn decode_with_max(bytes: &[u8], max: usize) -> Result<Message, DecodeError> {
        let header = front_header(bytes)?;
        let t = header.validate(max)?;
        Self::decode_body(t, &header, body(&header, bytes)?)
    }

    /// Decodes a reply to a request that expects `expected`, whatever the reply's type
    /// byte says (course rule 4.3: a deployed tracker answers GET_FILE_INFO with a
    /// FILE_INFO whose type byte is 5). An ERROR is decoded as an ERROR.
    pub fn decode_reply_as(
        expected: MsgType,
        bytes: &[u8],
        max: usize,
    ) -> Result<Message, DecodeError> {
        let header = front_header(bytes)?;
        if header.msg_type == MsgType::Error as u8 {
            return Self::decode_with_max(bytes, max);
        }
        let as_expected = Header {
            msg_type: expected as u8,
            ..header
        };
        as_expected.validate(max)?;
        Self::decode_body(expected, &header, body(&header, bytes)?)
    }

    /// Decodes a body of `body.len() == header.body_len()` bytes for a validated header.
    pub fn decode_body(t: MsgType, header: &Header, body: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader { b: body };
        let msg = match t {
            MsgType::DiscoverTracker => Message::DiscoverTracker,
            MsgType::GetFileInfo => Message::GetFileInfo,
            MsgType::GetChunk => Message::GetChunk(r.hash("chunk_hash")?),
            MsgType::Error => Message::Error(ErrorCode::from_u16(r.u16("error_code")?)),
            MsgType::TrackerInfo => {
                let addr = r.addr("tracker address")?;
                let n = r.u16("tracker_name_length")? as usize;
                let name = r.text(n, "tracker_name")?;
                Message::TrackerInfo(TrackerInfo { addr, name })
            }
            MsgType::FileInfo => Message::FileInfo(decode_file_info(&mut r)?),
            MsgType::Chunk => {
                let hash = r.hash("chunk_hash")?;
                let n = r.u32("chunk_content_length")? as usize;
                let content = r.take(n, "chunk_content")?.to_vec();
                r.take(padding(n), "padding")?;
                Message::Chunk { hash, content }
            }
        };
        // What is left must be the padding of the last field, nothing more.
        let expected = HEADER_LEN + body.len() - r.b.len();
        let expected = padded(expected);
        if expected as u64 != header.total_len() {
            return Err(DecodeError::BadLength {
                msg_type: t,
                words: header.words,
                expected: (expected / 4) as u32,
            });
        }
        Ok(msg)
    }
}

fn decode_file_info(r: &mut Reader<'_>) -> Result<FileInfo, DecodeError> {
    let count = r.u16("chunks_count")? as usize;
    let n = r.u16("filename_length")? as usize;
    let filename = r.text(n, "filename")?;
    // Every chunk record takes at least 24 bytes: bound the allocation by the body.
    let mut chunks = Vec::with_capacity(count.min(r.b.len() / 24));
    for _ in 0..count {
        let hash = r.hash("chunk_hash")?;
        let peers_count = r.u16("peers_count")? as usize;
        r.take(2, "padding")?;
        let mut peers = Vec::with_capacity(peers_count.min(r.b.len() / 8));
        for _ in 0..peers_count {
            peers.push(r.addr("peer address")?);
            r.take(2, "padding")?;
        }
        chunks.push(ChunkRecord { hash, peers });
    }
    Ok(FileInfo { filename, chunks })
}

/// A cursor over a body that never reads past its end.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.b.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn hash(&mut self, what: &'static str) -> Result<ChunkHash, DecodeError> {
        let mut h = [0u8; HASH_LEN];
        h.copy_from_slice(self.take(HASH_LEN, what)?);
        Ok(h)
    }
    fn addr(&mut self, what: &'static str) -> Result<SocketAddrV4, DecodeError> {
        let b = self.take(6, what)?;
        Ok(SocketAddrV4::new(
            Ipv4Addr::new(b[0], b[1], b[2], b[3]),
            u16::from_be_bytes([b[4], b[5]]),
        ))
    }
    /// A UTF-8 text of `n` bytes followed by its padding.
    fn text(&mut self, n: usize, what: &'static str) -> Result<String, DecodeError> {
        let b = self.take(n, what)?;
        let s = std::str::from_utf8(b).map_err(|_| DecodeError::Utf8(what))?;
        self.take(padding(n), "padding")?;
        Ok(s.to_owned())
    }
}
