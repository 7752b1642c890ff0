//! HTTP(S) trackers (BEP 3, compact peers of BEP 23) through `reqwest` (rustls, no
//! OpenSSL), with the body capped at [`MAX_HTTP_BODY`]: a declared length over the
//! cap is refused before reading, and a body without one is cut off as soon as it
//! passes the cap.

use std::net::IpAddr;
use std::time::Duration;
use swarmlab_bt_wire::tracker::{self, Announce, AnnounceResponse};

use super::TrackerOptions;
use crate::error::AnnounceError;

/// Largest HTTP tracker response body read.
pub const MAX_HTTP_BODY: usize = 2 << 20;

/// A reqwest client for tracker queries.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, AnnounceError> {
    http_client_from(timeout, None)
}

/// A reqwest client for tracker queries whose connections leave from `local`
/// (see [`super::TrackerOptions::local_ip`]).
pub fn http_client_from(
    timeout: Duration,
    local: Option<IpAddr>,
) -> Result<reqwest::Client, AnnounceError> {
    Ok(reqwest::Client::builder()
        .local_address(local)
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("swarmlab/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()?)
}

pub(crate) async fn announce(
    url: &str,
    announce: &Announce,
    opts: &TrackerOptions,
    client: &reqwest::Client,
) -> Result<AnnounceResponse, AnnounceError> {
    let full = announce.http_url(url);
    let fut = async {
        let mut resp = client.get(&full).send().await?;
        if !resp.status().is_success() {
            return Err(AnnounceError::Status(resp.status()));
        }
        if resp.content_length().unwrap_or(0) > MAX_HTTP_BODY as u64 {
            return Err(AnnounceError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > MAX_HTTP_BODY {
                return Err(AnnounceError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(tracker::parse_http_response(&body)?)
    };
    tokio::time::timeout(opts.http_timeout, fut)
        .await
        .unwrap_or(Err(AnnounceError::Timeout(1)))
}
