//! The UDP and TCP server: binds every `--listen` address on both
//! transports, answers from zones held behind an [`ArcSwap`], reloads them
//! on SIGHUP (or [`Server::reload`]) by building new zones off the query
//! path and swapping the pointer: a query in flight keeps the zones it
//! started with, so a reload never drops, blocks or mixes a query.
//!
//! Threads: UDP is served by `threads` OS threads per address, each with
//! its own socket bound with SO_REUSEPORT (the kernel spreads clients over
//! them) and receiving and sending in batches (src/udp.rs): no async
//! machinery on the hot path, no lock, no allocation per query. TCP runs on
//! a tokio runtime with `threads` workers, one task per connection
//! (RFC 7766: several queries per connection, 10 s idle timeout, at most
//! 256 connections at once). Counters are added once per batch.

use std::net::{SocketAddr, TcpListener as StdTcp, UdpSocket as StdUdp};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::error::DnsblError;
use crate::mem::release_free_memory;
use crate::rrl::{Rrl, RrlConfig, RrlVerdict};
use crate::udp::{Batch, bind_reuseport};
use crate::wire::Transport;
use crate::zone::{LoadOptions, ZoneSpec, Zones};
use crate::{Handled, handle};

/// TCP connections served at once.
const MAX_TCP: usize = 256;
/// Idle time before a TCP connection is closed (RFC 7766 6.2.3 suggests
/// seconds, not minutes).
const TCP_IDLE: Duration = Duration::from_secs(10);
/// How often an idle UDP worker checks whether to stop.
const UDP_POLL: Duration = Duration::from_millis(100);

/// Server settings (what `depeer serve dnsbl` parses its flags into).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Addresses to listen on, UDP and TCP each (default 127.0.0.1:5353).
    pub listen: Vec<SocketAddr>,
    /// Zones to serve.
    pub zones: Vec<ZoneSpec>,
    /// How to load them.
    pub load: LoadOptions,
    /// Response rate limiting (off unless `rate > 0`).
    pub rrl: RrlConfig,
    /// Worker threads (0: one per CPU).
    pub threads: usize,
    /// Run before every reload, off the query path (`depeer serve dnsbl
    /// --data` rewrites its zone files from the dataset there); an error
    /// keeps the old zones.
    pub before_reload: Option<ReloadHook>,
}

/// A function run before each reload; its error is the reload's.
#[derive(Clone)]
pub struct ReloadHook(pub Arc<dyn Fn() -> Result<(), String> + Send + Sync>);

impl std::fmt::Debug for ReloadHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReloadHook")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 5353))],
            zones: Vec::new(),
            load: LoadOptions::default(),
            rrl: RrlConfig::default(),
            threads: 0,
            before_reload: None,
        }
    }
}

/// Counters, readable while the server runs.
#[derive(Debug, Default)]
pub struct Stats {
    /// Packets received (UDP datagrams and TCP messages).
    pub received: AtomicU64,
    /// Responses with RCODE NOERROR.
    pub noerror: AtomicU64,
    /// Responses with RCODE NXDOMAIN.
    pub nxdomain: AtomicU64,
    /// REFUSED responses (outside the zones, other classes).
    pub refused: AtomicU64,
    /// FORMERR responses (malformed queries).
    pub formerr: AtomicU64,
    /// Other RCODEs (NOTIMP, BADVERS).
    pub other: AtomicU64,
    /// Packets dropped unanswered (too short, or responses).
    pub dropped: AtomicU64,
    /// Responses dropped by RRL.
    pub rrl_dropped: AtomicU64,
    /// Responses sent truncated by RRL.
    pub rrl_slipped: AtomicU64,
    /// Queries received over TCP.
    pub tcp: AtomicU64,
    /// Successful reloads.
    pub reloads: AtomicU64,
    /// Failed reloads (the old zones stay).
    pub reload_failures: AtomicU64,
}

impl Stats {
    fn count(&self, h: Handled) {
        let mut t = Tally::default();
        t.count(h);
        t.flush(self);
    }
}

/// Counters of one UDP batch, added to [`Stats`] at its end (one atomic
/// add per counter and batch instead of per query: the worker threads do
/// not fight over the counters' cache line).
#[derive(Default)]
struct Tally {
    received: u64,
    by_kind: [u64; 6],
    rrl_dropped: u64,
    rrl_slipped: u64,
}

impl Tally {
    fn count(&mut self, h: Handled) {
        let k = match h {
            Handled::Answered(0) => 0,
            Handled::Answered(3) => 1,
            Handled::Answered(5) => 2,
            Handled::Answered(_) => 3,
            Handled::FormErr => 4,
            Handled::Dropped => 5,
        };
        if let Some(c) = self.by_kind.get_mut(k) {
            *c += 1;
        }
    }

    fn flush(&self, s: &Stats) {
        let targets = [
            &s.noerror,
            &s.nxdomain,
            &s.refused,
            &s.other,
            &s.formerr,
            &s.dropped,
        ];
        for (c, &v) in targets.into_iter().zip(&self.by_kind) {
            if v > 0 {
                c.fetch_add(v, Ordering::Relaxed);
            }
        }
        for (c, v) in [
            (&s.received, self.received),
            (&s.rrl_dropped, self.rrl_dropped),
            (&s.rrl_slipped, self.rrl_slipped),
        ] {
            if v > 0 {
                c.fetch_add(v, Ordering::Relaxed);
            }
        }
    }
}

struct Shared {
    zones: ArcSwap<Zones>,
    stats: Stats,
    rrl: Rrl,
    start: Instant,
}

/// A running server.
pub struct Server {
    shared: Arc<Shared>,
    specs: Vec<ZoneSpec>,
    load: LoadOptions,
    before_reload: Option<ReloadHook>,
    udp: Vec<SocketAddr>,
    tcp: Vec<SocketAddr>,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("udp", &self.udp)
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

/// Binds `n` UDP sockets (SO_REUSEPORT), then TCP on the same port (port
/// 0 picks one free for both).
fn bind_pair(addr: SocketAddr, n: usize) -> Result<(Vec<StdUdp>, StdTcp), DnsblError> {
    let bind_err = |source| DnsblError::Bind { addr, source };
    for _ in 0..20 {
        let udp = bind_reuseport(addr).map_err(bind_err)?;
        let actual = udp.local_addr().map_err(bind_err)?;
        match StdTcp::bind(actual) {
            Ok(tcp) => {
                let mut all = vec![udp];
                for _ in 1..n.max(1) {
                    all.push(bind_reuseport(actual).map_err(bind_err)?);
                }
                return Ok((all, tcp));
            }
            Err(e) if addr.port() != 0 => return Err(bind_err(e)),
            Err(_) => continue,
        }
    }
    Err(bind_err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no port free on both UDP and TCP",
    )))
}

impl Server {
    /// Loads the zones, binds every address and starts serving in the
    /// background.
    pub fn start(config: ServerConfig) -> Result<Self, DnsblError> {
        let zones = Zones::load(&config.zones, &config.load)?;
        release_free_memory();
        let threads = if config.threads == 0 {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        } else {
            config.threads
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_io()
            .enable_time()
            .thread_name("dnsbl")
            .build()
            .map_err(|source| DnsblError::Server { source })?;
        let shared = Arc::new(Shared {
            zones: ArcSwap::from_pointee(zones),
            stats: Stats::default(),
            rrl: Rrl::new(config.rrl),
            start: Instant::now(),
        });
        let (mut udp_addrs, mut tcp_addrs) = (Vec::new(), Vec::new());
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        let _guard = runtime.enter();
        let server_err = |source| DnsblError::Server { source };
        for &addr in &config.listen {
            let (udps, tcp) = bind_pair(addr, threads)?;
            tcp.set_nonblocking(true).map_err(server_err)?;
            tcp_addrs.push(tcp.local_addr().map_err(server_err)?);
            if let Some(first) = udps.first() {
                udp_addrs.push(first.local_addr().map_err(server_err)?);
            }
            for udp in udps {
                udp.set_read_timeout(Some(UDP_POLL)).map_err(server_err)?;
                let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
                let w = std::thread::Builder::new()
                    .name("dnsbl-udp".into())
                    .spawn(move || udp_worker(&udp, &shared, &stop))
                    .map_err(server_err)?;
                workers.push(w);
            }
            let tcp = TcpListener::from_std(tcp).map_err(server_err)?;
            runtime.spawn(tcp_acceptor(tcp, Arc::clone(&shared)));
        }
        drop(_guard);
        Ok(Self {
            shared,
            specs: config.zones,
            load: config.load,
            before_reload: config.before_reload,
            udp: udp_addrs,
            tcp: tcp_addrs,
            runtime: Some(runtime),
            stop,
            workers,
        })
    }

    /// Bound UDP addresses (with the ports chosen for port 0).
    pub fn udp_addrs(&self) -> &[SocketAddr] {
        &self.udp
    }

    /// Bound TCP addresses.
    pub fn tcp_addrs(&self) -> &[SocketAddr] {
        &self.tcp
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// The zones being served now.
    pub fn zones(&self) -> Arc<Zones> {
        self.shared.zones.load_full()
    }

    /// Re-reads every zone file and swaps the new zones in. On error the
    /// old zones stay and the error is returned.
    pub fn reload(&self) -> Result<Arc<Zones>, DnsblError> {
        let refreshed = match &self.before_reload {
            Some(hook) => (hook.0)().map_err(|reason| DnsblError::Refresh { reason }),
            None => Ok(()),
        };
        match refreshed.and_then(|()| Zones::load(&self.specs, &self.load)) {
            Ok(z) => {
                let z = Arc::new(z);
                drop(self.shared.zones.swap(Arc::clone(&z)));
                release_free_memory();
                self.shared.stats.reloads.fetch_add(1, Ordering::Relaxed);
                Ok(z)
            }
            Err(e) => {
                self.shared
                    .stats
                    .reload_failures
                    .fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Serves until SIGINT or SIGTERM; SIGHUP reloads the zones.
    pub fn wait_for_signals(&self) -> Result<(), DnsblError> {
        let Some(rt) = &self.runtime else {
            return Ok(());
        };
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let server_err = |source| DnsblError::Server { source };
            let mut hup = signal(SignalKind::hangup()).map_err(server_err)?;
            let mut term = signal(SignalKind::terminate()).map_err(server_err)?;
            let mut int = signal(SignalKind::interrupt()).map_err(server_err)?;
            loop {
                tokio::select! {
                    _ = hup.recv() => {
                        let t = Instant::now();
                        // Loading is CPU work: off the async workers.
                        let r = tokio::task::block_in_place(|| self.reload());
                        match r {
                            Ok(z) => tracing::info!(zones = z.zones().len(), ms = t.elapsed().as_millis() as u64, "zones reloaded"),
                            Err(e) => tracing::error!(error = %e, "reload failed; serving the previous zones"),
                        }
                    }
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                }
            }
            Ok(())
        })
    }

    /// Stops serving.
    pub fn shutdown(mut self) {
        self.stop_udp();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }

    /// Tells the UDP workers to stop and waits for them (each notices
    /// within [`UDP_POLL`]).
    fn stop_udp(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_udp();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Loads the zones, serves them on every `--listen` address until SIGINT
/// or SIGTERM, reloading on SIGHUP. What `depeer serve dnsbl` calls.
pub fn run_server(config: ServerConfig) -> Result<(), DnsblError> {
    let server = Server::start(config)?;
    for z in server.zones().zones() {
        for ds in z.datasets() {
            for w in ds.warnings() {
                tracing::warn!("{w}");
            }
            tracing::info!(
                zone = z.name(),
                kind = ds.kind().as_str(),
                entries = ds.entries(),
                skipped = ds.warning_count(),
                "zone loaded"
            );
        }
    }
    tracing::info!(udp = ?server.udp_addrs(), tcp = ?server.tcp_addrs(), "serving");
    server.wait_for_signals()?;
    server.shutdown();
    Ok(())
}

/// One UDP socket's thread: a batch of queries in, their answers out,
/// until `stop`.
fn udp_worker(sock: &StdUdp, shared: &Shared, stop: &AtomicBool) {
    let mut batch = Batch::new();
    while !stop.load(Ordering::Relaxed) {
        // Errors are timeouts (the check above) or interruptions; a
        // failing socket must not stop the worker either.
        let Ok(n) = batch.recv(sock) else {
            continue;
        };
        let mut tally = Tally {
            received: n as u64,
            ..Tally::default()
        };
        let zones = shared.zones.load();
        crate::warm(&zones, (0..batch.len()).filter_map(|i| batch.packet(i)));
        for i in 0..batch.len() {
            let peer = batch.peer(i);
            let Some((packet, out, send)) = batch.slot(i) else {
                break;
            };
            let h = handle(&zones, packet, Transport::Udp, out);
            tally.count(h);
            if h == Handled::Dropped {
                continue;
            }
            *send = true;
            if let (true, Some(ip)) = (shared.rrl.enabled(), peer) {
                let now = shared.start.elapsed().as_millis() as u64;
                match shared.rrl.check(ip, now) {
                    RrlVerdict::Send => {}
                    RrlVerdict::Drop => {
                        tally.rrl_dropped += 1;
                        *send = false;
                    }
                    RrlVerdict::Slip => {
                        tally.rrl_slipped += 1;
                        truncate_in_place(out);
                    }
                }
            }
        }
        drop(zones);
        batch.send(sock);
        tally.flush(&shared.stats);
    }
}

/// Turns an encoded response into a truncated one: TC set, header and
/// question only (the OPT record goes too; the client retries over TCP).
fn truncate_in_place(out: &mut Vec<u8>) {
    let Some(qend) = question_end(out) else {
        return;
    };
    out.truncate(qend);
    if let Some(f1) = out.get_mut(2) {
        *f1 |= 0x02;
    }
    if let Some(counts) = out.get_mut(6..12) {
        counts.fill(0);
    }
}

fn question_end(p: &[u8]) -> Option<usize> {
    if p.get(4..6)? != [0, 1] {
        return Some(12);
    }
    let mut at = 12usize;
    loop {
        let len = usize::from(*p.get(at)?);
        if len == 0 {
            return Some(at + 5).filter(|&e| e <= p.len());
        }
        at += 1 + len;
    }
}

async fn tcp_acceptor(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_TCP));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _ = tcp_conn(stream, &shared).await;
            drop(permit);
        });
    }
}

async fn tcp_conn(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 65535];
    let mut out = Vec::with_capacity(1500);
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let n = usize::from(u16::from_be_bytes(len));
        let Some(packet) = buf.get_mut(..n) else {
            return Ok(());
        };
        tokio::time::timeout(TCP_IDLE, stream.read_exact(packet))
            .await
            .map_err(std::io::Error::other)??;
        shared.stats.received.fetch_add(1, Ordering::Relaxed);
        shared.stats.tcp.fetch_add(1, Ordering::Relaxed);
        let h = handle(&shared.zones.load(), packet, Transport::Tcp, &mut out);
        shared.stats.count(h);
        if h == Handled::Dropped {
            return Ok(());
        }
        let mut msg = Vec::with_capacity(out.len() + 2);
        msg.extend_from_slice(&(out.len() as u16).to_be_bytes());
        msg.extend_from_slice(&out);
        stream.write_all(&msg).await?;
    }
}
