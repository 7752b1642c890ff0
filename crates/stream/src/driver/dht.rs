//! The DHT task: announce the stream's info-hash with our listen port (BEP 5; the
//! announce's get_peers half returns the swarm's peers), then again every interval,
//! handing the peers found to the central task.

use std::net::SocketAddr;
use std::time::Duration;

use swarmlab_bt_wire::InfoHash;
use swarmlab_dht_driver::Dht;
use swarmlab_krpc::Id;
use tokio::sync::mpsc;

pub(super) async fn run(
    dht: Dht,
    info_hash: InfoHash,
    port: u16,
    interval: Duration,
    found: mpsc::Sender<Vec<SocketAddr>>,
) {
    let target = Id(info_hash.0);
    loop {
        match dht.announce(target, Some(port)).await {
            Ok(r) => {
                tracing::info!(
                    peers = r.peers.len(),
                    announced = r.announced,
                    "DHT announce"
                );
                if !r.peers.is_empty() && found.send(r.peers).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!("DHT announce failed: {e}"),
        }
        tokio::time::sleep(interval).await;
    }
}
