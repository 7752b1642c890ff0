//! The nodes under test, ours and `mainline`'s, behind one trait; filling a table with
//! fake nodes.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use swarmlab_dht::limits::Limits;
use swarmlab_dht::node::NodeConfig;
use swarmlab_dht_bench::{ids_by_distance, Fillers};
use swarmlab_dht_driver::{Dht, DriverConfig};

/// Fake nodes introduced to fill a table.
pub const FILL: usize = 240;

/// Our node's configuration: `limits`, a random seed.
pub fn our_config(limits: Limits) -> NodeConfig {
    NodeConfig {
        limits,
        seed: rand::random(),
        ..NodeConfig::default()
    }
}

/// One worker thread: the node's task runs on one thread, like mainline's actor thread.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A node under test, ours or theirs.
pub trait Subject {
    fn name(&self) -> &'static str;
    fn addr(&self) -> SocketAddr;
    fn id(&self) -> [u8; 20];
    fn table_len(&self) -> usize;
    /// Fake-node ids that fill this implementation's table.
    fn fill_ids(&self) -> Vec<[u8; 20]>;
}

/// Our node, on its own runtime.
pub struct Ours {
    pub rt: tokio::runtime::Runtime,
    pub dht: Dht,
}

impl Ours {
    pub fn start(addr: SocketAddr, limits: Limits) -> Ours {
        let rt = runtime();
        let mut cfg = DriverConfig::new(addr);
        cfg.node = our_config(limits);
        let dht = rt.block_on(Dht::start(cfg)).expect("start our node");
        Ours { rt, dht }
    }
}

impl Subject for Ours {
    fn name(&self) -> &'static str {
        "ours"
    }
    fn addr(&self) -> SocketAddr {
        self.dht.local_addr()
    }
    fn id(&self) -> [u8; 20] {
        self.dht.id().0
    }
    fn table_len(&self) -> usize {
        self.rt
            .block_on(self.dht.snapshot())
            .map(|s| s.table_nodes)
            .unwrap_or(0)
    }
    fn fill_ids(&self) -> Vec<[u8; 20]> {
        // BEP 5 buckets of 8: one full bucket per shared-prefix length.
        ids_by_distance(&self.id(), FILL / 8, 8, &mut rand::thread_rng())
    }
}

/// A `mainline` node (server mode).
pub struct Theirs {
    pub dht: mainline::Dht,
    pub addr: SocketAddr,
    pub id: [u8; 20],
}

impl Theirs {
    pub fn start(ip: Ipv4Addr, port: u16, bootstrap: Option<&[String]>) -> Theirs {
        let mut b = mainline::Dht::builder();
        b.server_mode().bind_address(ip).port(port);
        match bootstrap {
            Some(bs) => b.bootstrap(bs),
            None => b.no_bootstrap(),
        };
        let dht = b.build().expect("start a mainline node");
        let info = dht.info();
        Theirs {
            addr: SocketAddr::V4(info.local_addr()),
            id: *info.id().as_bytes(),
            dht,
        }
    }
}

impl Subject for Theirs {
    fn name(&self) -> &'static str {
        "mainline"
    }
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn id(&self) -> [u8; 20] {
        self.id
    }
    fn table_len(&self) -> usize {
        self.dht.to_bootstrap().len()
    }
    fn fill_ids(&self) -> Vec<[u8; 20]> {
        // mainline's buckets: one per XOR distance, 20 nodes each.
        ids_by_distance(&self.id(), FILL / 20, 20, &mut rand::thread_rng())
    }
}

/// Introduces fake nodes until the table holds `want` (or 10 s pass).
pub fn fill(s: &dyn Subject, first: Ipv4Addr, want: usize) -> (Fillers, usize) {
    let f = Fillers::start(first, 0, s.fill_ids()).expect("bind the fake nodes");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    while Instant::now() < deadline {
        f.introduce(s.addr()).expect("introduce");
        std::thread::sleep(Duration::from_millis(300));
        n = s.table_len();
        if n >= want {
            break;
        }
    }
    (f, n)
}
