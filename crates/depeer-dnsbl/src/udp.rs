//! UDP packets in batches: up to [`BATCH`] datagrams received with one
//! recvmmsg(2) and their responses sent with one sendmmsg(2) (Linux), so
//! that under load a DNSBL server pays two system calls per batch instead
//! of two per query: the lookup is a binary search, the system calls are
//! most of the work (docs/dnsbl.md has the measurements). Elsewhere one
//! `recv_from` and one `send_to` per packet.
//!
//! The socket is blocking with a read timeout (the worker thread checks
//! whether to stop between batches). The only `unsafe` code of the crate
//! lives in the Linux half, around the two calls: every pointer handed to
//! the kernel points into this batch's own buffers, which outlive the call
//! (src/mem.rs has the other two calls).
//!
//! Invariants: `0 <= len <= BATCH`; `rx_len[i] <= RX_BUF`; a slot's peer
//! address is the one its packet came from.

use std::net::{IpAddr, SocketAddr, UdpSocket};

/// Datagrams per system call.
pub(crate) const BATCH: usize = 32;
/// Receive buffer per datagram: larger than any query worth answering
/// (a longer datagram is cut and answered FORMERR or dropped).
const RX_BUF: usize = 2048;

/// Receive and send buffers for one worker thread.
pub(crate) struct Batch {
    io: sys::Io,
    tx: Vec<Vec<u8>>,
    send: [bool; BATCH],
    len: usize,
}

impl Batch {
    pub(crate) fn new() -> Self {
        Self {
            io: sys::Io::new(),
            tx: (0..BATCH).map(|_| Vec::with_capacity(1500)).collect(),
            send: [false; BATCH],
            len: 0,
        }
    }

    /// Datagrams held after the last [`Self::recv`].
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slot `i`: the packet received, the buffer for its response, and
    /// whether to send it (false until set).
    pub(crate) fn slot(&mut self, i: usize) -> Option<(&[u8], &mut Vec<u8>, &mut bool)> {
        let n = *self.io.rx_len.get(i)?;
        let packet = self.io.rx.get(i)?.get(..n)?;
        Some((packet, self.tx.get_mut(i)?, self.send.get_mut(i)?))
    }

    /// The packet of slot `i`.
    pub(crate) fn packet(&self, i: usize) -> Option<&[u8]> {
        let n = *self.io.rx_len.get(i)?;
        self.io.rx.get(i)?.get(..n)
    }

    /// The sender of slot `i` (for rate limiting).
    pub(crate) fn peer(&self, i: usize) -> Option<IpAddr> {
        self.io.ip(i)
    }

    /// Waits for at least one datagram (or the socket's read timeout) and
    /// takes every one already queued, up to [`BATCH`].
    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> std::io::Result<usize> {
        self.len = 0;
        self.send = [false; BATCH];
        self.len = self.io.recv(sock)?.min(BATCH);
        Ok(self.len)
    }

    /// Sends the responses marked to send; a datagram the kernel refuses
    /// (client gone, buffer full) is lost, as UDP allows: clients retry.
    pub(crate) fn send(&mut self, sock: &UdpSocket) {
        self.io.send(sock, &self.tx, &self.send, self.len);
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
    use std::os::fd::AsRawFd;

    use super::{BATCH, RX_BUF};

    /// Receive buffers and the peer addresses as the kernel writes them.
    pub(super) struct Io {
        pub(super) rx: Vec<[u8; RX_BUF]>,
        pub(super) rx_len: [usize; BATCH],
        names: [libc::sockaddr_storage; BATCH],
        lens: [libc::socklen_t; BATCH],
    }

    fn zeroed_hdr() -> libc::mmsghdr {
        // SAFETY: mmsghdr is a plain C struct of integers and raw pointers,
        // for which all-zero bytes are a valid (empty) value.
        unsafe { std::mem::zeroed() }
    }

    const NAME_LEN: libc::socklen_t = size_of::<libc::sockaddr_storage>() as libc::socklen_t;

    /// Headers and their buffer descriptors for one call.
    fn headers() -> ([libc::mmsghdr; BATCH], [libc::iovec; BATCH]) {
        let iov = std::array::from_fn(|_| libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        });
        (std::array::from_fn(|_| zeroed_hdr()), iov)
    }

    /// Points header `h` at one buffer (described by `v`) and one peer
    /// address; `v` and the pointees must outlive the system call.
    fn point(
        h: &mut libc::mmsghdr,
        v: &mut libc::iovec,
        buf: (*mut libc::c_void, usize),
        name: (&mut libc::sockaddr_storage, libc::socklen_t),
    ) {
        (v.iov_base, v.iov_len) = buf;
        h.msg_hdr.msg_name = std::ptr::from_mut(name.0).cast();
        h.msg_hdr.msg_namelen = name.1;
        h.msg_hdr.msg_iov = std::ptr::from_mut(v);
        h.msg_hdr.msg_iovlen = 1;
    }

    impl Io {
        pub(super) fn new() -> Self {
            Self {
                rx: vec![[0u8; RX_BUF]; BATCH],
                rx_len: [0; BATCH],
                // SAFETY: sockaddr_storage is plain bytes; zero is AF_UNSPEC.
                names: unsafe { std::mem::zeroed() },
                lens: [0; BATCH],
            }
        }

        pub(super) fn recv(&mut self, sock: &UdpSocket) -> std::io::Result<usize> {
            let (rx, rx_len) = (&mut self.rx, &mut self.rx_len);
            let (mut hdrs, mut iov) = headers();
            let slots = iov.iter_mut().zip(rx.iter_mut()).zip(self.names.iter_mut());
            for (h, ((v, buf), name)) in hdrs.iter_mut().zip(slots) {
                point(h, v, (buf.as_mut_ptr().cast(), RX_BUF), (name, NAME_LEN));
            }
            let vlen = u32::try_from(rx.len().min(BATCH)).unwrap_or(0);
            // SAFETY: `hdrs` holds `vlen` headers whose name and iovec
            // pointers point into `self.names`, `iov` and `rx`, all alive
            // and not otherwise borrowed for the duration of the call; the
            // kernel writes at most `iov_len` bytes and `msg_namelen` bytes
            // through them. A null timeout waits as the socket says.
            let n = unsafe {
                libc::recvmmsg(
                    sock.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    vlen,
                    libc::MSG_WAITFORONE as _,
                    std::ptr::null_mut(),
                )
            };
            let n = usize::try_from(n).map_err(|_| std::io::Error::last_os_error())?;
            for ((h, len), nl) in hdrs
                .iter()
                .zip(rx_len.iter_mut())
                .zip(self.lens.iter_mut())
                .take(n)
            {
                *len = (h.msg_len as usize).min(RX_BUF);
                *nl = h.msg_hdr.msg_namelen;
            }
            Ok(n)
        }

        pub(super) fn ip(&self, i: usize) -> Option<IpAddr> {
            let name = self.names.get(i)?;
            let len = usize::try_from(*self.lens.get(i)?).ok()?;
            match i32::from(name.ss_family) {
                libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
                    // SAFETY: the kernel wrote a sockaddr_in here (family
                    // AF_INET, length checked); sockaddr_storage is large
                    // enough and suitably aligned for any sockaddr.
                    let sin = unsafe { &*std::ptr::from_ref(name).cast::<libc::sockaddr_in>() };
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))))
                }
                libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
                    // SAFETY: as above, for a sockaddr_in6.
                    let sin6 = unsafe { &*std::ptr::from_ref(name).cast::<libc::sockaddr_in6>() };
                    Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
                }
                _ => None,
            }
        }

        pub(super) fn send(&mut self, sock: &UdpSocket, tx: &[Vec<u8>], send: &[bool], n: usize) {
            let (mut hdrs, mut iov) = headers();
            let mut k = 0usize;
            let chosen = tx
                .iter()
                .zip(send)
                .zip(self.names.iter_mut().zip(self.lens.iter()))
                .take(n)
                .filter(|((_, s), _)| **s);
            for (((buf, _), (name, &nl)), (h, v)) in chosen.zip(hdrs.iter_mut().zip(iov.iter_mut()))
            {
                // sendmsg only reads through iov_base.
                point(
                    h,
                    v,
                    (buf.as_ptr().cast_mut().cast(), buf.len()),
                    (name, nl),
                );
                k += 1;
            }
            let mut done = 0usize;
            while done < k {
                let Some(rest) = hdrs.get_mut(done..k) else {
                    return;
                };
                let vlen = u32::try_from(rest.len()).unwrap_or(0);
                // SAFETY: `rest` holds `vlen` headers whose pointers point
                // into `self.names`, `iov` and the response buffers in `tx`,
                // all alive and unchanged during the call; the kernel only
                // reads through them.
                let sent = unsafe { libc::sendmmsg(sock.as_raw_fd(), rest.as_mut_ptr(), vlen, 0) };
                match usize::try_from(sent) {
                    Ok(0) | Err(_) => done += 1, // this one is lost; go on with the next
                    Ok(s) => done += s,
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::net::{IpAddr, SocketAddr, UdpSocket};

    use super::{BATCH, RX_BUF};

    /// One datagram at a time, with `recv_from` and `send_to`.
    pub(super) struct Io {
        pub(super) rx: Vec<[u8; RX_BUF]>,
        pub(super) rx_len: [usize; BATCH],
        from: Option<SocketAddr>,
    }

    impl Io {
        pub(super) fn new() -> Self {
            let rx = vec![[0u8; RX_BUF]; 1];
            Self {
                rx,
                rx_len: [0; BATCH],
                from: None,
            }
        }

        pub(super) fn recv(&mut self, sock: &UdpSocket) -> std::io::Result<usize> {
            let Some(buf) = self.rx.first_mut() else {
                return Ok(0);
            };
            let (n, from) = sock.recv_from(buf)?;
            self.rx_len = [0; BATCH];
            if let Some(len) = self.rx_len.first_mut() {
                *len = n;
            }
            self.from = Some(from);
            Ok(1)
        }

        pub(super) fn ip(&self, _: usize) -> Option<IpAddr> {
            self.from.map(|a| a.ip())
        }

        pub(super) fn send(&mut self, sock: &UdpSocket, tx: &[Vec<u8>], send: &[bool], _: usize) {
            if let (Some(true), Some(buf), Some(to)) = (send.first(), tx.first(), self.from) {
                let _ = sock.send_to(buf, to);
            }
        }
    }
}

/// A UDP socket bound to `addr` with SO_REUSEPORT, so that several sockets
/// (one per worker thread) share the address and the kernel spreads the
/// clients over them.
pub(crate) fn bind_reuseport(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    #[cfg(unix)]
    s.set_reuse_port(true)?;
    // Room for a burst while the thread is not scheduled (the kernel caps
    // it at net.core.rmem_max; a refusal keeps the default).
    let _ = s.set_recv_buffer_size(1 << 20);
    s.bind(&addr.into())?;
    Ok(s.into())
}
