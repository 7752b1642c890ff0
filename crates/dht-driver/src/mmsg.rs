//! Batched UDP I/O on Linux: `recvmmsg` and `sendmmsg` move many datagrams per system
//! call. Under load a DHT node spends most of its time in per-datagram system calls;
//! batching them is the largest saving left once the node's own work is cheap.
//!
//! The one module of the workspace with `unsafe` code: the two system calls and the
//! views of the buffers the kernel filled. Every block says why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use socket2::SockAddr;

/// Datagrams moved per system call at most.
pub const BATCH: usize = 16;

/// Buffers for one `recvmmsg` call.
pub struct RecvBatch {
    /// One contiguous allocation of `BATCH` slots of `slot` bytes: only the pages that
    /// datagrams land in become resident (a node under light load touches one or two).
    buf: Vec<u8>,
    slot: usize,
    addrs: Vec<libc::sockaddr_storage>,
    lens: Vec<usize>,
}

impl RecvBatch {
    /// Buffers for [`BATCH`] datagrams of `buf_len` bytes each.
    pub fn new(buf_len: usize) -> RecvBatch {
        RecvBatch {
            // Capacity only, never initialised by us: the kernel writes each datagram,
            // and only the bytes it wrote are ever read (see `get`).
            buf: Vec::with_capacity(BATCH * buf_len),
            slot: buf_len,
            addrs: (0..BATCH).map(|_| zeroed_storage()).collect(),
            lens: vec![0; BATCH],
        }
    }

    /// Receives up to [`BATCH`] datagrams without blocking; returns how many. The i-th
    /// is [`RecvBatch::get`]`(i)`. `WouldBlock` when none is waiting.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let slot = self.slot;
        let base = self.buf.as_mut_ptr();
        let mut iovs: Vec<libc::iovec> = (0..BATCH)
            .map(|i| libc::iovec {
                // SAFETY: `buf` has a capacity of BATCH * slot bytes, so slot i starts
                // inside the allocation (or one past it for the last byte, never past).
                iov_base: unsafe { base.add(i * slot) }.cast(),
                iov_len: slot,
            })
            .collect();
        let mut hdrs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .zip(self.addrs.iter_mut())
            .map(|(iov, addr)| {
                let mut h: libc::mmsghdr = zeroed_mmsghdr();
                h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                h.msg_hdr.msg_namelen =
                    std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        // SAFETY: every mmsghdr points at a live iovec (in `iovs`) whose buffer is a live,
        // disjoint slot of `iov_len` bytes (in `self.buf`), and at a live sockaddr_storage (in
        // `self.addrs`) with its true size in msg_namelen; none of them is moved or
        // dropped before the call returns, and `hdrs.len()` is the array's length. The
        // kernel writes only within those bounds.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                hdrs.len() as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        self.lens.iter_mut().for_each(|l| *l = 0);
        for (i, h) in hdrs.iter().take(n).enumerate() {
            self.lens[i] = (h.msg_len as usize).min(slot);
        }
        Ok(n)
    }

    /// The i-th datagram of the last [`RecvBatch::recv`] and its source.
    pub fn get(&self, i: usize) -> Option<(SocketAddr, &[u8])> {
        let storage = self.addrs[i];
        let len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `storage` is a sockaddr_storage the kernel filled (or zeroes), and `len`
        // is its full size, as SockAddr::new requires.
        let addr = unsafe { SockAddr::new(storage, len) };
        if i >= BATCH {
            return None;
        }
        let start = i * self.slot;
        // SAFETY: `start + lens[i]` ≤ BATCH * slot, the capacity of `buf`, and those
        // `lens[i]` bytes were written by the kernel in the last recvmmsg (lens is reset to
        // 0 for slots it did not fill), so they are initialised; `buf` is not mutated
        // while the returned slice (tied to `&self`) lives.
        let data =
            unsafe { std::slice::from_raw_parts(self.buf.as_ptr().add(start), self.lens[i]) };
        Some((addr.as_socket()?, data))
    }
}

/// Sends `msgs` (destination, payload) with as few `sendmmsg` calls as possible, without
/// blocking; returns how many went out (fewer when the socket buffer is full).
pub fn send_batch(fd: RawFd, msgs: &[(SocketAddr, &[u8])]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < msgs.len() {
        let chunk = &msgs[sent..msgs.len().min(sent + BATCH)];
        let addrs: Vec<SockAddr> = chunk.iter().map(|(a, _)| SockAddr::from(*a)).collect();
        let mut iovs: Vec<libc::iovec> = chunk
            .iter()
            .map(|(_, p)| libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            })
            .collect();
        let mut hdrs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .zip(&addrs)
            .map(|(iov, a)| {
                let mut h: libc::mmsghdr = zeroed_mmsghdr();
                h.msg_hdr.msg_name = a.as_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_namelen = a.len();
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        // SAFETY: every mmsghdr points at a live iovec (in `iovs`) over a live payload
        // slice of `iov_len` bytes, and at a live socket address (in `addrs`) with its
        // length; all outlive the call, and the kernel only reads them (sendmmsg).
        let n = unsafe {
            libc::sendmmsg(
                fd,
                hdrs.as_mut_ptr(),
                hdrs.len() as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if sent > 0 && e.kind() == io::ErrorKind::WouldBlock {
                return Ok(sent);
            }
            return Err(e);
        }
        sent += n as usize;
        if (n as usize) < chunk.len() {
            return Ok(sent);
        }
    }
    Ok(sent)
}

fn zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is a C struct of integers and byte arrays, for which
    // the all-zero bit pattern is a valid value.
    unsafe { std::mem::zeroed() }
}

fn zeroed_mmsghdr() -> libc::mmsghdr {
    // SAFETY: mmsghdr is a C struct of integers and raw pointers; all-zero (null
    // pointers, zero lengths) is a valid value, and every pointer used is set after.
    unsafe { std::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn batches_round_trip_on_loopback() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = b.local_addr().unwrap();
        let payloads: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 10 + i as usize]).collect();
        let msgs: Vec<(SocketAddr, &[u8])> = payloads.iter().map(|p| (to, p.as_slice())).collect();
        assert_eq!(send_batch(a.as_raw_fd(), &msgs).unwrap(), 50);
        let mut batch = RecvBatch::new(4096);
        let mut got = Vec::new();
        while got.len() < 50 {
            match batch.recv(b.as_raw_fd()) {
                Ok(n) => {
                    for i in 0..n {
                        let (from, data) = batch.get(i).unwrap();
                        assert_eq!(from, a.local_addr().unwrap());
                        got.push(data.to_vec());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, payloads);
        assert_eq!(
            batch.recv(b.as_raw_fd()).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }
}
