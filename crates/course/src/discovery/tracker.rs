//! Step 2's source: GET_FILE_INFO to a tracker at a known address.

use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures::future::BoxFuture;
use swarmlab_course_wire::{FileInfo, Header, Message, MsgType, DEFAULT_MAX_MESSAGE, HEADER_LEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::config::PeersIni;
use crate::discovery::{Cost, Found, PeerSource, Query};
use crate::error::DiscoveryError;
use crate::layout::Layout;

/// The largest FILE_INFO Charlie reads: the decoders' maximum message. A header
/// announcing more is refused before its body is read.
pub const MAX_FILE_INFO: usize = DEFAULT_MAX_MESSAGE;

/// Asks one tracker for FILE_INFO over TCP: one GET_FILE_INFO, one reply, then the
/// connection is closed (rule 4.10). A reply whose type byte is not 3 but whose body
/// is a FILE_INFO is accepted (rule 4.3). A header announcing more than
/// [`MAX_FILE_INFO`] bytes is refused at once, and the body is read as it arrives, so
/// a hostile tracker costs no more memory than it sends.
pub async fn get_file_info(addr: SocketAddr, wait: Duration) -> Result<FileInfo, DiscoveryError> {
    let io = |source| DiscoveryError::TrackerIo { addr, source };
    let exchange = async {
        let mut s = TcpStream::connect(addr).await.map_err(io)?;
        let _ = s.set_nodelay(true);
        s.write_all(&Message::GetFileInfo.encode().unwrap_or_default())
            .await
            .map_err(io)?;
        let mut head = [0u8; HEADER_LEN];
        s.read_exact(&mut head).await.map_err(io)?;
        let header = Header::parse(&head);
        // Validated as what it must be (rule 4.3: whatever its type byte, but ERROR).
        let as_type = if header.msg_type == MsgType::Error as u8 {
            MsgType::Error
        } else {
            MsgType::FileInfo
        };
        let check = Header {
            msg_type: as_type as u8,
            ..header
        };
        check
            .validate(MAX_FILE_INFO)
            .map_err(|source| DiscoveryError::BadReply { addr, source })?;
        let mut msg = head.to_vec();
        (&mut s)
            .take(header.body_len())
            .read_to_end(&mut msg)
            .await
            .map_err(io)?;
        match Message::decode_reply_as(MsgType::FileInfo, &msg, MAX_FILE_INFO) {
            Ok(Message::FileInfo(fi)) => Ok(fi),
            Ok(Message::Error(code)) => Err(DiscoveryError::TrackerError { addr, code }),
            Ok(other) => Err(DiscoveryError::UnexpectedReply {
                addr,
                msg_type: other.msg_type(),
            }),
            Err(source) => Err(DiscoveryError::BadReply { addr, source }),
        }
    };
    timeout(wait, exchange)
        .await
        .map_err(|_| DiscoveryError::TrackerTimeout { addr, wait })?
}

/// Step 2: the tracker at a known address (peers.ini's `[tracker]`).
pub struct TrackerSource {
    /// `None`: read `[tracker]` from the layout's peers.ini when asked.
    pub addr: Option<SocketAddrV4>,
    /// Where peers.ini is.
    pub layout: Layout,
    /// Time allowed for the whole exchange with the tracker.
    pub timeout: Duration,
    /// Connections opened so far.
    pub connections: u64,
}

impl TrackerSource {
    /// The tracker of `layout`'s peers.ini, asked with `timeout`.
    pub fn new(layout: Layout, timeout: Duration) -> TrackerSource {
        TrackerSource {
            addr: None,
            layout,
            timeout,
            connections: 0,
        }
    }
}

impl PeerSource for TrackerSource {
    fn name(&self) -> &str {
        "tracker"
    }

    fn discover<'a>(&'a mut self, _q: Query<'a>) -> BoxFuture<'a, Result<Found, DiscoveryError>> {
        Box::pin(async move {
            let addr = match self.addr {
                Some(a) => a,
                None => PeersIni::load(&self.layout.peers_ini())?
                    .get("tracker")
                    .ok_or_else(|| DiscoveryError::NoTrackerSection(self.layout.peers_ini()))?,
            };
            self.connections += 1;
            let fi = get_file_info(SocketAddr::V4(addr), self.timeout).await?;
            let detail = format!(
                "{} chunks of {} from tracker {addr}",
                fi.chunks.len(),
                fi.filename
            );
            Ok(Found::from_file_info(fi, detail))
        })
    }

    fn cost(&self) -> Cost {
        Cost {
            datagrams: 0,
            connections: self.connections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarmlab_course_wire::DecodeError;
    use tokio::net::TcpListener;

    /// A tracker that answers GET_FILE_INFO with `reply`, then keeps the connection
    /// open without sending more.
    async fn tracker_sending(reply: Vec<u8>) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut req = [0u8; 8];
            s.read_exact(&mut req).await.unwrap();
            s.write_all(&reply).await.unwrap();
            std::future::pending::<()>().await;
            drop(s);
        });
        addr
    }

    #[tokio::test]
    async fn a_file_info_announcing_more_than_the_cap_is_refused_at_once() {
        // 16 GiB announced, nothing sent after the header. Without the cap Charlie
        // would wait for the body (and hold what came): the error would be a timeout.
        let addr = tracker_sending(vec![1, 3, 0, 0, 0xff, 0xff, 0xff, 0xff]).await;
        let e = get_file_info(addr, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                DiscoveryError::BadReply {
                    source: DecodeError::TooLarge { .. },
                    ..
                }
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_type_5_file_info_and_an_error_are_understood() {
        let fi = FileInfo {
            filename: "x".into(),
            chunks: vec![],
        };
        let mut bytes = Message::FileInfo(fi.clone()).encode().unwrap();
        bytes[1] = 5;
        let addr = tracker_sending(bytes).await;
        assert_eq!(
            get_file_info(addr, Duration::from_secs(30)).await.unwrap(),
            fi
        );
        let addr = tracker_sending(vec![1, 6, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0]).await;
        let e = get_file_info(addr, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(matches!(e, DiscoveryError::TrackerError { .. }), "{e}");
    }
}
