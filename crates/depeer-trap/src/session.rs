//! One SMTP connection over a socket: reads with deadlines, feeds the pure
//! [`Machine`], writes its replies, upgrades to TLS, and hands each message
//! to the store, answering 250 only once the store says it is durable.
//!
//! Bounds (all from [`Limits`]): a command line must arrive within
//! `command_timeout` (a client sending one byte a second never completes
//! one), a message within `data_timeout`, the whole session within
//! `session_timeout`; lines over `max_line` and messages over the size cap
//! are read and dropped, never buffered. Replies to pipelined commands are
//! sent together when the client's buffered commands are used up (RFC 2920).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use depeer_core::{SmtpEnvelope, Timestamp};
use depeer_ingest::{LiveAck, LiveMessage, LiveSender};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

use crate::smtp::{Config, DataReader, LineItem, Lines, Machine, Reply, Step, received_line};

/// Time and size bounds of a session.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time allowed for one command line (and the TLS handshake).
    pub command_timeout: Duration,
    /// Time allowed for one message, from 354 to its final dot.
    pub data_timeout: Duration,
    /// Time allowed for the whole session.
    pub session_timeout: Duration,
    /// Longest command line, in bytes.
    pub max_line: usize,
}

impl Default for Limits {
    /// 60 s a command, 300 s a message, 900 s a session, 4 KiB lines.
    fn default() -> Self {
        Limits {
            command_timeout: Duration::from_secs(60),
            data_timeout: Duration::from_secs(300),
            session_timeout: Duration::from_secs(900),
            max_line: 4096,
        }
    }
}

/// Where accepted messages go: the local store, or another system that
/// answers for their durability (see [`crate::Forward`]).
pub(crate) enum Sink {
    /// The data directory, through [`depeer_ingest::LiveMail`].
    Local(LiveSender),
    /// Published elsewhere; `next` numbers the messages as the local sink
    /// numbers them (their `source_index`).
    Forward {
        to: Arc<dyn crate::Forward>,
        next: AtomicU64,
    },
}

impl Sink {
    fn submit(&self, msg: LiveMessage, done: depeer_ingest::LiveDone) {
        match self {
            Sink::Local(tx) => tx.submit(msg, done),
            Sink::Forward { to, next } => {
                let index = next.fetch_add(1, Ordering::Relaxed);
                to.submit(msg, index, done);
            }
        }
    }
}

/// Bytes taken from the socket per read.
const READ_BUFFER: usize = 16 * 1024;

/// What every session shares.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) limits: Limits,
    pub(crate) sink: Sink,
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) ids: AtomicU64,
    pub(crate) messages_acked: AtomicU64,
}

/// Why a drive over one stream ended.
enum End {
    Closed,
    StartTls,
}

/// Reading failed or timed out.
enum ReadEnd {
    Eof,
    Timeout,
    Shutdown,
}

/// The per-session state that survives the TLS upgrade.
struct Session<'a> {
    shared: &'a Shared,
    machine: Machine<'a>,
    lines: Lines,
    peer: IpAddr,
    local: SocketAddr,
    session_deadline: Instant,
    shutdown: watch::Receiver<bool>,
    out: Vec<u8>,
}

/// Serves one accepted connection until it closes.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    mut tcp: TcpStream,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().unwrap_or(peer);
    let mut s = Session {
        shared: &shared,
        machine: Machine::new(&shared.cfg),
        lines: Lines::new(shared.limits.max_line),
        peer: crate::smtp::canonical_ip(peer.ip()),
        local,
        session_deadline: Instant::now() + shared.limits.session_timeout,
        shutdown,
        out: Vec::with_capacity(512),
    };
    s.machine.greeting().write_to(&mut s.out);
    match s.drive(&mut tcp).await {
        Ok(End::StartTls) => {
            let Some(acceptor) = shared.tls.clone() else {
                return;
            };
            let deadline = Instant::now() + shared.limits.command_timeout;
            let tls = match timeout_at(deadline, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                // Garbage or silence in the handshake: nothing to answer.
                _ => return,
            };
            let (_, conn) = tls.get_ref();
            let desc = format!(
                "{} {}",
                conn.protocol_version()
                    .map_or("TLS".to_string(), |v| tls_version(v).to_string()),
                conn.negotiated_cipher_suite()
                    .map_or("unknown".to_string(), |c| format!("{:?}", c.suite()))
            );
            s.machine.tls_started(desc);
            let mut tls = tls;
            let _ = s.drive(&mut tls).await;
            let _ = tls.shutdown().await;
        }
        Ok(End::Closed) | Err(_) => {
            let _ = tcp.shutdown().await;
        }
    }
}

fn tls_version(v: rustls::ProtocolVersion) -> &'static str {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLS",
    }
}

impl Session<'_> {
    /// Runs the command loop over one stream (plain, then TLS).
    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
    ) -> std::io::Result<End> {
        // Read into spare capacity (never zeroed), shared by the command
        // lines and the DATA reader of this stream.
        let mut buf: Vec<u8> = Vec::with_capacity(READ_BUFFER);
        let mut deadline = self.next_deadline(self.shared.limits.command_timeout);
        loop {
            while let Some(item) = self.lines.next_line() {
                deadline = self.next_deadline(self.shared.limits.command_timeout);
                let step = match item {
                    LineItem::Line { bytes, bare_lf } => self.machine.line(&bytes, bare_lf),
                    LineItem::TooLong => self.machine.line_too_long(),
                };
                match step {
                    Step::Reply(r) => r.write_to(&mut self.out),
                    Step::Close(r) => {
                        r.write_to(&mut self.out);
                        self.flush(io).await?;
                        return Ok(End::Closed);
                    }
                    Step::StartTls(r) => {
                        r.write_to(&mut self.out);
                        self.flush(io).await?;
                        self.lines.clear();
                        return Ok(End::StartTls);
                    }
                    Step::Data(r) => {
                        r.write_to(&mut self.out);
                        self.flush(io).await?;
                        match self.data(io, &mut buf).await? {
                            Some(r) => r.write_to(&mut self.out),
                            None => return Ok(End::Closed),
                        }
                        deadline = self.next_deadline(self.shared.limits.command_timeout);
                    }
                }
            }
            // Pipelining: reply once the buffered commands are used up.
            self.flush(io).await?;
            match self.read(io, &mut buf, deadline).await {
                Ok(()) => self.lines.push(&buf),
                Err(ReadEnd::Eof) => return Ok(End::Closed),
                Err(ReadEnd::Timeout) => {
                    self.machine.timeout().write_to(&mut self.out);
                    self.flush(io).await?;
                    return Ok(End::Closed);
                }
                Err(ReadEnd::Shutdown) => {
                    self.machine.shutdown().write_to(&mut self.out);
                    self.flush(io).await?;
                    return Ok(End::Closed);
                }
            }
        }
    }

    fn next_deadline(&self, d: Duration) -> Instant {
        (Instant::now() + d).min(self.session_deadline)
    }

    /// One read into `buf` (replacing what it held), bounded by
    /// `deadline`, interrupted by shutdown.
    async fn read<S: AsyncRead + Unpin>(
        &mut self,
        io: &mut S,
        buf: &mut Vec<u8>,
        deadline: Instant,
    ) -> Result<(), ReadEnd> {
        if *self.shutdown.borrow() {
            return Err(ReadEnd::Shutdown);
        }
        buf.clear();
        tokio::select! {
            r = timeout_at(deadline, io.read_buf(buf)) => match r {
                Ok(Ok(0) | Err(_)) => Err(ReadEnd::Eof),
                Ok(Ok(_)) => Ok(()),
                Err(_) => Err(ReadEnd::Timeout),
            },
            _ = self.shutdown.changed() => Err(ReadEnd::Shutdown),
        }
    }

    async fn flush<S: AsyncWrite + Unpin>(&mut self, io: &mut S) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        // A client that does not read its replies cannot hold the session.
        let deadline = self.next_deadline(self.shared.limits.command_timeout);
        let r = match timeout_at(deadline, io.write_all(&self.out)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        };
        self.out.clear();
        r?;
        match timeout_at(deadline, io.flush()).await {
            Ok(r) => r,
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }

    /// Reads one message after 354 and stores it; the reply to send, or
    /// `None` when the session must close (timeout, shutdown, the client
    /// left: an unfinished message is never acknowledged).
    async fn data<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<Option<Reply>> {
        let mut reader = DataReader::new(self.shared.cfg.max_size);
        let deadline = self.next_deadline(self.shared.limits.data_timeout);
        let rest = self.lines.take_rest();
        let mut used = reader.feed(&rest);
        if let Some(n) = used {
            self.lines.push(rest.get(n..).unwrap_or_default());
        }
        while used.is_none() {
            match self.read(io, buf, deadline).await {
                Ok(()) => {
                    used = reader.feed(buf);
                    if let Some(n) = used {
                        self.lines.push(buf.get(n..).unwrap_or_default());
                    }
                }
                Err(ReadEnd::Eof) => return Ok(None),
                Err(ReadEnd::Timeout) => {
                    self.machine.timeout().write_to(&mut self.out);
                    self.flush(io).await?;
                    return Ok(None);
                }
                Err(ReadEnd::Shutdown) => {
                    self.machine.shutdown().write_to(&mut self.out);
                    self.flush(io).await?;
                    return Ok(None);
                }
            }
        }
        let end = reader.finish();
        let t = match self.machine.data_end(end.oversize, &end.anomalies) {
            Ok(t) => t,
            Err(Step::Reply(r) | Step::Close(r) | Step::Data(r) | Step::StartTls(r)) => {
                return Ok(Some(r));
            }
        };
        let received_at = now();
        let id = format!(
            "{:X}{:04X}",
            received_at.0,
            self.shared.ids.fetch_add(1, Ordering::Relaxed) & 0xffff
        );
        let mut raw = received_line(&t, self.peer, &self.shared.cfg.hostname, &id, received_at);
        raw.extend_from_slice(&end.body);
        let envelope = SmtpEnvelope {
            peer_ip: self.peer,
            helo: t.helo,
            mail_from: Some(t.mail_from),
            rcpt_to: t.rcpt_to,
            tls: t.tls,
            anomalies: t.anomalies,
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<LiveAck>();
        self.shared.sink.submit(
            LiveMessage {
                raw,
                envelope,
                received_at,
                source: format!("smtp:{}", self.local),
            },
            Box::new(move |ack| {
                let _ = tx.send(ack);
            }),
        );
        // Not interrupted by shutdown: the store answers every message.
        let ack = rx.await.unwrap_or(LiveAck::Failed {
            detail: "the store went away".into(),
        });
        let durable = ack.is_durable();
        if durable {
            self.shared.messages_acked.fetch_add(1, Ordering::Relaxed);
        } else {
            tracing::warn!("message {id} from {} not stored: {ack:?}", self.peer);
        }
        match self.machine.delivered(durable, &id) {
            Step::Reply(r) | Step::Close(r) | Step::Data(r) | Step::StartTls(r) => Ok(Some(r)),
        }
    }
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
