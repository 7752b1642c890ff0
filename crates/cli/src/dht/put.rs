//! `swarmlab put`: stores a BEP 44 item in the DHT, immutable, or mutable with an
//! ed25519 key (the next sequence number found by a get first).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use swarmlab_dht::bep44::Item;
use swarmlab_dht_driver::Dht;

use super::{key, DhtOpts};
use crate::output::emit;

/// Arguments of `swarmlab put`.
#[derive(Args)]
pub struct PutArgs {
    /// The value: stored as a bencoded string (with --bencoded: as the bencode given).
    pub value: String,
    /// The value is bencode already (e.g. 'd3:fooi42ee').
    #[arg(long)]
    pub bencoded: bool,
    /// A mutable item signed with the ed25519 key in this file (created when missing).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The salt of a mutable item (part of its key; at most 64 bytes).
    #[arg(long, requires = "key")]
    pub salt: Option<String>,
    /// The sequence number (default: one more than the newest found, or 1).
    #[arg(long, requires = "key")]
    pub seq: Option<i64>,
    /// Store only if the current sequence number is this one (compare-and-swap).
    #[arg(long, requires = "key")]
    pub cas: Option<i64>,
    /// Options shared by the DHT commands.
    #[command(flatten)]
    pub dht: DhtOpts,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The value's bytes as stored: bencode.
pub fn value_bytes(value: &str, bencoded: bool) -> Vec<u8> {
    if bencoded {
        value.as_bytes().to_vec()
    } else {
        format!("{}:{value}", value.len()).into_bytes()
    }
}

/// A one-shot DHT client: read-only (BEP 43), an ephemeral port unless --bind gives
/// one, joined (or given up on joining) before it returns.
pub async fn client(dht: &DhtOpts) -> Result<Dht> {
    let mut cfg = dht.driver();
    cfg.node.read_only = true;
    if dht.bind.port() == 6881 {
        cfg.bind.set_port(0);
    }
    let d = Dht::start(cfg).await?;
    // The lookups start from the routing table, or from the bootstrap nodes once their
    // names resolved.
    d.wait_for_nodes(1, Duration::from_secs(10)).await?;
    Ok(d)
}

/// Runs `swarmlab put`.
pub async fn run(a: PutArgs) -> Result<ExitCode> {
    let v = value_bytes(&a.value, a.bencoded);
    let salt = a.salt.clone().unwrap_or_default().into_bytes();
    let dht = client(&a.dht).await?;
    let (item, created) = match &a.key {
        None => (Item::immutable(v).context("cannot put this value")?, false),
        Some(path) => {
            let (k, created) = key::load_or_create(path)?;
            let seq = match a.seq {
                Some(s) => s,
                None => {
                    let target =
                        swarmlab_dht::bep44::mutable_target(&k.verifying_key().to_bytes(), &salt);
                    let found = dht.get(target, salt.clone()).await?;
                    found
                        .item
                        .and_then(|i| i.seq())
                        .map_or(1, |s| s.saturating_add(1))
                }
            };
            let item = Item::sign(&k, v, seq, salt).context("cannot put this value")?;
            (item, created)
        }
    };
    let r = dht.put(item.clone(), a.cas).await?;
    dht.shutdown().await;
    if a.json {
        let out = serde_json::json!({
            "item": item,
            "stored": r.announced,
            "key_created": created,
            "messages": r.messages,
            "elapsed_ms": r.elapsed_ms,
            "errors": r.trace.iter().filter_map(|t| match &t.outcome {
                swarmlab_dht::lookup::Outcome::Error { code, message } =>
                    Some(serde_json::json!({"node": t.node, "code": code, "message": message})),
                _ => None,
            }).collect::<Vec<_>>(),
        });
        emit(&(serde_json::to_string_pretty(&out)? + "\n"));
    } else {
        let mut o = format!("target {}\n", item.target());
        if let Some(m) = &item.mutable {
            o += &format!(
                "key {}{}\nseq {}\n",
                hex::encode(m.k),
                if created { " (new)" } else { "" },
                m.seq
            );
        }
        o += &format!(
            "stored on {} nodes ({} messages, {:.0} ms)\n",
            r.announced, r.messages, r.elapsed_ms
        );
        emit(&o);
    }
    if r.announced == 0 {
        bail!("no node stored the item");
    }
    Ok(ExitCode::SUCCESS)
}
