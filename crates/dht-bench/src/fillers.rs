//! Fake nodes that fill a node's routing table: one socket each, on distinct 127.x
//! addresses, ids spread over the distance classes of the node's id.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rand::Rng;

use crate::host::ip_range;
use crate::wire::{encode_query, encode_response, top_t_y};
use crate::Kind;

/// Ids at increasing XOR distance classes from `center`: `per` ids whose first
/// differing bit from `center` is bit `d`, for `d` in `0..classes`.
pub fn ids_by_distance<R: Rng>(
    center: &[u8; 20],
    classes: usize,
    per: usize,
    rng: &mut R,
) -> Vec<[u8; 20]> {
    let mut out = Vec::with_capacity(classes * per);
    for d in 0..classes.min(160) {
        for _ in 0..per {
            let mut id = *center;
            id[d / 8] ^= 0x80 >> (d % 8);
            for bit in d + 1..160 {
                if rng.gen::<bool>() {
                    id[bit / 8] ^= 0x80 >> (bit % 8);
                }
            }
            out.push(id);
        }
    }
    out
}

/// Fake nodes that introduce themselves to a node and answer its queries.
pub struct Fillers {
    /// The fake nodes' addresses.
    pub addrs: Vec<SocketAddr>,
    /// Their ids, in the same order.
    pub ids: Vec<[u8; 20]>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
    sockets: Vec<Arc<UdpSocket>>,
}

impl Fillers {
    /// One socket per id, on `first`, `first + 1`, … port `port`.
    pub fn start(first: Ipv4Addr, port: u16, ids: Vec<[u8; 20]>) -> io::Result<Fillers> {
        let mut sockets = Vec::new();
        let mut addrs = Vec::new();
        for ip in ip_range(first, ids.len()) {
            let s = UdpSocket::bind(SocketAddr::new(ip, port))?;
            s.set_nonblocking(true)?;
            addrs.push(s.local_addr()?);
            sockets.push(Arc::new(s));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, sockets, ids) = (stop.clone(), sockets.clone(), ids.clone());
            std::thread::spawn(move || serve_fillers(&sockets, &ids, &stop))
        };
        Ok(Fillers {
            addrs,
            ids,
            stop,
            thread: Some(thread),
            sockets,
        })
    }

    /// Every filler sends `to` a find_node for its own id.
    pub fn introduce(&self, to: SocketAddr) -> io::Result<()> {
        let mut out = Vec::new();
        for (i, (s, id)) in self.sockets.iter().zip(&self.ids).enumerate() {
            encode_query(&mut out, Kind::FindNode, id, id, i as u32, false);
            s.send_to(&out, to)?;
        }
        Ok(())
    }

    /// Stops answering; returns how many queries the fillers answered.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Fillers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_fillers(sockets: &[Arc<UdpSocket>], ids: &[[u8; 20]], stop: &AtomicBool) -> u64 {
    let mut buf = [0u8; 2048];
    let mut out = Vec::new();
    let mut answered = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut idle = true;
        for (s, id) in sockets.iter().zip(ids) {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                idle = false;
                if let Some((t, b'q')) = top_t_y(&buf[..n]) {
                    encode_response(&mut out, id, t);
                    let _ = s.send_to(&out, from);
                    answered += 1;
                }
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    answered
}
