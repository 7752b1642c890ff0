//! The metrics endpoint: a tiny HTTP/1.1 server on tokio that answers `GET /metrics`
//! with [`render`](crate::render_metrics) of a fresh snapshot, and closes each
//! connection after one answer.
//!
//! Every request is hostile until read: at most [`MAX_REQUEST`] bytes of headers, read
//! within [`READ_TIMEOUT`], at most [`MAX_CONNECTIONS`] connections served at once
//! (further ones wait in the kernel's backlog). Anything but `GET /metrics` gets 404
//! (another path) or 405 (another method); garbage gets 400.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::{Dht, DriverError};

/// The longest request head read (request line and headers).
pub const MAX_REQUEST: usize = 8 * 1024;
/// How long a client has to send its request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;

/// Binds `addr` and serves the metrics of `dht` there until the node stops (or the
/// returned task is aborted). Returns the bound address (port 0 picks one) and the
/// server's task.
pub async fn serve_metrics(
    addr: SocketAddr,
    dht: Dht,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), DriverError> {
    let fail = |source| DriverError::MetricsBind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(fail)?;
    let local = listener.local_addr().map_err(fail)?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (stream, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!("metrics accept: {e}");
                    continue;
                }
            };
            let dht = dht.clone();
            tokio::spawn(async move {
                if let Err(e) = answer(stream, &dht).await {
                    tracing::debug!("metrics request from {peer}: {e}");
                }
                drop(permit);
            });
        }
    });
    Ok((local, task))
}

/// What the request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Metrics,
    NotFound,
    NotAllowed,
    Bad,
}

/// Why no request head was read.
#[derive(Debug, PartialEq, Eq)]
enum NoHead {
    /// The client closed before the blank line.
    Closed,
    /// Over [`MAX_REQUEST`] bytes without a blank line.
    TooLong,
}

/// Reads the request head: up to the blank line, at most [`MAX_REQUEST`] bytes.
async fn read_head(
    stream: &mut (impl AsyncRead + Unpin),
) -> std::io::Result<Result<Vec<u8>, NoHead>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(Err(NoHead::Closed));
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return Ok(Ok(head));
        }
        if head.len() > MAX_REQUEST {
            return Ok(Err(NoHead::TooLong));
        }
    }
}

fn parse(head: &[u8]) -> Request {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let (Some(method), Some(path), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return Request::Bad;
    };
    if !version.starts_with("HTTP/1.") {
        return Request::Bad;
    }
    if method != "GET" && method != "HEAD" {
        return Request::NotAllowed;
    }
    match path.split('?').next() {
        Some("/metrics") => Request::Metrics,
        _ => Request::NotFound,
    }
}

async fn answer(mut stream: TcpStream, dht: &Dht) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(r) => r?.ok(),
        Err(_) => None,
    };
    let (status, body) = match head.as_deref().map(parse).unwrap_or(Request::Bad) {
        Request::Metrics => match dht.snapshot().await {
            Ok(s) => ("200 OK", crate::render_metrics(&s)),
            Err(_) => (
                "503 Service Unavailable",
                "the node has stopped\n".to_owned(),
            ),
        },
        Request::NotFound => ("404 Not Found", "metrics are at /metrics\n".to_owned()),
        Request::NotAllowed => ("405 Method Not Allowed", "GET /metrics\n".to_owned()),
        Request::Bad => ("400 Bad Request", "GET /metrics\n".to_owned()),
    };
    let is_head = head.as_deref().is_some_and(|h| h.starts_with(b"HEAD "));
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !is_head {
        out.extend_from_slice(body.as_bytes());
    }
    stream.write_all(&out).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_head_that_never_ends_is_cut_at_the_cap() {
        let endless = vec![b'a'; 100 * MAX_REQUEST];
        let mut input = &endless[..];
        assert_eq!(read_head(&mut input).await.unwrap(), Err(NoHead::TooLong));
        assert!(input.len() >= 98 * MAX_REQUEST, "read far past the cap");
        let mut input = &b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"[..];
        assert!(read_head(&mut input).await.unwrap().is_ok());
        let mut input = &b"GET /metr"[..];
        assert_eq!(read_head(&mut input).await.unwrap(), Err(NoHead::Closed));
    }

    #[test]
    fn request_lines() {
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\n\r\n"), Request::Metrics);
        assert_eq!(
            parse(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Request::Metrics
        );
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n"), Request::NotFound);
        assert_eq!(
            parse(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Request::NotAllowed
        );
        assert_eq!(parse(b"GET /metrics\r\n\r\n"), Request::Bad);
        assert_eq!(parse(b"\xff\xfe\r\n\r\n"), Request::Bad);
        assert_eq!(parse(b""), Request::Bad);
    }
}
