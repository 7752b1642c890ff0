//! `swarmlab get`: fetches a BEP 44 item from the DHT, by its target (immutable) or by
//! its public key and salt (mutable), checked before it is shown.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use swarmlab_krpc::bencoded_len;

use super::put::client;
use super::{parse_id, DhtOpts};
use crate::output::emit;

/// Arguments of `swarmlab get`.
#[derive(Args)]
pub struct GetArgs {
    /// The item's target (40 hex digits): the SHA-1 of an immutable value, or of a
    /// mutable item's key and salt.
    #[arg(required_unless_present = "key", conflicts_with = "key")]
    pub target: Option<String>,
    /// A mutable item's public key (64 hex digits), as `put` prints it.
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
    /// The salt of the mutable item.
    #[arg(long)]
    pub salt: Option<String>,
    /// Options shared by the DHT commands.
    #[command(flatten)]
    pub dht: DhtOpts,
    /// Print the item as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The value for a reader: a bencoded string's text when it is UTF-8, else the bencode.
pub fn show(v: &[u8]) -> String {
    if let Some(colon) = v.iter().position(|&b| b == b':') {
        if v[0].is_ascii_digit() && bencoded_len(v) == Some(v.len()) {
            if let Ok(s) = std::str::from_utf8(&v[colon + 1..]) {
                return s.to_owned();
            }
        }
    }
    String::from_utf8_lossy(v).into_owned()
}

/// Runs `swarmlab get`.
pub async fn run(a: GetArgs) -> Result<ExitCode> {
    let salt = a.salt.clone().unwrap_or_default().into_bytes();
    let target = match (&a.target, &a.key) {
        (Some(t), _) => parse_id(t)?,
        (None, Some(k)) => {
            let k: [u8; 32] = hex::decode(k)
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{k:?} is not a public key (64 hex digits)"))?;
            swarmlab_dht::bep44::mutable_target(&k, &salt)
        }
        (None, None) => bail!("give a target or --key"),
    };
    let dht = client(&a.dht).await?;
    let r = dht.get(target, salt).await?;
    dht.shutdown().await;
    let Some(item) = &r.item else {
        if a.json {
            emit(
                &(serde_json::to_string_pretty(&serde_json::json!({
                    "target": target, "item": null, "messages": r.messages,
                }))? + "\n"),
            );
        } else {
            emit(&format!("{target}: not found ({} messages)\n", r.messages));
        }
        return Ok(ExitCode::FAILURE);
    };
    if a.json {
        let out = serde_json::json!({
            "target": target,
            "item": item,
            "value": show(&item.v),
            "messages": r.messages,
            "elapsed_ms": r.elapsed_ms,
        });
        emit(&(serde_json::to_string_pretty(&out)? + "\n"));
    } else {
        let mut o = format!("{}\n", show(&item.v));
        if let Some(m) = &item.mutable {
            o += &format!("seq {} key {}\n", m.seq, hex::encode(m.k));
        }
        emit(&o);
    }
    Ok(ExitCode::SUCCESS)
}
