//! depeer's live spamtrap: an SMTP receiver (RFC 5321) that accepts mail
//! for the trap domains (every domain when none are given) and stores it
//! through the same pipeline as `depeer ingest mail`
//! ([`depeer_ingest::LiveMail`]: extraction, the store's commit,
//! attribution). It never relays, never bounces and never sends anything.
//!
//! * [`smtp`]: the pure parts (state machine, line splitter, DATA reader,
//!   the trap's `Received:` line), unit-tested without sockets;
//! * `session`: one connection over tokio (and rustls after STARTTLS);
//! * [`Trap`]: the listeners, the connection limits and the drain.
//!
//! A 250 after DATA means the message is durable (its batch committed and
//! fsynced); messages of concurrent sessions share commits. On SIGTERM or
//! SIGINT (or [`StopHandle::stop`]) the trap stops accepting, answers 421
//! to idle sessions, drops unfinished messages unacknowledged, waits for
//! the answers of messages already handed to the store, commits, runs the
//! last attribution and returns. docs/trap.md has the details.

mod error;
mod limits;
mod session;
pub mod smtp;
mod tls;

pub use tls::provider as tls_provider;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use depeer_ingest::{LiveMail, LiveOptions, LiveSummary};
use serde::Serialize;
use tokio::sync::watch;

pub use error::TrapError;
pub use session::Limits;

use limits::ConnLimits;
use session::{Shared, Sink};

/// Somewhere other than the local data directory that takes the trap's
/// messages and answers for their durability (`depeer trap --to nats://`:
/// NATS JetStream, implemented in depeer-cluster). The session answers 250
/// only when `done` says [`depeer_ingest::LiveAck::is_durable`], and 451
/// (a temporary failure: the client retries) otherwise.
pub trait Forward: Send + Sync {
    /// Hands on one message, the `index`-th of this run (its
    /// `source_index`, as the local sink would number it). `done` is
    /// called exactly once, from any thread, never before this returns.
    fn submit(&self, msg: depeer_ingest::LiveMessage, index: u64, done: depeer_ingest::LiveDone);
}

/// How to run the trap.
#[derive(Debug, Clone)]
pub struct TrapOptions {
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// The data directory.
    pub data: PathBuf,
    /// Trap domains, lowercase; `None` accepts mail for every domain.
    pub domains: Option<HashSet<String>>,
    /// The SIZE limit, in bytes.
    pub max_size: u64,
    /// Connections at once, in total.
    pub max_conns: usize,
    /// Connections at once from one address.
    pub max_conns_per_ip: usize,
    /// Recipients per message.
    pub max_rcpt: usize,
    /// The name in the greeting and the `Received:` line.
    pub hostname: String,
    /// STARTTLS certificate and key (PEM); `None` makes a self-signed one.
    pub cert: Option<PathBuf>,
    /// The key of `cert`.
    pub key: Option<PathBuf>,
    /// Whether STARTTLS is offered.
    pub starttls: bool,
    /// Time and line bounds of a session.
    pub limits: Limits,
    /// At most this many messages per commit.
    pub max_batch: usize,
    /// Commits that may run at once (see [`depeer_ingest::LiveOptions`]).
    pub committers: usize,
    /// How long a committer waits for more messages while other batches
    /// commit (see [`depeer_ingest::LiveOptions::batch_wait`]).
    pub batch_wait: Duration,
    /// How often the new messages are attributed while the trap runs
    /// (`None`: never, not even at the end).
    pub attribute_every: Option<Duration>,
}

impl TrapOptions {
    /// Defaults: 127.0.0.1:2525, every domain, 10 MiB messages, 1,000
    /// connections (100 per address), 100 recipients, STARTTLS with a
    /// self-signed certificate, attribution every minute.
    pub fn new(data: PathBuf) -> Self {
        TrapOptions {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 2525))],
            data,
            domains: None,
            max_size: 10 << 20,
            max_conns: 1000,
            max_conns_per_ip: 100,
            max_rcpt: 100,
            hostname: default_hostname(),
            cert: None,
            key: None,
            starttls: true,
            limits: Limits::default(),
            max_batch: 10_000,
            committers: 4,
            batch_wait: depeer_ingest::DEFAULT_BATCH_WAIT,
            attribute_every: Some(Duration::from_secs(60)),
        }
    }
}

/// The machine's host name (`/etc/hostname`), else `localhost`.
pub fn default_hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "localhost".into())
}

/// Reads a domains file: one domain a line, `#` starts a comment; names
/// are lowercased and a trailing dot dropped.
pub fn read_domains(path: &Path) -> Result<HashSet<String>, TrapError> {
    let text = std::fs::read_to_string(path).map_err(|source| TrapError::File {
        path: path.to_path_buf(),
        what: "reading the domains",
        source,
    })?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_end_matches('.').to_ascii_lowercase())
        .collect())
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrapSummary {
    /// Connections accepted (over the limits included).
    pub connections: u64,
    /// Connections refused with 421 by the connection limits.
    pub refused: u64,
    /// Messages answered with 250.
    pub acknowledged: u64,
    /// What the store did.
    pub store: LiveSummary,
}

/// Stops a running [`Trap`] as SIGTERM does.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    /// Starts the drain.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// A bound trap, ready to [`Trap::run`].
#[derive(Debug)]
pub struct Trap {
    opts: TrapOptions,
    listeners: Vec<std::net::TcpListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: Arc<watch::Sender<bool>>,
}

impl Trap {
    /// Binds the listen addresses and loads (or makes) the certificate.
    pub fn bind(opts: TrapOptions) -> Result<Trap, TrapError> {
        if opts.listen.is_empty() {
            return Err(TrapError::NoListener);
        }
        let mut listeners = Vec::new();
        for addr in &opts.listen {
            let l = std::net::TcpListener::bind(addr)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|source| TrapError::Bind {
                    addr: *addr,
                    source,
                })?;
            listeners.push(l);
        }
        let tls = if opts.starttls {
            std::fs::create_dir_all(&opts.data).map_err(|source| TrapError::File {
                path: opts.data.clone(),
                what: "creating the data directory",
                source,
            })?;
            let (c, k) = tls::cert_files(
                &opts.data,
                opts.cert.as_deref(),
                opts.key.as_deref(),
                &opts.hostname,
            )?;
            Some(tls::server_config(&c, &k)?)
        } else {
            None
        };
        let (stop, _) = watch::channel(false);
        Ok(Trap {
            opts,
            listeners,
            tls,
            stop: Arc::new(stop),
        })
    }

    /// The bound addresses (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// A handle that stops the trap.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.stop))
    }

    /// Serves until SIGTERM, SIGINT or [`StopHandle::stop`], then drains
    /// (see the crate documentation).
    pub fn run(self) -> Result<TrapSummary, TrapError> {
        self.run_with(None)
    }

    /// As [`Trap::run`]; with `forward`, every accepted message goes there
    /// instead of the data directory (which then only holds the STARTTLS
    /// certificate), and the 250 waits for its answer.
    pub fn run_with(self, forward: Option<Arc<dyn Forward>>) -> Result<TrapSummary, TrapError> {
        if let Some(to) = forward {
            let sink = Sink::Forward {
                to,
                next: AtomicU64::new(0),
            };
            return self.serve(sink);
        }
        let mut live = LiveOptions::new(self.opts.data.clone());
        live.max_batch = self.opts.max_batch;
        live.committers = self.opts.committers.max(1);
        live.batch_wait = self.opts.batch_wait;
        match self.opts.attribute_every {
            Some(every) => live.attribute_every = every,
            None => live.attribute = None,
        }
        let sink = LiveMail::open(live)?;
        let Some(sender) = sink.sender() else {
            return Err(TrapError::NoListener);
        };
        let mut summary = self.serve(Sink::Local(sender))?;
        summary.store = sink.close()?;
        Ok(summary)
    }

    /// Serves with `sink` until stopped, then drains the sessions.
    fn serve(self, sink: Sink) -> Result<TrapSummary, TrapError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("trap")
            .build()
            .map_err(|source| TrapError::Runtime { source })?;
        let shared = Arc::new(Shared {
            cfg: smtp::Config {
                hostname: self.opts.hostname.clone(),
                max_size: self.opts.max_size,
                max_rcpt: self.opts.max_rcpt.max(1),
                max_errors: 20,
                domains: self.opts.domains.clone(),
                tls: self.tls.is_some(),
            },
            limits: self.opts.limits,
            sink,
            tls: self.tls.clone().map(tokio_rustls::TlsAcceptor::from),
            ids: AtomicU64::new(0),
            messages_acked: AtomicU64::new(0),
        });
        let limits = Arc::new(ConnLimits::new(
            self.opts.max_conns.max(1),
            self.opts.max_conns_per_ip.max(1),
        ));
        let mut summary = runtime.block_on(serve_all(
            self.listeners,
            Arc::clone(&shared),
            limits,
            self.stop,
        ))?;
        summary.acknowledged = shared.messages_acked.load(Ordering::Relaxed);
        drop(shared);
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(summary)
    }
}

/// Accepts on every listener until stopped, then waits for the sessions.
async fn serve_all(
    listeners: Vec<std::net::TcpListener>,
    shared: Arc<Shared>,
    limits: Arc<ConnLimits>,
    stop: Arc<watch::Sender<bool>>,
) -> Result<TrapSummary, TrapError> {
    let mut accepting = tokio::task::JoinSet::new();
    let counts = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let sessions = Arc::new(tokio::sync::Mutex::new(tokio::task::JoinSet::new()));
    for l in listeners {
        let addr = l.local_addr().ok();
        let l = tokio::net::TcpListener::from_std(l).map_err(|source| TrapError::Bind {
            addr: addr.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
            source,
        })?;
        let (shared, limits, stop_rx) =
            (Arc::clone(&shared), Arc::clone(&limits), stop.subscribe());
        let (counts, sessions) = (Arc::clone(&counts), Arc::clone(&sessions));
        accepting.spawn(accept_loop(l, shared, limits, stop_rx, counts, sessions));
    }
    let mut sig_rx = stop.subscribe();
    tokio::select! {
        _ = terminate_signal() => {}
        _ = sig_rx.wait_for(|s| *s) => {}
    }
    tracing::info!("stopping: no new connections; draining the sessions");
    let _ = stop.send(true);
    while accepting.join_next().await.is_some() {}
    let mut sessions = sessions.lock().await;
    // Every session ends at its next read (421) or after its store answer;
    // a client that does not read its reply is cut at the write timeout.
    while sessions.join_next().await.is_some() {}
    Ok(TrapSummary {
        connections: counts.0.load(Ordering::Relaxed),
        refused: counts.1.load(Ordering::Relaxed),
        ..TrapSummary::default()
    })
}

async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    limits: Arc<ConnLimits>,
    mut stop: watch::Receiver<bool>,
    counts: Arc<(AtomicU64, AtomicU64)>,
    sessions: Arc<tokio::sync::Mutex<tokio::task::JoinSet<()>>>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        counts.0.fetch_add(1, Ordering::Relaxed);
        let ip = smtp::canonical_ip(peer.ip());
        let Some(guard) = limits.admit(ip) else {
            counts.1.fetch_add(1, Ordering::Relaxed);
            let mut reply = Vec::new();
            smtp::Machine::too_many_connections(&shared.cfg).write_to(&mut reply);
            // Best effort and never waiting: the socket buffer takes it.
            let _ = tcp.try_write(&reply);
            continue;
        };
        let (shared, stop) = (Arc::clone(&shared), stop.clone());
        let mut set = sessions.lock().await;
        // Reap finished sessions so the set stays at the live ones.
        while set.try_join_next().is_some() {}
        set.spawn(async move {
            session::serve(shared, tcp, peer, stop).await;
            drop(guard);
        });
    }
}
