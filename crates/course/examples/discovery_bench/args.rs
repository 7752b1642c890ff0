//! The benchmark's command line: a mode and `--name value` options.

use std::net::Ipv4Addr;

use swarmlab_course::size::parse_size;

/// What a run measures, and at what size.
pub struct Args {
    /// `lookups` or `trackerless`.
    pub mode: String,
    /// Nodes of the testnet.
    pub nodes: usize,
    /// Chunks of the file (`lookups`).
    pub chunks: usize,
    /// Size of the file (`trackerless`).
    pub size: u64,
    /// Chunk size (`trackerless`).
    pub chunk_size: u64,
    /// The testnet's first address (node i on first + i).
    pub first: Ipv4Addr,
    /// Charlie's, the publisher's and the peers' addresses start here.
    pub hosts: Ipv4Addr,
}

impl Args {
    /// Reads `std::env::args`.
    pub fn parse() -> Result<Args, Box<dyn std::error::Error>> {
        let mut it = std::env::args().skip(1);
        let mut a = Args {
            mode: it.next().unwrap_or_else(|| "lookups".into()),
            nodes: 1000,
            chunks: 2048,
            size: 32 << 20,
            chunk_size: 512 << 10,
            first: Ipv4Addr::new(127, 170, 0, 1),
            hosts: Ipv4Addr::new(127, 171, 0, 1),
        };
        while let Some(k) = it.next() {
            let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
            match k.as_str() {
                "--nodes" => a.nodes = v.parse()?,
                "--chunks" => a.chunks = v.parse()?,
                "--size" => a.size = parse_size(&v)?,
                "--chunk-size" => a.chunk_size = parse_size(&v)?,
                "--first" => a.first = v.parse()?,
                "--hosts" => a.hosts = v.parse()?,
                _ => return Err(format!("unknown option {k}").into()),
            }
        }
        Ok(a)
    }

    /// Host address `i` (Charlie, the publisher, Alice, Bob…).
    pub fn host(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.hosts) + i)
    }
}
