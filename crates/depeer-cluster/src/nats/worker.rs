//! `depeer worker`: pulls batches from the durable consumer, runs them
//! through the embedded pipeline, commits, and only then acknowledges.
//! How concurrent workers keep one dataset and one evidence log: the
//! module header of [`crate::nats`].
//!
//! One batch: the mail objects of it are extracted without any lock
//! (`depeer_ingest::prepare_mail`), then written and committed under the
//! dataset's writer lock (`depeer_ingest::commit_mail`); each job (mrt,
//! feed, as2org) runs alone, as the command would. While a batch is being
//! processed the worker tells the server it is in progress (`+WPI`) every
//! third of the ack wait, so that a long job is not delivered again to
//! another worker; a killed worker stops doing so, and its batch is
//! delivered again after the ack wait.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer, stream::Stream};
use depeer_core::{Quarantine, SourceRef, Timestamp};
use depeer_ingest::{AttributeMode, LiveAck, LiveMessage, MailItem, MailObject};
use depeer_store::{Store, StoreError, Warm};
use futures_util::StreamExt;
use serde::Serialize;

use crate::nats::trap::SmtpHeader;
use crate::nats::wire::{self, Job, JobKind, MailHeader};
use crate::nats::{NatsError, connect, runtime};

/// How to run a worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The server (`nats://host:port`).
    pub url: String,
    /// The stream's name.
    pub stream: String,
    /// The consumer's name.
    pub consumer: String,
    /// The data directory (shared by every worker).
    pub data: PathBuf,
    /// Most objects per batch (one commit per batch of mail); a pull also
    /// asks for at most `batch` x 4 KiB of payload (at least twice the
    /// server's maximum payload), so that a batch of bundles holds about
    /// as many messages as a batch of lone messages would.
    pub batch: usize,
    /// Stop after this long with nothing pending or unacknowledged.
    pub exit_when_idle: Option<Duration>,
    /// The trust boundary of the mail extraction.
    pub trust: depeer_mail::TrustConfig,
    /// Attribute when idle (off: leave it to `depeer attribute`).
    pub attribute: bool,
    /// How long one pull waits for objects.
    pub fetch_wait: Duration,
}

impl WorkerOptions {
    /// Defaults: batches of 10,000 objects, attribution when idle.
    pub fn new(url: &str, data: PathBuf) -> Self {
        WorkerOptions {
            url: url.to_string(),
            stream: super::STREAM.into(),
            consumer: super::CONSUMER.into(),
            data,
            batch: 10_000,
            exit_when_idle: None,
            trust: depeer_mail::TrustConfig::default(),
            attribute: true,
            fetch_wait: Duration::from_secs(1),
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WorkerSummary {
    /// Batches processed.
    pub batches: u64,
    /// Objects acknowledged.
    pub objects: u64,
    /// Mail messages read from the stream.
    pub messages: u64,
    /// New messages committed.
    pub stored: u64,
    /// Messages already stored (sent twice, or delivered again).
    pub duplicate: u64,
    /// Messages or inputs kept in quarantine (as `ingest mail` does).
    pub quarantined: u64,
    /// Quarantine counts by reason.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// URLs of the new messages.
    pub urls: u64,
    /// Jobs run, by kind.
    pub jobs: BTreeMap<String, u64>,
    /// Jobs found already done (delivered again after a crash).
    pub jobs_already_done: u64,
    /// Objects that failed and were delivered again.
    pub retried: u64,
    /// Objects quarantined as poison (failed on every delivery).
    pub poison: u64,
    /// Mail commits.
    pub commits: u64,
    /// Attribution runs.
    pub attributions: u64,
    /// Times the server could not be reached.
    pub server_errors: u64,
    /// Wall time.
    pub seconds: f64,
    /// `messages / seconds`.
    pub messages_per_second: f64,
}

/// What attribution is due when the consumer is next idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Nothing,
    NewMessages,
    Everything,
}

/// The worker's connection and state.
struct Worker {
    opts: WorkerOptions,
    client: async_nats::Client,
    stream: Stream,
    consumer: PullConsumer,
    max_deliver: i64,
    ack_wait: Duration,
    scratch: tempfile::TempDir,
    summary: WorkerSummary,
    due: Due,
    /// What the last open of the dataset read, kept between batches while
    /// the lock is released (see [`open_store_waiting`]).
    warm: Option<Warm>,
}

/// Runs a worker until `exit_when_idle` (or forever).
pub fn run_worker(o: &WorkerOptions) -> Result<WorkerSummary, NatsError> {
    let started = Instant::now();
    let mut opts = o.clone();
    std::fs::create_dir_all(&opts.data).map_err(|source| NatsError::File {
        path: opts.data.clone(),
        source,
    })?;
    // Absolute: jobs run with the scratch directory as the current one.
    opts.data = std::path::absolute(&opts.data).map_err(|source| NatsError::File {
        path: opts.data.clone(),
        source,
    })?;
    let scratch = tempfile::Builder::new()
        .prefix("depeer-worker-")
        .tempdir()
        .map_err(|source| NatsError::File {
            path: std::env::temp_dir(),
            source,
        })?;
    let rt = runtime()?;
    let summary = rt.block_on(async move {
        let client = connect(&opts.url).await?;
        let js = jetstream::new(client.clone());
        let stream = js.get_stream(&opts.stream).await.map_err(|e| {
            NatsError::js(format!(
                "stream {} (run `depeer nats setup` first)",
                opts.stream
            ))(e.to_string())
        })?;
        let consumer: PullConsumer = stream.get_consumer(&opts.consumer).await.map_err(|e| {
            NatsError::js(format!(
                "consumer {} (run `depeer nats setup` first)",
                opts.consumer
            ))(e.to_string())
        })?;
        let config = &consumer.cached_info().config;
        let (max_deliver, ack_wait) = (config.max_deliver, config.ack_wait);
        let mut w = Worker {
            opts,
            client,
            stream,
            consumer,
            max_deliver,
            ack_wait,
            scratch,
            summary: WorkerSummary::default(),
            // A worker killed before it attributed leaves messages without
            // a row: whoever starts next looks at its first idle moment.
            due: Due::NewMessages,
            warm: None,
        };
        w.run().await?;
        Ok::<_, NatsError>(w.summary)
    })?;
    let mut s = summary;
    s.seconds = started.elapsed().as_secs_f64();
    s.messages_per_second = if s.seconds > 0.0 {
        s.messages as f64 / s.seconds
    } else {
        0.0
    };
    Ok(s)
}

impl Worker {
    async fn run(&mut self) -> Result<(), NatsError> {
        let mut idle_since: Option<Instant> = None;
        loop {
            let msgs = self.fetch().await;
            if !msgs.is_empty() {
                idle_since = None;
                self.batch(msgs).await?;
                continue;
            }
            let state = self
                .consumer
                .info()
                .await
                .map(|i| (i.num_pending, i.num_ack_pending));
            let idle = match state {
                Ok((pending, unacked)) => pending == 0 && unacked == 0,
                Err(e) => {
                    self.summary.server_errors += 1;
                    tracing::warn!("consumer info: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    false
                }
            };
            if !idle {
                idle_since = None;
                continue;
            }
            if self.due > Due::Nothing {
                self.attribute().await?;
                continue;
            }
            let since = *idle_since.get_or_insert_with(Instant::now);
            if self
                .opts
                .exit_when_idle
                .is_some_and(|d| since.elapsed() >= d)
            {
                return Ok(());
            }
        }
    }

    /// What is there now, else what comes within `fetch_wait`.
    async fn fetch(&mut self) -> Vec<jetstream::Message> {
        for wait in [None, Some(self.opts.fetch_wait)] {
            // A pull whose server went away may never end: bounded here.
            let limit = self.opts.fetch_wait + Duration::from_secs(5);
            match tokio::time::timeout(limit, self.pull(wait)).await {
                Ok(Ok(out)) if !out.is_empty() => return out,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    self.summary.server_errors += 1;
                    tracing::warn!("pull request: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Vec::new();
                }
                Err(_) => {
                    self.summary.server_errors += 1;
                    return Vec::new();
                }
            }
        }
        Vec::new()
    }

    /// One pull request: without `wait`, only what is there now.
    async fn pull(&self, wait: Option<Duration>) -> Result<Vec<jetstream::Message>, String> {
        let n = self.opts.batch.max(1);
        // A message larger than a pull's byte limit would never be
        // delivered: the limit is at least twice the largest there can be.
        let max_payload = self.client.server_info().max_payload;
        let bytes = n
            .saturating_mul(4 << 10)
            .max(max_payload.saturating_mul(2).saturating_add(64 << 10));
        let batch = match wait {
            None => {
                self.consumer
                    .fetch()
                    .max_messages(n)
                    .max_bytes(bytes)
                    .messages()
                    .await
            }
            Some(w) => {
                self.consumer
                    .batch()
                    .max_messages(n)
                    .max_bytes(bytes)
                    .expires(w)
                    .messages()
                    .await
            }
        };
        let mut batch = batch.map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => out.push(m),
                Err(e) => {
                    tracing::debug!("pull: {e}");
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Processes one batch: the mail in one commit, each job alone.
    async fn batch(&mut self, msgs: Vec<jetstream::Message>) -> Result<(), NatsError> {
        self.summary.batches += 1;
        let mut b = MailBatch::default();
        let mut jobs: Vec<(jetstream::Message, Job)> = Vec::new();
        for m in msgs {
            let delivered = m.info().map_or(1, |i| i.delivered);
            if self.max_deliver > 0 && delivered >= self.max_deliver {
                let q = poison_of(
                    &m,
                    "nats-max-deliver",
                    format!("delivered {delivered} times without being committed"),
                );
                b.poison.push(q);
                b.msgs.push(m);
                continue;
            }
            match self.decode(&m).await {
                Ok(Decoded::Mail(items)) => b.mail.extend(items),
                Ok(Decoded::Smtp(msg)) => b.smtp.push(msg),
                Ok(Decoded::Job(job)) => {
                    jobs.push((m, job));
                    continue;
                }
                Err(Bad::Poison(detail)) => b.poison.push(poison_of(&m, "nats-poison", detail)),
                Err(Bad::Retry(detail)) => {
                    tracing::warn!("{detail}; delivered again later");
                    self.nak(&m).await;
                    continue;
                }
            }
            b.msgs.push(m);
        }
        if !b.msgs.is_empty() {
            self.commit_mail(b).await?;
        }
        for (m, job) in jobs {
            self.job(m, job).await?;
        }
        let _ = self.client.flush().await;
        Ok(())
    }

    async fn nak(&mut self, m: &jetstream::Message) {
        self.summary.retried += 1;
        let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
    }

    /// Turns one message into mail or a job (fetching its parts).
    async fn decode(&self, m: &jetstream::Message) -> Result<Decoded, Bad> {
        let kind = JobKind::of_subject(m.subject.as_str())
            .ok_or_else(|| Bad::Poison(format!("unknown subject {}", m.subject)))?;
        let payload = self.payload(m).await?;
        match kind {
            JobKind::Smtp => {
                let head: SmtpHeader = header(m, wire::SMTP)
                    .ok_or_else(|| Bad::Poison(format!("no {} header", wire::SMTP)))
                    .and_then(|h| {
                        serde_json::from_str(h)
                            .map_err(|e| Bad::Poison(format!("{}: {e}", wire::SMTP)))
                    })?;
                head.into_message(payload)
                    .map(Decoded::Smtp)
                    .map_err(Bad::Poison)
            }
            JobKind::Mail | JobKind::Quarantine => {
                let mut head: MailHeader = header(m, wire::META)
                    .ok_or_else(|| Bad::Poison(format!("no {} header", wire::META)))
                    .and_then(|h| {
                        serde_json::from_str(h)
                            .map_err(|e| Bad::Poison(format!("{}: {e}", wire::META)))
                    })?;
                // The subject decides: mail is mail, a quarantined input
                // always has a reason.
                if kind == JobKind::Mail {
                    head.reason = None;
                } else if head.reason.is_none() {
                    head.reason = Some("unreadable".into());
                }
                let item = mail_item(head, payload);
                Ok(Decoded::Mail(vec![item]))
            }
            JobKind::Bundle => {
                match header(m, wire::BUNDLE) {
                    Some("1") => {}
                    v => return Err(Bad::Poison(format!("bundle version {v:?}"))),
                }
                let members = wire::bundle_decode(&payload).map_err(Bad::Poison)?;
                Ok(Decoded::Mail(
                    members
                        .into_iter()
                        .map(|(head, body)| mail_item(head, body.to_vec()))
                        .collect(),
                ))
            }
            _ => {
                let job: Job = serde_json::from_slice(&payload)
                    .map_err(|e| Bad::Poison(format!("not a job document: {e}")))?;
                if job.v != 1 || job.kind != kind {
                    return Err(Bad::Poison(format!(
                        "job version {} of kind {:?} on {}",
                        job.v, job.kind, m.subject
                    )));
                }
                Ok(Decoded::Job(job))
            }
        }
    }

    /// The message's bytes, joined from its parts when it has them.
    async fn payload(&self, m: &jetstream::Message) -> Result<Vec<u8>, Bad> {
        let Some(list) = header(m, wire::PARTS) else {
            return Ok(m.payload.to_vec());
        };
        let seqs = wire::parse_parts(list)
            .ok_or_else(|| Bad::Poison(format!("{}: {list:?}", wire::PARTS)))?;
        let bytes = self.join_parts(&seqs).await?;
        match header(m, wire::SHA256) {
            Some(want) if wire::sha256_hex(&bytes) != want => Err(Bad::Poison(format!(
                "its parts do not add up to SHA-256 {want}"
            ))),
            _ => Ok(bytes),
        }
    }

    async fn join_parts(&self, seqs: &[u64]) -> Result<Vec<u8>, Bad> {
        let mut out = Vec::new();
        for &seq in seqs {
            match self.stream.get_raw_message(seq).await {
                Ok(p) => out.extend_from_slice(&p.payload),
                Err(e) => {
                    let text = e.to_string();
                    // A part that is gone will not come back.
                    return Err(
                        if text.contains("not found") || text.contains("no message") {
                            Bad::Poison(format!("part at sequence {seq} is gone: {text}"))
                        } else {
                            Bad::Retry(format!("reading part {seq}: {text}"))
                        },
                    );
                }
            }
        }
        Ok(out)
    }

    /// Runs blocking work while telling the server the messages are in
    /// progress every third of the ack wait.
    async fn in_progress<T: Send + 'static>(
        &self,
        msgs: &[&jetstream::Message],
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, NatsError> {
        let task = tokio::task::spawn_blocking(work);
        tokio::pin!(task);
        let period = (self.ack_wait / 3).max(Duration::from_millis(200));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                r = &mut task => return r.map_err(|e| NatsError::Task(e.to_string())),
                _ = tick.tick() => {
                    for m in msgs {
                        let _ = m.ack_with(AckKind::Progress).await;
                    }
                }
            }
        }
    }

    /// Commits the batch's mail, then its trap messages (and its poison,
    /// to quarantine) under one hold of the lock, then acknowledges; on
    /// failure delivers it again.
    async fn commit_mail(&mut self, b: MailBatch) -> Result<(), NatsError> {
        let MailBatch {
            msgs,
            mail: items,
            smtp,
            poison: poison_q,
        } = b;
        let n_mail = (items.len() + smtp.len()) as u64;
        let n_poison = poison_q.len() as u64;
        let (data, trust) = (self.opts.data.clone(), self.opts.trust.clone());
        let refs: Vec<&jetstream::Message> = msgs.iter().collect();
        let mut warm = self.warm.take();
        let (result, warm) = self
            .in_progress(&refs, move || {
                let r = (|| -> Result<depeer_ingest::MailSummary, NatsError> {
                    let prepared = depeer_ingest::prepare_mail(items, &trust, now());
                    let store = open_store_waiting(&data, &mut warm)?;
                    if !poison_q.is_empty() {
                        let failed = |source| NatsError::Store {
                            dir: data.clone(),
                            source,
                        };
                        let mut w = store.message_writer();
                        for q in &poison_q {
                            w.add_quarantine(q).map_err(failed)?;
                        }
                        w.finish().map_err(failed)?;
                    }
                    let mut s = depeer_ingest::commit_mail(&store, prepared)?;
                    if !smtp.is_empty() {
                        count_live(&mut s, &depeer_ingest::commit_live(&store, smtp, &trust)?);
                    }
                    warm = store.release();
                    Ok(s)
                })();
                // After a failure nothing read is kept: the next batch
                // opens the dataset afresh.
                (r, warm)
            })
            .await?;
        self.warm = if result.is_ok() { warm } else { None };
        match result {
            Ok(s) => {
                let sum = &mut self.summary;
                sum.messages += n_mail;
                sum.stored += s.stored;
                sum.duplicate += s.duplicate;
                sum.quarantined += s.quarantined;
                sum.urls += s.urls;
                sum.poison += n_poison;
                sum.commits += 1;
                for (r, n) in s.quarantine_reasons {
                    *sum.quarantine_reasons.entry(r).or_default() += n;
                }
                if s.stored > 0 && self.due < Due::NewMessages {
                    self.due = Due::NewMessages;
                }
                for m in &msgs {
                    self.ack(m).await;
                }
            }
            Err(e) => {
                tracing::error!("committing a batch of {} objects failed: {e}", msgs.len());
                for m in &msgs {
                    self.nak(m).await;
                }
            }
        }
        Ok(())
    }

    async fn ack(&mut self, m: &jetstream::Message) {
        self.summary.objects += 1;
        if let Err(e) = m.ack().await {
            // Delivered again after the ack wait, and found done.
            tracing::warn!("ack: {e}");
        }
    }

    /// Runs one job; acknowledges it, then deletes its parts.
    async fn job(&mut self, m: jetstream::Message, job: Job) -> Result<(), NatsError> {
        let marker = self.opts.data.join("cluster").join("jobs").join(&job.id);
        if marker.exists() {
            self.summary.jobs_already_done += 1;
            self.ack(&m).await;
            self.delete_parts(&job).await;
            return Ok(());
        }
        let mut files = Vec::with_capacity(job.files.len());
        for f in &job.files {
            match self.join_parts(&f.parts).await {
                Ok(b) if wire::sha256_hex(&b) == f.sha256 => files.push(b),
                Ok(_) => {
                    return self
                        .job_failed(
                            m,
                            &job,
                            format!("{}: parts do not add up to its SHA-256", f.path),
                        )
                        .await;
                }
                Err(Bad::Retry(d)) => {
                    tracing::warn!("{d}");
                    self.nak(&m).await;
                    return Ok(());
                }
                Err(Bad::Poison(d)) => return self.job_failed(m, &job, d).await,
            }
        }
        let dir = self.scratch.path().join(&job.id);
        let (data, j) = (self.opts.data.clone(), job.clone());
        let result = self
            .in_progress(&[&m], move || {
                crate::nats::jobs::run(&j, files, &dir, &data)
            })
            .await?;
        match result {
            Ok(()) => {
                if let Some(parent) = marker.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::fs::write(&marker, job.kind.as_str());
                *self
                    .summary
                    .jobs
                    .entry(job.kind.as_str().into())
                    .or_default() += 1;
                self.due = Due::Everything;
                self.ack(&m).await;
                let _ = self.client.flush().await;
                self.delete_parts(&job).await;
                Ok(())
            }
            Err(e) => self.job_failed(m, &job, e).await,
        }
    }

    /// A job that failed: delivered again, or, on its last delivery,
    /// quarantined.
    async fn job_failed(
        &mut self,
        m: jetstream::Message,
        job: &Job,
        detail: String,
    ) -> Result<(), NatsError> {
        let delivered = m.info().map_or(1, |i| i.delivered);
        tracing::warn!(
            "job {} ({}) failed on delivery {delivered}: {detail}",
            job.id,
            job.kind.as_str()
        );
        if self.max_deliver > 0 && delivered + 1 >= self.max_deliver {
            let q = poison_of(&m, "nats-poison", detail);
            let b = MailBatch {
                msgs: vec![m],
                poison: vec![q],
                ..MailBatch::default()
            };
            self.commit_mail(b).await
        } else {
            self.nak(&m).await;
            Ok(())
        }
    }

    async fn delete_parts(&self, job: &Job) {
        for f in &job.files {
            for &seq in &f.parts {
                let _ = self.stream.delete_message(seq).await;
            }
        }
    }

    /// Attribution of what was committed, when everything published is.
    async fn attribute(&mut self) -> Result<(), NatsError> {
        let mode = match self.due {
            Due::Everything => AttributeMode::All,
            _ => AttributeMode::Missing,
        };
        self.due = Due::Nothing;
        if !self.opts.attribute {
            return Ok(());
        }
        let data = self.opts.data.clone();
        let mut warm = self.warm.take();
        let (r, warm) = self
            .in_progress(&[], move || {
                let r = (|| -> Result<bool, NatsError> {
                    let store = open_store_waiting(&data, &mut warm)?;
                    // Every message has its row already (another worker
                    // attributed at its idle moment): nothing to scan.
                    let rows = store
                        .dataset()
                        .row_count(depeer_store::names::ATTRIBUTION)
                        .map_err(|source| NatsError::Store {
                            dir: data.clone(),
                            source,
                        })?;
                    let done =
                        mode == AttributeMode::Missing && rows >= store.message_count() as u64;
                    if store.message_count() == 0 || done {
                        warm = store.release();
                        return Ok(false);
                    }
                    depeer_ingest::attribute(
                        &store,
                        &depeer_ingest::AttributeOptions { mode, rules: None },
                    )?;
                    warm = store.release();
                    Ok(true)
                })();
                (r, warm)
            })
            .await?;
        self.warm = if r.is_ok() { warm } else { None };
        match r {
            Ok(ran) => self.summary.attributions += u64::from(ran),
            Err(e) => tracing::error!("attribution failed (run `depeer attribute`): {e}"),
        }
        Ok(())
    }
}

/// The objects of a batch that are committed together, and what they
/// hold.
#[derive(Default)]
struct MailBatch {
    /// The objects, acknowledged together once committed.
    msgs: Vec<jetstream::Message>,
    mail: Vec<MailItem>,
    /// Trap messages and their index in the trap's run.
    smtp: Vec<(LiveMessage, u64)>,
    poison: Vec<Quarantine>,
}

/// A mail object or an unusable input (a header with a `reason`).
fn mail_item(head: MailHeader, bytes: Vec<u8>) -> MailItem {
    let source = SourceRef::new(head.path, head.offset, head.index);
    match head.reason {
        None => MailItem::Message(MailObject {
            raw: bytes,
            source,
            meta: head.meta,
        }),
        Some(reason) => MailItem::Broken(Quarantine {
            source,
            reason,
            detail: head.detail.unwrap_or_default(),
            bytes,
            truncated: head.truncated,
        }),
    }
}

/// Adds the answers of `commit_live` to the counts of `commit_mail`.
fn count_live(s: &mut depeer_ingest::MailSummary, acks: &[LiveAck]) {
    for a in acks {
        s.read += 1;
        match a {
            LiveAck::Stored { .. } => s.stored += 1,
            LiveAck::Duplicate { .. } => s.duplicate += 1,
            LiveAck::Quarantined { reason } => {
                s.quarantined += 1;
                *s.quarantine_reasons.entry(reason.clone()).or_default() += 1;
            }
            _ => {}
        }
    }
}

/// A decoded object.
enum Decoded {
    /// A mail message, an unusable input, or a bundle of them.
    Mail(Vec<MailItem>),
    /// A trap message and its index in the trap's run.
    Smtp((LiveMessage, u64)),
    Job(Job),
}

/// Why an object could not be decoded.
enum Bad {
    /// It never will be: quarantine it.
    Poison(String),
    /// Not now (the server is away): deliver it again.
    Retry(String),
}

fn header<'a>(m: &'a jetstream::Message, name: &str) -> Option<&'a str> {
    m.headers
        .as_ref()?
        .get(name)
        .map(async_nats::HeaderValue::as_str)
}

/// A quarantine entry for an object that cannot be processed: its bytes
/// as published (the first part's worth for one sent in parts).
fn poison_of(m: &jetstream::Message, reason: &str, detail: String) -> Quarantine {
    let seq = m.info().map_or(0, |i| i.stream_sequence);
    let id = header(m, wire::MSG_ID).unwrap_or("-");
    Quarantine {
        source: SourceRef::new(format!("nats:{}#{seq}", m.subject), 0, 0),
        reason: reason.to_string(),
        detail: format!("Nats-Msg-Id {id}: {detail}"),
        bytes: m.payload.to_vec(),
        truncated: header(m, wire::PARTS).is_some(),
    }
}

/// Opens the dataset for writing, waiting while another writer (a worker,
/// a command) holds its lock. With `warm` (what this worker's last open
/// read, kept while the lock was released), only what other writers
/// committed since is read: the stored SHA-256s of their new parts and
/// their log segments (`Store::open_warm`), so a batch costs O(batch),
/// not O(dataset).
pub(crate) fn open_store_waiting(data: &Path, warm: &mut Option<Warm>) -> Result<Store, NatsError> {
    let mut pause = Duration::from_millis(2);
    loop {
        match Store::open_warm(data, warm) {
            Ok(s) => return Ok(s),
            Err(StoreError::Locked { .. }) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(source) => {
                return Err(NatsError::Store {
                    dir: data.to_path_buf(),
                    source,
                });
            }
        }
    }
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
