//! [`MessageWriter`]: appends messages, their URLs and quarantined records
//! to a staged batch and commits it through the journal every
//! [`BatchLimits`] (and at [`MessageWriter::finish`]).
//!
//! Rows go straight into Arrow builders (one allocation per column per
//! batch, none per row); compressed raw bytes go straight into the staged
//! pack file. At commit the rows are cut into one Parquet part per day.

use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder, UInt32Array,
};
use datafusion::arrow::compute::take_record_batch;
use depeer_core::{MessageObs, Quarantine, SmtpEnvelope, Timestamp, UrlObs};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::evidence::{LogSegment, commit_logged_as, seconds_of};
use crate::journal::{Batch, STAGING};
use crate::parquet_io::{ts_builder, write_part};
use crate::raw::{PackWriter, compress_raw};
use crate::schema::{names, schema_of};
use crate::state::{Inner, key_of, now_micros, quarantine_key};

/// What happened to an added record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// It was new and is now stored (durable at the next commit).
    Stored,
    /// The same record was already stored; nothing was written.
    Duplicate,
}

/// When a writer commits on its own.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Commit after this many messages.
    pub messages: usize,
    /// Commit when the compressed raw bytes of the batch reach this size.
    pub raw_bytes: u64,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            messages: 50_000,
            raw_bytes: 64 << 20,
        }
    }
}

/// One message of a shared raw frame (see [`MessageWriter::add_frame`]).
#[derive(Debug, Clone)]
pub struct FrameMember {
    /// The message's observations.
    pub msg: MessageObs,
    /// Its URLs.
    pub urls: Vec<UrlObs>,
    /// Where its raw bytes start in the decompressed frame (`msg.size`
    /// bytes long).
    pub inner_offset: u64,
    /// The SMTP envelope when the message was received live (`depeer
    /// trap`); `None` for messages read from files.
    pub smtp: Option<SmtpEnvelope>,
}

impl FrameMember {
    /// A member whose bytes start at `inner_offset` of the frame.
    pub fn new(msg: MessageObs, urls: Vec<UrlObs>, inner_offset: u64) -> Self {
        FrameMember {
            msg,
            urls,
            inner_offset,
            smtp: None,
        }
    }

    /// The same member with the SMTP envelope it was received with.
    pub fn with_smtp(mut self, smtp: SmtpEnvelope) -> Self {
        self.smtp = Some(smtp);
        self
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Declares a struct of one Arrow builder per column of a table, in the
/// table's column order, plus the day of each row: `new(n)` sizes it for
/// `n` rows (`Text(b)`: about `b` bytes a value) and `finish` makes the
/// batch.
macro_rules! table_builders {
    ($ty:ident for $table:path { $($col:ident: $kind:ident $(($bytes:literal))?),* $(,)? }) => {
        struct $ty {
            $($col: table_builders!(@type $kind),)*
            days: Vec<i64>,
        }

        impl $ty {
            fn new(n: usize) -> Self {
                $ty {
                    $($col: table_builders!(@new n $kind $($bytes)?),)*
                    days: Vec::with_capacity(n),
                }
            }

            fn finish(&mut self) -> Result<RecordBatch> {
                let cols: Vec<ArrayRef> = vec![$(Arc::new(self.$col.finish())),*];
                RecordBatch::try_new(schema_of($table), cols).map_err(StoreError::arrow($table))
            }
        }
    };
    (@type Text) => { StringBuilder };
    (@type Int) => { Int64Builder };
    (@type Bool) => { BooleanBuilder };
    (@type Time) => { TimestampMicrosecondBuilder };
    (@new $n:ident Text $bytes:literal) => { StringBuilder::with_capacity($n, $n * $bytes) };
    (@new $n:ident Int) => { Int64Builder::with_capacity($n) };
    (@new $n:ident Bool) => { BooleanBuilder::with_capacity($n) };
    (@new $n:ident Time) => { ts_builder($n) };
}

table_builders!(MessageCols for names::MESSAGES {
    sha256: Text(64),
    arrival_time: Time,
    arrival_source: Text(8),
    relay_ip: Text(14),
    relay_helo: Text(16),
    relay_rdns: Text(16),
    envelope_from: Text(24),
    from_addr: Text(24),
    to_addr: Text(24),
    subject: Text(40),
    message_id: Text(40),
    date_header: Time,
    size: Int,
    fingerprint: Text(32),
    url_count: Int,
    source_file: Text(24),
    source_offset: Int,
    source_index: Int,
    raw_pack: Text(28),
    raw_offset: Int,
    raw_len: Int,
    raw_inner_offset: Int,
    smtp_peer_ip: Text(0),
    smtp_helo: Text(0),
    smtp_mail_from: Text(0),
    smtp_rcpt_to: Text(0),
    smtp_tls: Text(0),
    smtp_anomalies: Text(0),
});

table_builders!(UrlCols for names::MESSAGE_URLS {
    sha256: Text(64),
    url: Text(48),
    host: Text(16),
    registrable_domain: Text(12),
});

table_builders!(QuarantineCols for names::QUARANTINE {
    source_file: Text(24),
    source_offset: Int,
    source_index: Int,
    reason: Text(16),
    detail: Text(32),
    raw_sha256: Text(64),
    size: Int,
    truncated: Bool,
    ingest_time: Time,
    raw_pack: Text(28),
    raw_offset: Int,
    raw_len: Int,
});

/// The batch being built.
struct Pending {
    batch: Batch,
    pack: Option<PackWriter>,
    qpack: Option<PackWriter>,
    msgs: MessageCols,
    n_msgs: usize,
    urls: UrlCols,
    quar: QuarantineCols,
    n_quar: usize,
    keys: Vec<u128>,
    qkeys: Vec<u128>,
    /// The evidence log entries of the stored messages.
    log: LogSegment,
}

/// Appends messages, URLs and quarantined records; see the module docs.
/// Dropping a writer without [`MessageWriter::finish`] discards what was
/// not committed.
pub struct MessageWriter {
    inner: Arc<Inner>,
    limits: BatchLimits,
    cur: Option<Pending>,
    hexbuf: String,
    ipbuf: String,
    committed_batches: u64,
    /// Commit full batches on a background thread
    /// ([`MessageWriter::with_background_commit`]).
    background: bool,
    /// The batch being committed in the background, if any (its id and the
    /// thread).
    in_flight: Option<(String, std::thread::JoinHandle<Result<()>>)>,
    /// Commits return at publication ([`MessageWriter::with_early_ack`]).
    early_ack: bool,
}

impl std::fmt::Debug for MessageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageWriter")
            .field("limits", &self.limits)
            .field("pending", &self.pending_messages())
            .finish()
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl MessageWriter {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        MessageWriter {
            inner,
            limits: BatchLimits::default(),
            cur: None,
            hexbuf: String::with_capacity(64),
            ipbuf: String::with_capacity(48),
            committed_batches: 0,
            background: false,
            in_flight: None,
            early_ack: false,
        }
    }

    /// Commits return as soon as the batch is durable and visible: its
    /// files and `COMMIT` manifest fsynced, the manifest renamed and its
    /// directory fsynced (the commit point, which a reopening rolls
    /// forward), and the files renamed into place. Making those renames
    /// durable (one fsync per directory for many batches) and removing the
    /// staging directory is left to [`crate::Store::settle`] or the store's
    /// drop. For a receiver that holds a client waiting for "durable"
    /// (the live trap): the answer no longer waits for the directory
    /// fsyncs.
    pub fn with_early_ack(mut self, on: bool) -> Self {
        self.early_ack = on;
        self
    }

    /// Commits full batches on a background thread while the next batch
    /// fills: writing a batch's Parquet files is serial work during which
    /// the ingest's parsing workers would otherwise wait. At most one batch commits at a time, in order,
    /// by the same steps as [`MessageWriter::commit`], so what a crash can
    /// leave is unchanged; a background failure is returned by the next
    /// call that adds, commits or finishes. Memory: up to two batches.
    pub fn with_background_commit(mut self, on: bool) -> Self {
        self.background = on;
        self
    }

    /// Sets when the writer commits on its own.
    pub fn with_limits(mut self, limits: BatchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Messages added since the last commit.
    pub fn pending_messages(&self) -> usize {
        self.cur.as_ref().map_or(0, |p| p.n_msgs)
    }

    /// Batches committed by this writer so far.
    pub fn committed_batches(&self) -> u64 {
        self.committed_batches
    }

    fn pending(&mut self) -> &mut Pending {
        let cap = self.limits.messages.clamp(16, 1 << 20);
        let inner = &self.inner;
        self.cur.get_or_insert_with(|| Pending {
            batch: inner.new_batch(),
            pack: None,
            qpack: None,
            msgs: MessageCols::new(cap),
            n_msgs: 0,
            urls: UrlCols::new(cap * 2),
            quar: QuarantineCols::new(0),
            n_quar: 0,
            keys: Vec::with_capacity(cap),
            qkeys: Vec::new(),
            log: LogSegment::default(),
        })
    }

    /// Adds a message, its URLs and its raw bytes compressed by
    /// [`compress_raw`] (one frame holding this message alone). A message
    /// whose SHA-256 is already stored (or pending) is a
    /// [`AddOutcome::Duplicate`] and nothing is written.
    pub fn add(
        &mut self,
        msg: MessageObs,
        urls: Vec<UrlObs>,
        compressed_raw: Vec<u8>,
    ) -> Result<AddOutcome> {
        let mut out = self.add_frame(&compressed_raw, vec![FrameMember::new(msg, urls, 0)])?;
        Ok(out.pop().unwrap_or(AddOutcome::Duplicate))
    }

    /// Adds the messages of one shared zstd frame ([`compress_frame`] of
    /// their raw bytes concatenated; each member says where its bytes start
    /// in the decompressed frame, its length is `size`). The frame is
    /// written once if at least one member is new; members already stored
    /// are [`AddOutcome::Duplicate`]. Outcomes are in member order.
    ///
    /// Why shared frames: zstd level 1 on one 7 kB message costs about three
    /// times the CPU per byte of the same bytes in 512 kB frames and
    /// compresses a third worse (spam of one campaign repeats across
    /// messages); see docs/bench-mail.md. Reading one message decompresses at
    /// most one frame.
    pub fn add_frame(
        &mut self,
        frame: &[u8],
        members: Vec<FrameMember>,
    ) -> Result<Vec<AddOutcome>> {
        let mut outcomes = Vec::with_capacity(members.len());
        let mut new_keys = Vec::new();
        for m in &members {
            let key = key_of(&m.msg.sha256);
            if self.inner.seen().messages.insert(key) {
                new_keys.push(key);
                outcomes.push(AddOutcome::Stored);
            } else {
                outcomes.push(AddOutcome::Duplicate);
            }
        }
        if new_keys.is_empty() {
            return Ok(outcomes);
        }
        let r = self.append_frame(frame, &members, &outcomes);
        match r {
            Ok(()) => {
                let limits = self.limits;
                let p = self.pending();
                p.keys.extend_from_slice(&new_keys);
                let full = p.n_msgs >= limits.messages
                    || p.pack.as_ref().is_some_and(|w| w.len >= limits.raw_bytes);
                if full {
                    if self.background {
                        self.commit_in_background()?;
                    } else {
                        self.commit()?;
                    }
                }
                Ok(outcomes)
            }
            Err(e) => {
                let mut seen = self.inner.seen();
                for k in &new_keys {
                    seen.messages.remove(k);
                }
                Err(e)
            }
        }
    }

    fn append_frame(
        &mut self,
        frame: &[u8],
        members: &[FrameMember],
        outcomes: &[AddOutcome],
    ) -> Result<()> {
        if frame.is_empty() {
            return Err(StoreError::EmptyRaw {
                sha256: members
                    .first()
                    .map(|m| hex::encode(m.msg.sha256))
                    .unwrap_or_default(),
            });
        }
        let offset = {
            let p = self.pending();
            if p.pack.is_none() {
                p.pack = Some(PackWriter::create(&mut p.batch, "pack")?);
            }
            match p.pack.as_mut() {
                Some(pack) => pack.append(frame)?,
                None => return Ok(()),
            }
        };
        for (m, o) in members.iter().zip(outcomes) {
            if matches!(o, AddOutcome::Stored) {
                self.append_row(&m.msg, &m.urls, offset, frame.len() as u64, m.inner_offset);
                self.append_smtp(m.smtp.as_ref());
            }
        }
        Ok(())
    }

    fn append_row(
        &mut self,
        msg: &MessageObs,
        urls: &[UrlObs],
        offset: u64,
        frame_len: u64,
        inner_offset: u64,
    ) {
        self.hexbuf.clear();
        for b in msg.sha256 {
            for nibble in [b >> 4, b & 15] {
                // Lowercase hex, as `hex::encode` writes it.
                self.hexbuf
                    .push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
            }
        }
        self.ipbuf.clear();
        if let Some(ip) = msg.relay_ip {
            let _ = write!(self.ipbuf, "{ip}");
        }
        let hex = std::mem::take(&mut self.hexbuf);
        let ipbuf = std::mem::take(&mut self.ipbuf);
        {
            let p = self.pending();
            let pack_name = p.pack.as_ref().map_or("", |w| w.name.as_str());
            let day = msg.arrival_time.0.div_euclid(MICROS_PER_DAY);
            let m = &mut p.msgs;
            m.sha256.append_value(&hex);
            m.arrival_time.append_value(msg.arrival_time.0);
            m.arrival_source.append_value(msg.arrival_source.as_str());
            if msg.relay_ip.is_some() {
                m.relay_ip.append_value(&ipbuf);
            } else {
                m.relay_ip.append_null();
            }
            m.relay_helo.append_option(msg.relay_helo.as_deref());
            m.relay_rdns.append_option(msg.relay_rdns.as_deref());
            m.envelope_from.append_option(msg.envelope_from.as_deref());
            m.from_addr.append_option(msg.from_addr.as_deref());
            m.to_addr.append_option(msg.to_addr.as_deref());
            m.subject.append_option(msg.subject.as_deref());
            m.message_id.append_option(msg.message_id.as_deref());
            m.date_header.append_option(msg.date_header.map(|t| t.0));
            m.size.append_value(i64_of(msg.size));
            m.fingerprint.append_value(&msg.fingerprint);
            m.url_count.append_value(i64::from(msg.url_count));
            m.source_file.append_value(&msg.source.path);
            m.source_offset.append_value(i64_of(msg.source.offset));
            m.source_index.append_value(i64_of(msg.source.index));
            m.raw_pack.append_value(pack_name);
            m.raw_offset.append_value(i64_of(offset));
            m.raw_len.append_value(i64_of(frame_len));
            m.raw_inner_offset.append_value(i64_of(inner_offset));
            m.days.push(day);
            p.n_msgs += 1;
            p.log.push("mail", &hex, seconds_of(msg.arrival_time.0));
            for u in urls {
                p.urls.sha256.append_value(&hex);
                p.urls.url.append_value(&u.url);
                p.urls.host.append_value(&u.host);
                p.urls
                    .registrable_domain
                    .append_option(u.registrable_domain.as_deref());
                p.urls.days.push(day);
            }
        }
        self.hexbuf = hex;
        self.ipbuf = ipbuf;
    }

    /// The `smtp_*` columns of the row just appended (all null without an
    /// envelope).
    fn append_smtp(&mut self, smtp: Option<&SmtpEnvelope>) {
        let m = &mut self.pending().msgs;
        match smtp {
            Some(e) => {
                m.smtp_peer_ip.append_value(e.peer_ip.to_string());
                m.smtp_helo.append_option(e.helo.as_deref());
                m.smtp_mail_from.append_option(e.mail_from.as_deref());
                m.smtp_rcpt_to.append_value(e.rcpt_to_json());
                m.smtp_tls.append_option(e.tls.as_deref());
                m.smtp_anomalies.append_option(e.anomalies_text());
            }
            None => {
                m.smtp_peer_ip.append_null();
                m.smtp_helo.append_null();
                m.smtp_mail_from.append_null();
                m.smtp_rcpt_to.append_null();
                m.smtp_tls.append_null();
                m.smtp_anomalies.append_null();
            }
        }
    }

    /// Adds a quarantined record and keeps its bytes (in the batch's
    /// quarantine pack, so `depeer show` can print them). The same bytes at
    /// the same place of the same file are a [`AddOutcome::Duplicate`].
    pub fn add_quarantine(&mut self, q: &Quarantine) -> Result<AddOutcome> {
        let sha: [u8; 32] = Sha256::digest(&q.bytes).into();
        let hex = hex::encode(sha);
        let key = quarantine_key(&hex, &q.source.path, q.source.offset);
        if !self.inner.seen().quarantine.insert(key) {
            return Ok(AddOutcome::Duplicate);
        }
        let frame = compress_raw(&q.bytes);
        let res = (|| {
            if frame.is_empty() {
                return Err(StoreError::EmptyRaw {
                    sha256: hex.clone(),
                });
            }
            let p = self.pending();
            if p.qpack.is_none() {
                p.qpack = Some(PackWriter::create(&mut p.batch, "qpack")?);
            }
            let Some(pack) = p.qpack.as_mut() else {
                return Ok(());
            };
            let offset = pack.append(&frame)?;
            let now = now_micros();
            let c = &mut p.quar;
            c.source_file.append_value(&q.source.path);
            c.source_offset.append_value(i64_of(q.source.offset));
            c.source_index.append_value(i64_of(q.source.index));
            c.reason.append_value(&q.reason);
            c.detail.append_value(&q.detail);
            c.raw_sha256.append_value(&hex);
            c.size.append_value(i64_of(q.bytes.len() as u64));
            c.truncated.append_value(q.truncated);
            c.ingest_time.append_value(now);
            c.raw_pack.append_value(&pack.name);
            c.raw_offset.append_value(i64_of(offset));
            c.raw_len.append_value(i64_of(frame.len() as u64));
            c.days.push(now.div_euclid(MICROS_PER_DAY));
            p.n_quar += 1;
            p.qkeys.push(key);
            Ok(())
        })();
        match res {
            Ok(()) => Ok(AddOutcome::Stored),
            Err(e) => {
                self.inner.seen().quarantine.remove(&key);
                Err(e)
            }
        }
    }

    /// Makes everything added so far durable and visible, atomically
    /// (after waiting for a batch committing in the background).
    pub fn commit(&mut self) -> Result<()> {
        self.wait_in_flight()?;
        let Some(p) = self.cur.take() else {
            return Ok(());
        };
        commit_pending(&self.inner, p, self.early_ack)?;
        self.committed_batches += 1;
        Ok(())
    }

    /// Starts committing the pending batch on a background thread, after
    /// the previous background commit has finished.
    fn commit_in_background(&mut self) -> Result<()> {
        self.wait_in_flight()?;
        let Some(p) = self.cur.take() else {
            return Ok(());
        };
        let id = p.batch.id().to_string();
        let inner = Arc::clone(&self.inner);
        let early = self.early_ack;
        let handle = std::thread::Builder::new()
            .name(format!("commit-{id}"))
            .spawn(move || commit_pending(&inner, p, early))
            .map_err(StoreError::io("start a commit thread", &self.inner.dir))?;
        self.in_flight = Some((id, handle));
        Ok(())
    }

    /// Waits for the batch committing in the background, if any, and
    /// returns its result.
    fn wait_in_flight(&mut self) -> Result<()> {
        let Some((batch, handle)) = self.in_flight.take() else {
            return Ok(());
        };
        match handle.join() {
            Ok(r) => {
                r?;
                self.committed_batches += 1;
                Ok(())
            }
            Err(_) => Err(StoreError::CommitThread { batch }),
        }
    }
}

/// Writes and commits one batch; on failure before its commit point the
/// in-memory deduplication set forgets its keys (they were never stored).
fn commit_pending(inner: &Inner, p: Pending, early: bool) -> Result<()> {
    let id = p.batch.id().to_string();
    let (keys, qkeys) = (p.keys.clone(), p.qkeys.clone());
    match write_and_commit(inner, p, early) {
        Ok(()) => Ok(()),
        Err(e) => {
            let committed = inner.dir.join(STAGING).join(&id).join("COMMIT").exists();
            let injected = matches!(e, StoreError::InjectedCrash { .. });
            if !committed && !injected {
                let mut seen = inner.seen();
                for k in &keys {
                    seen.messages.remove(k);
                }
                for k in &qkeys {
                    seen.quarantine.remove(k);
                }
            }
            Err(e)
        }
    }
}

fn write_and_commit(inner: &Inner, mut p: Pending, early: bool) -> Result<()> {
    if let Some(w) = p.pack.take() {
        w.finish(&mut p.batch)?;
    }
    if let Some(w) = p.qpack.take() {
        w.finish(&mut p.batch)?;
    }
    let mut n = 0usize;
    if p.n_quar > 0 {
        let rb = p.quar.finish()?;
        write_by_day(
            &mut p.batch,
            names::QUARANTINE,
            rb,
            &p.quar.days,
            &mut n,
            &[],
        )?;
    }
    if p.n_msgs > 0 {
        let rb = p.urls.finish()?;
        if rb.num_rows() > 0 {
            write_by_day(
                &mut p.batch,
                names::MESSAGE_URLS,
                rb,
                &p.urls.days,
                &mut n,
                &[],
            )?;
        }
        let rb = p.msgs.finish()?;
        write_by_day(
            &mut p.batch,
            names::MESSAGES,
            rb,
            &p.msgs.days,
            &mut n,
            &["sha256"],
        )?;
    }
    // The rows' files fsynced (in parallel) before the log's lock is
    // taken: only the log's own files are made durable under it.
    p.batch.sync_staged()?;
    commit_logged_as(inner, p.batch, p.log, early)
}

impl MessageWriter {
    /// Commits what is pending and ends the writer.
    pub fn finish(mut self) -> Result<()> {
        self.commit()
    }
}

impl Drop for MessageWriter {
    fn drop(&mut self) {
        // A batch committing in the background finishes (or fails and
        // forgets its keys) on its own; wait for it.
        let _ = self.wait_in_flight();
        // Uncommitted rows are forgotten: their staging directory has no
        // COMMIT, so the next open deletes it; here we only make the
        // in-memory deduplication set agree.
        if let Some(p) = self.cur.take() {
            let mut seen = self.inner.seen();
            for k in &p.keys {
                seen.messages.remove(k);
            }
            for k in &p.qkeys {
                seen.quarantine.remove(k);
            }
        }
    }
}

/// Writes one part per day of `rb` (rows tagged with `days`).
fn write_by_day(
    batch: &mut Batch,
    table: &str,
    rb: RecordBatch,
    days: &[i64],
    n: &mut usize,
    no_dict: &[&str],
) -> Result<()> {
    let mut part = |batch: &mut Batch, day: i64, rb: &RecordBatch| -> Result<()> {
        let d = Timestamp(day * MICROS_PER_DAY).day();
        let rel = format!("tables/{table}/day={d}/part-{}-{}.parquet", batch.id(), *n);
        *n += 1;
        write_part(batch, &rel, rb, no_dict)
    };
    let Some(&first) = days.first() else {
        return Ok(());
    };
    if days.iter().all(|d| *d == first) {
        return part(batch, first, &rb);
    }
    let mut order: Vec<u32> = (0..days.len() as u32).collect();
    order.sort_by_key(|&i| days.get(i as usize).copied().unwrap_or(0));
    let sorted = take_record_batch(&rb, &UInt32Array::from(order.clone()))
        .map_err(StoreError::arrow("sorting rows by day"))?;
    let day_at = |i: usize| {
        order
            .get(i)
            .and_then(|&o| days.get(o as usize))
            .copied()
            .unwrap_or(0)
    };
    let mut start = 0;
    while start < order.len() {
        let day = day_at(start);
        let mut end = start + 1;
        while end < order.len() && day_at(end) == day {
            end += 1;
        }
        part(batch, day, &sorted.slice(start, end - start))?;
        start = end;
    }
    Ok(())
}
