//! One connection to a peer, and one request on it: the download's hot path.
//!
//! The CHUNK's content is read straight into the chunk buffer (no copy) and SHA-1 runs
//! over each piece as it arrives; the header is checked before anything is reserved.

use std::net::SocketAddr;
use std::time::Duration;

use sha1::{Digest, Sha1};
use swarmlab_course_wire::{
    padding, ChunkHash, ErrorCode, Header, Message, MsgType, CHUNK_PREFIX_LEN, DEFAULT_MAX_MESSAGE,
    HASH_LEN, HEADER_LEN,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::error::RequestError;

/// A kept-open connection to one peer.
pub(crate) struct Conn {
    stream: BufReader<TcpStream>,
}

/// Connects to `peer` within `wait`.
pub(crate) async fn connect(peer: SocketAddr, wait: Duration) -> Result<Conn, RequestError> {
    let s = timeout(wait, TcpStream::connect(peer))
        .await
        .map_err(|_| RequestError::ConnectTimeout(wait))?
        .map_err(RequestError::Connect)?;
    let _ = s.set_nodelay(true);
    Ok(Conn {
        stream: BufReader::with_capacity(64 * 1024, s),
    })
}

/// Checks a CHUNK header's size before anything more is read: at least its prefix, at
/// most the message of the largest chunk (without this bound a peer could make Charlie
/// reserve 4 GiB for one reply).
pub(crate) fn check_chunk_header(header: &Header) -> Result<(), RequestError> {
    let total = header.total_len();
    if total > DEFAULT_MAX_MESSAGE as u64 {
        return Err(RequestError::TooLarge {
            len: total,
            max: DEFAULT_MAX_MESSAGE,
        });
    }
    if total < CHUNK_PREFIX_LEN as u64 {
        return Err(RequestError::TooShort(total));
    }
    Ok(())
}

/// The content length the rest of a CHUNK's prefix announces, once the hash is the one
/// asked for and the length agrees with msg_length. Checked before any buffer is
/// reserved.
pub(crate) fn chunk_len(
    header: &Header,
    rest: &[u8; HASH_LEN + 4],
    hash: &ChunkHash,
) -> Result<usize, RequestError> {
    let total = header.total_len();
    if rest[..HASH_LEN] != hash[..] {
        return Err(RequestError::OtherHash);
    }
    let n = u32::from_be_bytes([rest[20], rest[21], rest[22], rest[23]]);
    if (CHUNK_PREFIX_LEN + n as usize + padding(n as usize)) as u64 != total {
        return Err(RequestError::LengthMismatch {
            len: n,
            words: header.words,
        });
    }
    Ok(n as usize)
}

/// One request: GET_CHUNK, then the reply, hashed while it arrives into `buf`.
pub(crate) async fn fetch(
    conn: &mut Conn,
    hash: &ChunkHash,
    buf: &mut Vec<u8>,
) -> Result<(), RequestError> {
    let io = RequestError::Io;
    let s = &mut conn.stream;
    let req = Message::GetChunk(*hash).encode().unwrap_or_default();
    s.get_mut().write_all(&req).await.map_err(io)?;
    let mut head = [0u8; HEADER_LEN];
    s.read_exact(&mut head).await.map_err(io)?;
    let header = Header::parse(&head);
    if header.version != 1 {
        return Err(RequestError::Version(header.version));
    }
    match MsgType::from_u8(header.msg_type) {
        Some(MsgType::Error) if header.words == 3 => {
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.map_err(io)?;
            match ErrorCode::from_u16(u16::from_be_bytes([b[0], b[1]])) {
                ErrorCode::ChunkNotFound => Err(RequestError::NotFound),
                code => Err(RequestError::ErrorReply(code)),
            }
        }
        Some(MsgType::Chunk) => {
            check_chunk_header(&header)?;
            let mut rest = [0u8; HASH_LEN + 4];
            s.read_exact(&mut rest).await.map_err(io)?;
            let n = chunk_len(&header, &rest, hash)?;
            buf.clear();
            buf.reserve_exact(n);
            let mut hasher = Sha1::new();
            while buf.len() < n {
                let start = buf.len();
                let got = (&mut *s)
                    .take((n - start) as u64)
                    .read_buf(buf)
                    .await
                    .map_err(io)?;
                if got == 0 {
                    return Err(RequestError::Closed);
                }
                hasher.update(&buf[start..]);
            }
            let mut pad = [0u8; 3];
            s.read_exact(&mut pad[..padding(n)]).await.map_err(io)?;
            if hasher.finalize()[..] != hash[..] {
                return Err(RequestError::BadDigest);
            }
            Ok(())
        }
        _ => Err(RequestError::Unexpected {
            msg_type: header.msg_type,
            words: header.words,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarmlab_course_wire::{chunk_prefix, MAX_CHUNK_LEN};

    fn prefix(hash: &ChunkHash, n: u32) -> (Header, [u8; HASH_LEN + 4]) {
        let p = chunk_prefix(hash, n);
        let header = Header::parse(&p[..HEADER_LEN].try_into().unwrap());
        (header, p[HEADER_LEN..].try_into().unwrap())
    }

    #[test]
    fn the_largest_chunk_passes_and_one_byte_more_is_refused() {
        let h = [3u8; 20];
        let (header, rest) = prefix(&h, MAX_CHUNK_LEN as u32);
        check_chunk_header(&header).unwrap();
        assert_eq!(chunk_len(&header, &rest, &h).unwrap(), MAX_CHUNK_LEN);
        let (header, _) = prefix(&h, MAX_CHUNK_LEN as u32 + 1);
        assert!(matches!(
            check_chunk_header(&header),
            Err(RequestError::TooLarge { .. })
        ));
        // The most a u32 content length can announce: refused, nothing reserved.
        let (header, _) = prefix(&h, u32::MAX - 40);
        assert!(matches!(
            check_chunk_header(&header),
            Err(RequestError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_prefix_that_disagrees_is_refused() {
        let h = [3u8; 20];
        let (header, rest) = prefix(&h, 10);
        assert!(matches!(
            chunk_len(&header, &rest, &[4; 20]),
            Err(RequestError::OtherHash)
        ));
        let (mut header, rest) = prefix(&h, 10);
        header.words += 1;
        assert!(matches!(
            chunk_len(&header, &rest, &h),
            Err(RequestError::LengthMismatch { .. })
        ));
        let (mut header, _) = prefix(&h, 10);
        header.words = 7;
        assert!(matches!(
            check_chunk_header(&header),
            Err(RequestError::TooShort(28))
        ));
    }
}
