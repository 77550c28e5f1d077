//! Producers: `depeer ingest mail|mrt|feed|as2org ... --to nats://...`.
//!
//! Mail is read by the same readers as `ingest mail`
//! (`depeer_ingest::read_mail`) and published in bundles of up to
//! [`ProduceOptions::bundle_messages`] messages and
//! [`ProduceOptions::bundle_bytes`] bytes (`wire::bundle_push`; a larger
//! message goes alone, in parts if it must);
//! MRT, feed and as2org files are published as one job per command (their
//! bytes in parts, see `parts`). Every publish waits for the stream's
//! acknowledgement; up to [`ProduceOptions::window`] acknowledgements are
//! awaited at once, so the producer is not bound by the round trip. A
//! publish that fails (the server restarting, the stream full) is sent
//! again, with the same `Nats-Msg-Id`, until [`ProduceOptions::retry_for`]
//! has passed: a re-send can never store an object twice.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture, publish::PublishAck};
use bytes::Bytes;
use depeer_ingest::{MailItem, MailOptions};
use serde::Serialize;

use crate::nats::parts::{part_limit, split};
use crate::nats::wire::{self, Job, JobFile, JobKind, MailHeader};
use crate::nats::{NatsError, connect, runtime};

/// How to publish.
#[derive(Debug, Clone)]
pub struct ProduceOptions {
    /// The server (`nats://host:port`).
    pub url: String,
    /// Publishes whose acknowledgement may be outstanding at once.
    pub window: usize,
    /// How long to keep re-sending a publish that fails.
    pub retry_for: Duration,
    /// Most mail messages in one bundle (1: every message alone).
    pub bundle_messages: usize,
    /// Most payload bytes of one bundle (capped by the server's maximum
    /// payload).
    pub bundle_bytes: usize,
}

impl ProduceOptions {
    /// 512 acknowledgements in flight, re-sends for two minutes, bundles
    /// of up to 128 messages and 256 KiB (so at most 128 MiB awaits its
    /// acknowledgement).
    pub fn new(url: &str) -> Self {
        ProduceOptions {
            url: url.to_string(),
            window: 512,
            retry_for: Duration::from_secs(120),
            bundle_messages: 128,
            bundle_bytes: 256 << 10,
        }
    }
}

/// What a producer did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ProduceSummary {
    /// Where it published (`nats://...`).
    pub to: String,
    /// Objects published (bundles, lone mail messages, quarantined inputs,
    /// jobs).
    pub objects: u64,
    /// Of them, new to the stream.
    pub accepted: u64,
    /// Of them, dropped by the stream's duplicate window (sent before).
    pub duplicate: u64,
    /// Mail messages and unusable inputs published (in bundles or alone).
    pub messages: u64,
    /// Of them, in objects new to the stream.
    pub messages_accepted: u64,
    /// Bundles among the objects.
    pub bundles: u64,
    /// Inputs the mail reader could not use, published for quarantine.
    pub broken: u64,
    /// Parts of objects larger than the server's maximum payload.
    pub parts: u64,
    /// Payload bytes published, parts included.
    pub bytes: u64,
    /// Input files read.
    pub files: u64,
    /// Publishes sent again after a failure.
    pub resent: u64,
    /// Objects refused, by reason (none today: large objects go in parts).
    pub refused: BTreeMap<String, u64>,
    /// Problems with whole paths.
    pub input_errors: Vec<String>,
    /// The job's identity (mrt, feed, as2org).
    pub job: Option<String>,
    /// Wall time.
    pub seconds: f64,
    /// `objects / seconds`.
    pub objects_per_second: f64,
}

/// One publish whose acknowledgement is awaited.
struct Pending {
    ack: PublishAckFuture,
    /// Mail messages in it.
    members: u64,
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
}

/// A JetStream publisher with a window of outstanding acknowledgements.
struct Publisher {
    rt: tokio::runtime::Runtime,
    js: jetstream::Context,
    inflight: VecDeque<Pending>,
    opts: ProduceOptions,
    limit: usize,
    summary: ProduceSummary,
    /// The bundle being filled, and its members.
    bundle: Vec<u8>,
    bundled: u64,
}

impl Publisher {
    fn connect(opts: &ProduceOptions) -> Result<Publisher, NatsError> {
        let rt = runtime()?;
        let client = rt.block_on(connect(&opts.url))?;
        let limit = part_limit(client.server_info().max_payload);
        // The context spawns its acknowledgement task on the runtime.
        let guard = rt.enter();
        let js = jetstream::context::ContextBuilder::new()
            .timeout(Duration::from_secs(10))
            .max_ack_inflight(opts.window.max(1) * 2)
            .backpressure_on_inflight(true)
            .build(client);
        drop(guard);
        Ok(Publisher {
            rt,
            js,
            inflight: VecDeque::new(),
            opts: opts.clone(),
            limit,
            summary: ProduceSummary {
                to: opts.url.clone(),
                ..ProduceSummary::default()
            },
            bundle: Vec::new(),
            bundled: 0,
        })
    }

    /// Sends one publish (no wait for its acknowledgement).
    fn send(
        &self,
        subject: &str,
        headers: &HeaderMap,
        payload: &Bytes,
    ) -> Result<PublishAckFuture, String> {
        self.rt
            .block_on(self.js.publish_with_headers(
                subject.to_string(),
                headers.clone(),
                payload.clone(),
            ))
            .map_err(|e| e.to_string())
    }

    /// Sends again until acknowledged or out of time.
    fn resend(
        &mut self,
        subject: &str,
        headers: &HeaderMap,
        payload: &Bytes,
        first: String,
    ) -> Result<PublishAck, NatsError> {
        let deadline = Instant::now() + self.opts.retry_for;
        let mut last = first;
        let mut pause = Duration::from_millis(50);
        while Instant::now() < deadline {
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(2));
            self.summary.resent += 1;
            match self.send(subject, headers, payload) {
                Ok(f) => match self.rt.block_on(f.into_future()) {
                    Ok(ack) => return Ok(ack),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e,
            }
        }
        Err(NatsError::JetStream {
            what: format!("publishing to {subject} for {:?}", self.opts.retry_for),
            detail: last,
        })
    }

    fn count(&mut self, ack: &PublishAck, members: u64) {
        if ack.duplicate {
            self.summary.duplicate += 1;
        } else {
            self.summary.accepted += 1;
            self.summary.messages_accepted += members;
        }
    }

    /// Publishes an object; its acknowledgement is awaited later (at most
    /// `window` outstanding).
    fn publish(
        &mut self,
        subject: String,
        headers: HeaderMap,
        payload: Bytes,
        members: u64,
    ) -> Result<(), NatsError> {
        self.summary.objects += 1;
        self.summary.messages += members;
        self.summary.bytes += payload.len() as u64;
        while self.inflight.len() >= self.opts.window.max(1) {
            self.settle_one()?;
        }
        match self.send(&subject, &headers, &payload) {
            Ok(ack) => self.inflight.push_back(Pending {
                ack,
                members,
                subject,
                headers,
                payload,
            }),
            Err(e) => {
                let ack = self.resend(&subject, &headers, &payload, e)?;
                self.count(&ack, members);
            }
        }
        Ok(())
    }

    /// The most bytes a bundle may have.
    fn bundle_limit(&self) -> usize {
        self.opts.bundle_bytes.min(self.limit)
    }

    /// Adds a member to the bundle being filled, publishing it first when
    /// the member would not fit. False: the member is too large for any
    /// bundle (or bundles are off), publish it alone.
    fn bundle_add(&mut self, head: &MailHeader, body: &[u8]) -> Result<bool, NatsError> {
        if self.opts.bundle_messages <= 1 {
            return Ok(false);
        }
        let head = json_header(head)?;
        let len = wire::bundle_member_len(head.len(), body.len());
        // The first member also adds the 4-byte count.
        if len + 4 > self.bundle_limit() {
            return Ok(false);
        }
        if self.bundle.len().max(4) + len > self.bundle_limit() {
            self.bundle_flush()?;
        }
        wire::bundle_push(&mut self.bundle, head.as_bytes(), body);
        self.bundled += 1;
        if self.bundled as usize >= self.opts.bundle_messages {
            self.bundle_flush()?;
        }
        Ok(true)
    }

    /// Publishes the bundle being filled, if any.
    fn bundle_flush(&mut self) -> Result<(), NatsError> {
        if self.bundled == 0 {
            return Ok(());
        }
        let payload = Bytes::from(std::mem::take(&mut self.bundle));
        let members = std::mem::take(&mut self.bundled);
        let mut h = HeaderMap::new();
        h.insert(wire::MSG_ID, wire::bundle_id(&payload).as_str());
        h.insert(wire::BUNDLE, "1");
        self.summary.bundles += 1;
        self.publish(JobKind::Bundle.subject(), h, payload, members)
    }

    fn settle_one(&mut self) -> Result<(), NatsError> {
        let Some(p) = self.inflight.pop_front() else {
            return Ok(());
        };
        let ack = match self.rt.block_on(p.ack.into_future()) {
            Ok(ack) => ack,
            Err(e) => self.resend(&p.subject, &p.headers, &p.payload, e.to_string())?,
        };
        self.count(&ack, p.members);
        Ok(())
    }

    /// Publishes and waits: for parts, whose sequence the object lists.
    fn publish_now(
        &mut self,
        subject: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<PublishAck, NatsError> {
        self.summary.bytes += payload.len() as u64;
        match self.send(subject, &headers, &payload) {
            Ok(f) => match self.rt.block_on(f.into_future()) {
                Ok(ack) => Ok(ack),
                Err(e) => self.resend(subject, &headers, &payload, e.to_string()),
            },
            Err(e) => self.resend(subject, &headers, &payload, e),
        }
    }

    /// Publishes `bytes` in parts; returns their sequences.
    fn publish_parts(
        &mut self,
        kind: JobKind,
        object: &str,
        file: usize,
        bytes: &[u8],
    ) -> Result<Vec<u64>, NatsError> {
        let subject = kind.part_subject();
        let mut seqs = Vec::new();
        for (i, r) in split(bytes, self.limit, kind).into_iter().enumerate() {
            let mut h = HeaderMap::new();
            h.insert(wire::MSG_ID, wire::part_id(object, file, i).as_str());
            let part = Bytes::copy_from_slice(bytes.get(r).unwrap_or_default());
            seqs.push(self.publish_now(&subject, h, part)?.sequence);
            self.summary.parts += 1;
        }
        Ok(seqs)
    }

    /// Waits for every outstanding acknowledgement.
    fn finish(mut self, started: Instant) -> Result<ProduceSummary, NatsError> {
        self.bundle_flush()?;
        while !self.inflight.is_empty() {
            self.settle_one()?;
        }
        let mut s = self.summary;
        s.seconds = started.elapsed().as_secs_f64();
        s.objects_per_second = if s.seconds > 0.0 {
            s.objects as f64 / s.seconds
        } else {
            0.0
        };
        Ok(s)
    }
}

fn json_header(v: &impl Serialize) -> Result<String, NatsError> {
    serde_json::to_string(v).map_err(|e| NatsError::Usage(format!("encoding a header: {e}")))
}

/// Reads mail from `paths` as `ingest mail` does and publishes every
/// message (and every unusable input, for quarantine) to the stream.
pub fn publish_mail(
    paths: &[PathBuf],
    mail: &MailOptions,
    opts: &ProduceOptions,
) -> Result<ProduceSummary, NatsError> {
    let started = Instant::now();
    let mut p = Publisher::connect(opts)?;
    let mut failure: Option<NatsError> = None;
    // An error of the publisher stops the reader; it is returned as itself.
    let read = depeer_ingest::read_mail(paths, mail, &mut |item| {
        publish_item(&mut p, item).map_err(|e| {
            failure = Some(e);
            depeer_ingest::IngestError::Thread {
                thread: "publisher",
            }
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let read = read?;
    p.summary.files = read.files;
    p.summary.input_errors = read.input_errors;
    p.finish(started)
}

fn publish_item(p: &mut Publisher, item: MailItem) -> Result<(), NatsError> {
    match item {
        MailItem::Message(m) => {
            let meta = MailHeader {
                path: m.source.path,
                offset: m.source.offset,
                index: m.source.index,
                meta: m.meta,
                ..MailHeader::default()
            };
            if p.bundle_add(&meta, &m.raw)? {
                return Ok(());
            }
            let sha = wire::sha256_hex(&m.raw);
            let mut h = HeaderMap::new();
            h.insert(wire::MSG_ID, sha.as_str());
            h.insert(wire::META, json_header(&meta)?.as_str());
            if m.raw.len() > p.limit {
                let seqs = p.publish_parts(JobKind::Mail, &sha, 0, &m.raw)?;
                let list: Vec<String> = seqs.iter().map(u64::to_string).collect();
                h.insert(wire::PARTS, list.join(",").as_str());
                h.insert(wire::SHA256, sha.as_str());
                p.publish(JobKind::Mail.subject(), h, Bytes::new(), 1)
            } else {
                p.publish(JobKind::Mail.subject(), h, Bytes::from(m.raw), 1)
            }
        }
        MailItem::Broken(q) => {
            p.summary.broken += 1;
            let mut bytes = q.bytes;
            let mut truncated = q.truncated;
            if bytes.len() > p.limit {
                bytes.truncate(p.limit);
                truncated = true;
            }
            let meta = MailHeader {
                path: q.source.path,
                offset: q.source.offset,
                index: q.source.index,
                reason: Some(q.reason),
                detail: Some(q.detail),
                truncated,
                ..MailHeader::default()
            };
            if p.bundle_add(&meta, &bytes)? {
                return Ok(());
            }
            let head = json_header(&meta)?;
            let mut id = head.clone().into_bytes();
            id.extend_from_slice(&bytes);
            let mut h = HeaderMap::new();
            h.insert(wire::MSG_ID, wire::sha256_hex(&id).as_str());
            h.insert(wire::META, head.as_str());
            p.publish(JobKind::Quarantine.subject(), h, Bytes::from(bytes), 1)
        }
    }
}

/// Reads one input as stored (compressed or not: the worker decodes it as
/// the command would).
fn read_whole(input: &depeer_io::Input) -> Result<Vec<u8>, NatsError> {
    let mut r = input
        .open()
        .map_err(|e| NatsError::Usage(format!("{}: {e}", input.display)))?;
    let mut buf = Vec::new();
    r.read_to_end(&mut buf).map_err(|source| NatsError::File {
        path: PathBuf::from(&input.display),
        source,
    })?;
    Ok(buf)
}

/// Publishes the files of one `depeer ingest mrt|feed|as2org` command as
/// one job with `options` (what the worker passes to the command).
pub(crate) fn publish_files(
    kind: JobKind,
    inputs: &[(PathBuf, &str)],
    options: serde_json::Value,
    opts: &ProduceOptions,
) -> Result<ProduceSummary, NatsError> {
    let started = Instant::now();
    let mut files: Vec<(depeer_io::Input, String)> = Vec::new();
    let mut input_errors = Vec::new();
    for (path, role) in inputs {
        let (found, errors) = depeer_io::walk(std::slice::from_ref(path));
        input_errors.extend(errors.iter().map(ToString::to_string));
        files.extend(found.into_iter().map(|i| (i, (*role).to_string())));
    }
    if !files.iter().any(|(_, role)| role == "input") {
        return Err(NatsError::Ingest(
            depeer_ingest::IngestError::NothingToRead {
                expected: "files, directories or `-`",
                problems: input_errors,
            },
        ));
    }
    // Pass 1: the job's identity from the files' contents.
    let mut listed = Vec::with_capacity(files.len());
    for (input, role) in &files {
        let bytes = read_whole(input)?;
        listed.push((
            input.display.clone(),
            role.clone(),
            wire::sha256_hex(&bytes),
        ));
    }
    let id = wire::job_id(kind, &options, &listed);
    let mut p = Publisher::connect(opts)?;
    p.summary.input_errors = input_errors;
    // Pass 2: the parts (stdin was read once, in pass 1: it is refused).
    let mut job_files = Vec::with_capacity(files.len());
    for (i, ((input, _), (display, role, sha))) in files.iter().zip(listed).enumerate() {
        let bytes = read_whole(input)?;
        if wire::sha256_hex(&bytes) != sha {
            return Err(NatsError::Usage(format!(
                "{display} changed while it was being published (or is stdin): publish a file that stays put"
            )));
        }
        let parts = p.publish_parts(kind, &id, i, &bytes)?;
        p.summary.files += 1;
        job_files.push(JobFile {
            path: display,
            role,
            size: bytes.len() as u64,
            sha256: sha,
            parts,
        });
    }
    let job = Job {
        v: 1,
        kind,
        id: id.clone(),
        options,
        files: job_files,
    };
    let body =
        serde_json::to_vec(&job).map_err(|e| NatsError::Usage(format!("encoding the job: {e}")))?;
    let mut h = HeaderMap::new();
    h.insert(wire::MSG_ID, id.as_str());
    p.summary.objects += 1;
    let ack = p.publish_now(&kind.subject(), h, Bytes::from(body))?;
    p.count(&ack, 0);
    p.summary.job = Some(id);
    p.finish(started)
}
