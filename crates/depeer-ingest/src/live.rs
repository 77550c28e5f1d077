//! A long-lived mail sink for receivers that hold a client waiting for an
//! answer (the SMTP trap, `depeer-trap`): raw messages with their SMTP
//! envelope go in one at a time, from any thread; each is resolved once the
//! batch it joined is committed and fsynced.
//!
//! ```text
//! sessions (any thread)                 committer threads (one gathers at a time)
//! submit: extract + sha256  ──queue──>  take everything queued (group commit;
//!                                         while others commit, wait
//!                                         `batch_wait` for more first)
//!                                       → one shared zstd frame, MessageWriter
//!                                       → commit point (files fsynced, COMMIT
//!                                         renamed, its directory fsynced)
//!                                       → files renamed into place
//!                                       → every `done` callback of the batch
//!                                       → settle every 100 ms (directory
//!                                         fsyncs, staging removed; every batch
//!                                         published meanwhile at once)
//! ```
//!
//! The messages go through the same steps as `ingest mail`: extraction by
//! `depeer_mail::extract`, the raw bytes in shared zstd frames, the store's
//! `MessageWriter` and its journal commit (and whatever that commit writes
//! besides the rows), and attribution of the new messages (every
//! [`LiveOptions::attribute_every`] on its own thread, and at
//! [`LiveMail::close`]).
//!
//! Invariants: a `done` callback says [`LiveAck::is_durable`] only after
//! the commit that holds the message returned (files and COMMIT manifest
//! fsynced, the manifest renamed and its directory fsynced: a reopening
//! rolls it forward; and the files renamed into place, so a reader sees
//! the message before its sender hears "durable"); every submitted message gets exactly one callback, also when
//! the sink fails or closes; a callback never runs on the submitting call.
//! Group commit: while one batch commits, the next one collects whatever
//! the sessions submit, so the batch size follows the load.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use depeer_core::{ArrivalSource, Quarantine, SmtpEnvelope, SourceRef, Timestamp};
use depeer_mail::{ExtractContext, Extracted, TrustConfig};
use depeer_store::{AddOutcome, FRAME_TARGET_BYTES, FrameCompressor, FrameMember, Store};
use serde::Serialize;

use crate::IngestError;

/// The default [`LiveOptions::batch_wait`].
pub const DEFAULT_BATCH_WAIT: Duration = Duration::from_millis(2);

/// How to run a [`LiveMail`] sink.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Data directory (created when missing).
    pub data: PathBuf,
    /// The trust boundary for the `Received:` walk of the extraction (the
    /// relay itself is the connecting address, see [`LiveMessage`]).
    pub trust: TrustConfig,
    /// At most this many messages per commit.
    pub max_batch: usize,
    /// Attribution of the new messages; `None` leaves them to `depeer
    /// attribute`.
    pub attribute: Option<crate::AttributeOptions>,
    /// How often attribution runs while messages arrive.
    pub attribute_every: Duration,
    /// Commits that may run at once. A commit mostly waits for fsync, so
    /// while one batch is being made durable the next one is written:
    /// throughput follows the disk's fsync concurrency, not its latency.
    pub committers: usize,
    /// How long a committer waits for more messages before it starts a
    /// batch while other batches are being committed (never when it is the
    /// only one): bigger batches under load. Zero: no wait.
    pub batch_wait: Duration,
}

impl LiveOptions {
    /// Defaults for `data`: batches of up to 10,000 messages, up to four
    /// commits at once, attribution with the built-in rules every 60 s and
    /// at close.
    pub fn new(data: PathBuf) -> Self {
        LiveOptions {
            data,
            trust: TrustConfig::default(),
            max_batch: 10_000,
            attribute: Some(crate::AttributeOptions {
                mode: crate::AttributeMode::Missing,
                rules: None,
            }),
            attribute_every: Duration::from_secs(60),
            committers: 4,
            batch_wait: DEFAULT_BATCH_WAIT,
        }
    }
}

/// One message as received live.
#[derive(Debug, Clone)]
pub struct LiveMessage {
    /// The raw bytes as stored (the receiver's own `Received:` line first).
    pub raw: Vec<u8>,
    /// The envelope; its `peer_ip` becomes the message's relay and its
    /// `helo` the relay's HELO, whatever the `Received:` lines say (the
    /// receiver saw the connection itself).
    pub envelope: SmtpEnvelope,
    /// When the message was received: its `arrival_time`.
    pub received_at: Timestamp,
    /// What `source_file` records (`smtp:127.0.0.1:2525`).
    pub source: String,
}

/// How one submitted message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveAck {
    /// Stored and committed.
    Stored {
        /// Its SHA-256, lowercase hex.
        sha256: String,
    },
    /// The same bytes were already stored (committed).
    Duplicate {
        /// Its SHA-256, lowercase hex.
        sha256: String,
    },
    /// It could not be parsed as a message; its bytes were committed to
    /// `quarantine`.
    Quarantined {
        /// The quarantine reason.
        reason: String,
    },
    /// Nothing durable: the commit failed or the sink is closed.
    Failed {
        /// Why, for the log (never sent to a client).
        detail: String,
    },
}

impl LiveAck {
    /// Whether the message is durable (stored, already stored, or kept in
    /// quarantine): what allows a receiver to acknowledge it.
    pub fn is_durable(&self) -> bool {
        !matches!(self, LiveAck::Failed { .. })
    }
}

/// The callback that resolves one message.
pub type LiveDone = Box<dyn FnOnce(LiveAck) + Send>;

/// What a [`LiveMail`] sink did, returned by [`LiveMail::close`].
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LiveSummary {
    /// Messages submitted.
    pub submitted: u64,
    /// New messages committed.
    pub stored: u64,
    /// Messages already stored.
    pub duplicate: u64,
    /// Messages kept in quarantine.
    pub quarantined: u64,
    /// Messages whose commit failed.
    pub failed: u64,
    /// Commits made.
    pub commits: u64,
    /// The largest batch committed.
    pub max_batch: u64,
    /// The last attribution run (at close), if any ran.
    pub attribution: Option<crate::AttributeSummary>,
}

/// One queued message, extracted on the submitting thread.
struct Item {
    raw: Vec<u8>,
    /// Taken when the item is written.
    parsed: Option<Result<Extracted, Quarantine>>,
    envelope: SmtpEnvelope,
    done: LiveDone,
}

/// A handle to submit messages to a [`LiveMail`] sink; cheap to clone.
#[derive(Clone)]
pub struct LiveSender {
    tx: Sender<Item>,
    trust: Arc<TrustConfig>,
    next_index: Arc<AtomicU64>,
}

impl std::fmt::Debug for LiveSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSender").finish_non_exhaustive()
    }
}

impl LiveSender {
    /// Extracts the message on this thread and queues it for the next
    /// commit; `done` is called (on the committer thread) when that commit
    /// ends, or at once with [`LiveAck::Failed`] when the sink is closed.
    pub fn submit(&self, msg: LiveMessage, done: LiveDone) {
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        let parsed = extract(&msg, &self.trust, index);
        let item = Item {
            raw: msg.raw,
            parsed: Some(parsed),
            envelope: msg.envelope,
            done,
        };
        if let Err(e) = self.tx.send(item) {
            (e.into_inner().done)(LiveAck::Failed {
                detail: "the store is closed".into(),
            });
        }
    }
}

/// Extraction as `ingest mail` does it, then the fields the connection
/// itself says better than the headers.
fn extract(msg: &LiveMessage, trust: &TrustConfig, index: u64) -> Result<Extracted, Quarantine> {
    let source = SourceRef::new(msg.source.clone(), 0, index);
    let ctx = ExtractContext::new(trust, source.clone(), msg.received_at);
    match depeer_mail::extract(&msg.raw, &ctx) {
        Ok(mut ex) => {
            let m = &mut ex.message;
            m.arrival_time = msg.received_at;
            m.arrival_source = ArrivalSource::Received;
            m.relay_ip = Some(msg.envelope.peer_ip);
            m.relay_helo.clone_from(&msg.envelope.helo);
            m.relay_rdns = None;
            if let Some(from) = msg.envelope.mail_from.as_ref().filter(|f| !f.is_empty()) {
                m.envelope_from = Some(from.clone());
            }
            Ok(ex)
        }
        Err(e) => Err(Quarantine {
            source,
            reason: e.reason().to_string(),
            detail: e.to_string(),
            bytes: msg.raw.clone(),
            truncated: false,
        }),
    }
}

/// The sink: a committer thread owning the store's writer.
#[derive(Debug)]
pub struct LiveMail {
    sender: Option<LiveSender>,
    thread: Option<std::thread::JoinHandle<Result<LiveSummary, IngestError>>>,
}

impl LiveMail {
    /// Opens (creating) the data directory and starts the committer.
    pub fn open(opts: LiveOptions) -> Result<Self, IngestError> {
        let store = Arc::new(crate::input::open_store(&opts.data)?);
        let (tx, rx) = crossbeam_channel::unbounded::<Item>();
        let sender = LiveSender {
            tx,
            trust: Arc::new(opts.trust.clone()),
            next_index: Arc::new(AtomicU64::new(0)),
        };
        let thread = std::thread::Builder::new()
            .name("live-commit".into())
            .spawn(move || run_committers(&store, &opts, &rx))
            .map_err(|_| IngestError::Thread {
                thread: "live-commit",
            })?;
        Ok(LiveMail {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// A handle to submit messages.
    pub fn sender(&self) -> Option<LiveSender> {
        self.sender.clone()
    }

    /// Stops taking messages once every [`LiveSender`] is dropped, commits
    /// what is queued (resolving every callback), runs the last
    /// attribution and returns the counts.
    pub fn close(mut self) -> Result<LiveSummary, IngestError> {
        self.sender = None;
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| IngestError::Thread {
                thread: "live-commit",
            })?,
            None => Ok(LiveSummary::default()),
        }
    }
}

/// Runs the committers until every sender is gone, then the last
/// attribution; returns the counts of all of them.
fn run_committers(
    store: &Arc<Store>,
    opts: &LiveOptions,
    rx: &Receiver<Item>,
) -> Result<LiveSummary, IngestError> {
    let shared = Arc::new(Shared {
        unattributed: AtomicU64::new(0),
        attributing: Mutex::new(None),
        last_attribution: Mutex::new(Instant::now()),
        seq: AtomicU64::new(0),
        inflight: Mutex::new(BTreeSet::new()),
        failures: AtomicU64::new(0),
        settled: Condvar::new(),
        unsettled: AtomicBool::new(false),
        last_settle: Mutex::new(Instant::now()),
        gathering: Mutex::new(()),
    });
    let parts: Vec<LiveSummary> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..opts.committers.max(1))
            .map(|_| {
                let mut c = Committer {
                    store: Arc::clone(store),
                    opts: opts.clone(),
                    shared: Arc::clone(&shared),
                    zstd: FrameCompressor::new(),
                    summary: LiveSummary::default(),
                };
                let rx = rx.clone();
                scope.spawn(move || {
                    c.run(&rx);
                    c.summary
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut summary = LiveSummary::default();
    for p in parts {
        summary.submitted += p.submitted;
        summary.stored += p.stored;
        summary.duplicate += p.duplicate;
        summary.quarantined += p.quarantined;
        summary.failed += p.failed;
        summary.commits += p.commits;
        summary.max_batch = summary.max_batch.max(p.max_batch);
    }
    if let Err(e) = store.settle() {
        tracing::warn!("settling the last commits failed (the next open finishes them): {e}");
    }
    if let Some(t) = lock(&shared.attributing).take() {
        let _ = t.join();
    }
    if shared.unattributed.load(Ordering::Relaxed) > 0
        && let Some(a) = &opts.attribute
    {
        summary.attribution = Some(crate::attribute(store, a)?);
    }
    Ok(summary)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the committers share.
struct Shared {
    /// New messages since the last attribution started.
    unattributed: AtomicU64,
    /// Attribution running in the background, if any.
    attributing: Mutex<Option<std::thread::JoinHandle<()>>>,
    last_attribution: Mutex<Instant>,
    /// Batch numbers.
    seq: AtomicU64,
    /// Batches being written or committed.
    inflight: Mutex<BTreeSet<u64>>,
    /// Batch commits that failed so far.
    failures: AtomicU64,
    /// Signalled when a batch leaves `inflight`.
    settled: Condvar,
    /// Batches were published since the last settle started.
    unsettled: AtomicBool,
    /// When the last settle started.
    last_settle: Mutex<Instant>,
    /// Held by the committer taking the next batch.
    gathering: Mutex<()>,
}

/// How often the published batches are settled (their directories
/// fsynced, their staging directories removed) while messages arrive:
/// once for every batch published meanwhile. Settling is no part of a
/// message's durability (a reopening redoes it from the batch's `COMMIT`),
/// so it is paced to cost one round of directory fsyncs per period instead
/// of one per commit or two.
const SETTLE_EVERY: Duration = Duration::from_millis(100);

/// What [`Committer::gather`] found.
enum Gathered {
    /// A batch to commit.
    Batch,
    /// Nothing came within the wait.
    Idle,
    /// Every sender is gone and the queue is empty.
    Closed,
}

/// Moves the messages waiting in the queue into `batch`, up to `max`.
fn take_waiting(rx: &Receiver<Item>, batch: &mut Vec<Item>, max: usize) {
    while batch.len() < max {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
}

/// One committer thread's state.
struct Committer {
    store: Arc<Store>,
    opts: LiveOptions,
    shared: Arc<Shared>,
    zstd: FrameCompressor,
    summary: LiveSummary,
}

impl Committer {
    fn run(&mut self, rx: &Receiver<Item>) {
        let max = self.opts.max_batch.max(1);
        let mut batch: Vec<Item> = Vec::new();
        loop {
            match self.gather(rx, &mut batch, max) {
                Gathered::Batch => {
                    self.commit(&mut batch);
                    self.maybe_attribute();
                }
                Gathered::Idle => {
                    self.maybe_settle(true);
                    self.maybe_attribute();
                }
                Gathered::Closed => break,
            }
        }
    }

    /// Takes the next batch into `batch`. One committer gathers at a time
    /// (the others wait for their turn, not on the queue), so a batch is
    /// everything that came while the committers were busy. When other
    /// batches are being committed, it then waits
    /// [`LiveOptions::batch_wait`] for more: under load the batches grow
    /// (fewer commits for the same messages: less CPU a message) at no
    /// cost to throughput, while a lone message is never held back.
    fn gather(&self, rx: &Receiver<Item>, batch: &mut Vec<Item>, max: usize) -> Gathered {
        let _turn = lock(&self.shared.gathering);
        // Wake every settle period: batches another committer published
        // since this wait began are settled then (and an attribution
        // started when due).
        match rx.recv_timeout(SETTLE_EVERY) {
            Ok(first) => batch.push(first),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => return Gathered::Idle,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Gathered::Closed,
        }
        take_waiting(rx, batch, max);
        if !self.opts.batch_wait.is_zero()
            && batch.len() < max
            && !lock(&self.shared.inflight).is_empty()
        {
            std::thread::sleep(self.opts.batch_wait);
            take_waiting(rx, batch, max);
        }
        Gathered::Batch
    }

    /// Settles every batch published so far (one fsync per directory for
    /// all), when [`SETTLE_EVERY`] has passed since the last settle or
    /// `idle` (no message came for that long), unless another committer is
    /// settling (it, a later call or the close settles what is left).
    fn maybe_settle(&self, idle: bool) {
        let sh = &self.shared;
        if !sh.unsettled.load(Ordering::Relaxed) {
            return;
        }
        {
            let mut last = lock(&sh.last_settle);
            if !idle && last.elapsed() < SETTLE_EVERY {
                return;
            }
            *last = Instant::now();
        }
        sh.unsettled.store(false, Ordering::Relaxed);
        if let Err(e) = self.store.settle_if_idle() {
            sh.unsettled.store(true, Ordering::Relaxed);
            tracing::warn!("settling commits failed (the next open finishes them): {e}");
        }
    }

    /// Starts attribution on its own thread when it is due and none runs.
    fn maybe_attribute(&mut self) {
        let sh = &self.shared;
        if sh.unattributed.load(Ordering::Relaxed) == 0 || self.opts.attribute.is_none() {
            return;
        }
        let mut running = lock(&sh.attributing);
        if running.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let mut last = lock(&sh.last_attribution);
        if last.elapsed() < self.opts.attribute_every {
            return;
        }
        if let Some(t) = running.take() {
            let _ = t.join();
        }
        let (store, opts) = (Arc::clone(&self.store), self.opts.attribute.clone());
        *last = Instant::now();
        sh.unattributed.store(0, Ordering::Relaxed);
        *running = std::thread::Builder::new()
            .name("live-attribute".into())
            .spawn(move || {
                if let Some(a) = opts
                    && let Err(e) = crate::attribute(&store, &a)
                {
                    tracing::warn!("attribution of the new messages failed: {e}");
                }
            })
            .ok();
    }

    /// A message found already stored may be in a batch still committing
    /// (or failing) on another thread: its answer waits for every batch
    /// that was in flight when this one was written, and is a failure if
    /// any batch failed since this one started (conservative: a batch that
    /// failed before it started had forgotten its keys, so its messages
    /// were not duplicates here).
    fn settle_duplicates(&self, before: &[u64], failures: u64, acks: &mut [LiveAck]) {
        if !acks.iter().any(|a| matches!(a, LiveAck::Duplicate { .. })) {
            return;
        }
        let sh = &self.shared;
        let mut inflight = lock(&sh.inflight);
        while before.iter().any(|b| inflight.contains(b)) {
            inflight = sh
                .settled
                .wait(inflight)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        drop(inflight);
        if sh.failures.load(Ordering::SeqCst) != failures {
            for a in acks.iter_mut() {
                if matches!(a, LiveAck::Duplicate { .. }) {
                    *a = LiveAck::Failed {
                        detail: "a batch that may hold the same message failed".into(),
                    };
                }
            }
        }
    }

    /// Writes and commits one batch, then resolves its callbacks.
    fn commit(&mut self, batch: &mut Vec<Item>) {
        let n = batch.len() as u64;
        self.summary.submitted += n;
        self.summary.max_batch = self.summary.max_batch.max(n);
        let mut writer = self
            .store
            .message_writer()
            .with_limits(depeer_store::BatchLimits {
                // The writer sizes its column builders by this limit: the
                // batch's own size (a commit of 20 messages does not reserve
                // room for a million); it commits once, when the last
                // message is added or at `finish`.
                messages: batch.len().max(1),
                raw_bytes: u64::MAX,
            })
            // The answers wait for the commit point and the renames, not
            // for the directory fsyncs after them (settled below).
            .with_early_ack(true);
        let mut acks: Vec<LiveAck> = Vec::with_capacity(batch.len());
        let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let failures = self.shared.failures.load(Ordering::SeqCst);
        lock(&self.shared.inflight).insert(seq);
        let result = self.write(&mut writer, batch, &mut acks);
        // The batches that may hold the originals of this one's duplicates.
        let before: Vec<u64> = lock(&self.shared.inflight)
            .iter()
            .copied()
            .filter(|&b| b != seq)
            .collect();
        let result = result.and_then(|()| writer.finish());
        if result.is_err() {
            self.shared.failures.fetch_add(1, Ordering::SeqCst);
        }
        lock(&self.shared.inflight).remove(&seq);
        self.shared.settled.notify_all();
        if result.is_ok() {
            self.settle_duplicates(&before, failures, &mut acks);
        }
        match result {
            Ok(()) => {
                self.summary.commits += 1;
                for a in &acks {
                    match a {
                        LiveAck::Stored { .. } => {
                            self.summary.stored += 1;
                            self.shared.unattributed.fetch_add(1, Ordering::Relaxed);
                        }
                        LiveAck::Duplicate { .. } => self.summary.duplicate += 1,
                        LiveAck::Quarantined { .. } => self.summary.quarantined += 1,
                        LiveAck::Failed { .. } => self.summary.failed += 1,
                    }
                }
                for (item, ack) in batch.drain(..).zip(acks) {
                    (item.done)(ack);
                }
                self.shared.unsettled.store(true, Ordering::Relaxed);
                self.maybe_settle(false);
            }
            Err(e) => {
                tracing::error!("committing {n} live messages failed: {e}");
                self.summary.failed += n;
                let detail = e.to_string();
                for item in batch.drain(..) {
                    (item.done)(LiveAck::Failed {
                        detail: detail.clone(),
                    });
                }
            }
        }
    }

    fn write(
        &mut self,
        writer: &mut depeer_store::MessageWriter,
        batch: &mut [Item],
        acks: &mut Vec<LiveAck>,
    ) -> depeer_store::Result<()> {
        write_items(&mut self.zstd, writer, batch, acks)
    }
}

/// Adds every item to the writer: messages in shared frames of about
/// [`FRAME_TARGET_BYTES`], unparsable ones to quarantine. `acks` gets one
/// entry per item, in order.
fn write_items(
    zstd: &mut FrameCompressor,
    writer: &mut depeer_store::MessageWriter,
    batch: &mut [Item],
    acks: &mut Vec<LiveAck>,
) -> depeer_store::Result<()> {
    let mut buf = Vec::new();
    let mut members = Vec::new();
    let mut slots = Vec::new();
    for (i, item) in batch.iter_mut().enumerate() {
        acks.push(LiveAck::Failed {
            detail: "not written".into(),
        });
        match item.parsed.take() {
            None => {}
            Some(Ok(ex)) => {
                if !buf.is_empty() && buf.len() + item.raw.len() > FRAME_TARGET_BYTES {
                    flush(zstd, writer, (&mut buf, &mut members, &mut slots), acks)?;
                }
                let member = FrameMember::new(ex.message, ex.urls, buf.len() as u64)
                    .with_smtp(item.envelope.clone());
                buf.extend_from_slice(&item.raw);
                members.push(member);
                slots.push(i);
            }
            Some(Err(q)) => {
                writer.add_quarantine(&q)?;
                if let Some(a) = acks.get_mut(i) {
                    *a = LiveAck::Quarantined {
                        reason: q.reason.clone(),
                    };
                }
            }
        }
    }
    flush(zstd, writer, (&mut buf, &mut members, &mut slots), acks)
}

/// The frame being filled: its bytes, its members, and the batch slot of
/// each member.
type Filling<'a> = (
    &'a mut Vec<u8>,
    &'a mut Vec<FrameMember>,
    &'a mut Vec<usize>,
);

fn flush(
    zstd: &mut FrameCompressor,
    writer: &mut depeer_store::MessageWriter,
    (buf, members, slots): Filling<'_>,
    acks: &mut [LiveAck],
) -> depeer_store::Result<()> {
    if members.is_empty() {
        return Ok(());
    }
    let shas: Vec<String> = members.iter().map(|m| hex(&m.msg.sha256)).collect();
    let frame = zstd.compress(buf);
    buf.clear();
    let outcomes = writer.add_frame(&frame, std::mem::take(members))?;
    for ((slot, sha256), o) in slots.drain(..).zip(shas).zip(outcomes) {
        if let Some(a) = acks.get_mut(slot) {
            *a = match o {
                AddOutcome::Stored => LiveAck::Stored { sha256 },
                AddOutcome::Duplicate => LiveAck::Duplicate { sha256 },
            };
        }
    }
    Ok(())
}

/// Stores live messages that were received elsewhere (a trap publishing
/// to NATS JetStream, stored by `depeer worker`) in one commit of `store`,
/// exactly as [`LiveMail`] stores them on the trap's machine: the same
/// extraction (the relay is the connecting address, the envelope is
/// recorded, `arrival_time` is `received_at`), shared frames, the store's
/// writer and its evidence log. Each message comes with its index in the
/// trap's run (the `source_index` the trap's own sink would give it).
/// Returns one answer per message, in order; nothing is visible unless
/// this returns `Ok`.
pub fn commit_live(
    store: &Store,
    msgs: Vec<(LiveMessage, u64)>,
    trust: &TrustConfig,
) -> Result<Vec<LiveAck>, IngestError> {
    let mut items: Vec<Item> = msgs
        .into_iter()
        .map(|(msg, index)| {
            let parsed = extract(&msg, trust, index);
            Item {
                raw: msg.raw,
                parsed: Some(parsed),
                envelope: msg.envelope,
                done: Box::new(|_| {}),
            }
        })
        .collect();
    let mut writer = store
        .message_writer()
        .with_limits(depeer_store::BatchLimits {
            messages: items.len().max(1),
            raw_bytes: u64::MAX,
        });
    let mut acks = Vec::with_capacity(items.len());
    write_items(
        &mut FrameCompressor::new(),
        &mut writer,
        &mut items,
        &mut acks,
    )
    .and_then(|()| writer.finish())
    .map_err(IngestError::store("committing live messages"))?;
    Ok(acks)
}

fn hex(b: &[u8; 32]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(64);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(raw: &[u8]) -> LiveMessage {
        LiveMessage {
            raw: raw.to_vec(),
            envelope: SmtpEnvelope {
                peer_ip: "192.0.2.9".parse().unwrap(),
                helo: Some("bot.example".into()),
                mail_from: Some("a@x.example".into()),
                rcpt_to: vec!["b@trap.example".into()],
                tls: None,
                anomalies: vec![],
            },
            received_at: Timestamp(1_700_000_000_000_000),
            source: "smtp:test".into(),
        }
    }

    #[test]
    fn every_message_is_resolved_once_after_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = LiveOptions::new(dir.path().join("data"));
        opts.attribute = None;
        let sink = LiveMail::open(opts).unwrap();
        let tx = sink.sender().unwrap();
        let (ack_tx, ack_rx) = std::sync::mpsc::channel();
        let one = b"From: a@x.example\r\nSubject: one\r\n\r\nhttp://one.example/\r\n";
        for raw in [&one[..], &one[..], b"\x00\x01 not a message"] {
            let ack_tx = ack_tx.clone();
            tx.submit(msg(raw), Box::new(move |a| ack_tx.send(a).unwrap()));
        }
        let mut acks: Vec<LiveAck> = (0..3).map(|_| ack_rx.recv().unwrap()).collect();
        acks.sort_by_key(|a| format!("{a:?}"));
        assert!(acks.iter().all(LiveAck::is_durable), "{acks:?}");
        assert_eq!(
            acks.iter()
                .filter(|a| matches!(a, LiveAck::Stored { .. }))
                .count(),
            1
        );
        assert_eq!(
            acks.iter()
                .filter(|a| matches!(a, LiveAck::Duplicate { .. }))
                .count(),
            1
        );
        drop(tx);
        let s = sink.close().unwrap();
        assert_eq!((s.submitted, s.stored, s.duplicate), (3, 1, 1));
        assert_eq!(s.quarantined + s.stored + s.duplicate, 3, "{s:?}");
        // Visible with its relay and envelope.
        let rows = depeer_store::sql(
            &dir.path().join("data"),
            "SELECT relay_ip, smtp_helo, smtp_rcpt_to FROM messages",
        )
        .unwrap();
        assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    }
}
