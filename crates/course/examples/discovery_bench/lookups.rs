//! `lookups`: datagrams for one lookup of the file id versus one per chunk, and for
//! announcing the file id versus every chunk.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use swarmlab_bt_wire::InfoHash;
use swarmlab_course::chunks::sha1;
use swarmlab_course::discovery::{
    DhtOptions, DhtSource, Found, Manifest, PeerSource, Phase, Query, Swarm,
};
use swarmlab_dht::limits::Limits;
use swarmlab_dht::Id;

use crate::args::Args;
use crate::net;

/// One row of the table.
struct Row {
    what: String,
    count: usize,
    out: u64,
    inn: u64,
    secs: f64,
    found: String,
}

fn print(rows: &[Row]) {
    println!(
        "| what | lookups or announces | datagrams sent | datagrams received | time | found |"
    );
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.2} s | {} |",
            r.what, r.count, r.out, r.inn, r.secs, r.found
        );
    }
}

pub async fn run(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let nodes = net::start(a.nodes, a.first).await?;
    let boot = nodes[0].local_addr();
    let file_id = InfoHash(sha1(b"the file id of the benchmark"));
    let chunks: Vec<[u8; 20]> = (0..a.chunks as u32)
        .map(|i| sha1(&i.to_be_bytes()))
        .collect();
    let mut rows = Vec::new();

    // The publisher: a peer's node, with the limits a user gets (500 queries/s out,
    // burst 100): announcing thousands of keys at once is paced by that cap.
    let publisher = net::node(a.host(0), boot, Limits::default()).await?;
    let port = 8001;
    let (o0, i0) = net::datagrams(&publisher).await;
    let t0 = Instant::now();
    let r = publisher.announce(Id(file_id.0), Some(port)).await?;
    let (o1, i1) = net::datagrams(&publisher).await;
    rows.push(Row {
        what: "announce the file id".into(),
        count: 1,
        out: o1 - o0,
        inn: i1 - i0,
        secs: t0.elapsed().as_secs_f64(),
        found: format!("stored on {} nodes", r.announced),
    });
    let t0 = Instant::now();
    let stored: Vec<usize> = stream::iter(chunks.iter().copied())
        .map(|h| {
            let p = publisher.clone();
            async move {
                p.announce(Id(h), Some(port))
                    .await
                    .map_or(0, |r| r.announced)
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let (o2, i2) = net::datagrams(&publisher).await;
    rows.push(Row {
        what: "announce every chunk".into(),
        count: chunks.len(),
        out: o2 - o1,
        inn: i2 - i1,
        secs: t0.elapsed().as_secs_f64(),
        found: format!(
            "{} chunks stored on ≥ 1 node",
            stored.iter().filter(|&&n| n > 0).count()
        ),
    });

    // Charlie: the chain's DHT source, a read-only node with the defaults.
    let mut dht = DhtSource::new(DhtOptions::new(
        std::net::SocketAddr::from((a.host(1), 0)),
        vec![boot.to_string()],
    ));
    let manifest = Manifest {
        filename: "bench.bin".into(),
        chunks: chunks.clone(),
    };
    let mut by_id = Swarm::default();
    by_id.add(Found {
        file_id: Some(file_id),
        manifest: Some(manifest.clone()),
        ..Found::default()
    });
    let mut by_chunk = Swarm::default();
    by_chunk.add(Found {
        manifest: Some(manifest),
        ..Found::default()
    });
    for (what, swarm) in [
        ("bootstrap + look up the file id", &by_id),
        ("look up the file id", &by_id),
        ("look up every chunk", &by_chunk),
    ] {
        let before = dht.cost();
        let (o0, i0) = match dht.node() {
            Some(d) => net::datagrams(d).await,
            None => (0, 0),
        };
        let t0 = Instant::now();
        let f = dht.discover(Query::new(swarm, Phase::Start)).await?;
        let secs = t0.elapsed().as_secs_f64();
        let (o1, i1) = match dht.node() {
            Some(d) => net::datagrams(d).await,
            None => (0, 0),
        };
        let holders: std::collections::HashSet<_> = f.peers.iter().map(|(h, _)| *h).collect();
        rows.push(Row {
            what: what.into(),
            count: if swarm.file_id.is_some() { 1 } else { a.chunks },
            out: o1 - o0,
            inn: i1 - i0,
            secs,
            found: if swarm.file_id.is_some() {
                format!("{} peer(s)", f.file_peers.len())
            } else {
                format!("{} of {} chunks have a holder", holders.len(), a.chunks)
            },
        });
        eprintln!(
            "{what}: {} datagrams by the source's count ({})",
            dht.cost().datagrams - before.datagrams,
            f.detail
        );
    }
    dht.close().await;
    print(&rows);
    publisher.shutdown().await;
    for n in &nodes {
        n.shutdown().await;
    }
    Ok(())
}
