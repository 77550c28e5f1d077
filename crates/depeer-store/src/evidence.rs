//! The evidence log inside the store's commits. Whoever stores an evidence
//! object (a raw message today) appends its entry to the batch's
//! [`LogSegment`]; [`commit_logged`] then, under the log's lock, assigns
//! the entries their indices, signs the checkpoint of the new size and
//! stages the segment (`log/entries/`), the checkpoint (`log/checkpoints/`)
//! and the `evidence_log` rows in the same journal batch as the rows and
//! raw bytes they log. The journal renames raw packs first, then the log,
//! then the tables, so no row is visible without its entry and no entry
//! points at bytes that are not stored; a crash leaves the whole batch or
//! none of it. Because the entries are added here and not by each command,
//! every path that stores through the store (`ingest mail`, the trap, the
//! workers) is logged.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use depeer_evidence::{Appender, ENTRY_PREFIX, checkpoint_rel, segment_rel};

use crate::error::{Result, StoreError};
use crate::journal::{Batch, STAGING};
use crate::parquet_io::{ts_builder, write_part};
use crate::schema::{names, schema_of};
use crate::state::Inner;

/// The entries of one batch, as the exact bytes of the log.
/// The entries of one batch: their text, and the `evidence_log` columns
/// built as they are pushed (parsing the text back and hex-encoding
/// through `String`s was a fifth of the log's cost).
#[derive(Debug)]
pub(crate) struct LogSegment {
    bytes: Vec<u8>,
    count: usize,
    kind: StringBuilder,
    sha: StringBuilder,
    observed: Vec<i64>,
}

impl Default for LogSegment {
    fn default() -> Self {
        LogSegment {
            bytes: Vec::new(),
            count: 0,
            kind: StringBuilder::new(),
            sha: StringBuilder::new(),
            observed: Vec::new(),
        }
    }
}

impl LogSegment {
    /// Appends `depeer-evidence/v1 KIND SHA256HEX OBSERVED\n` (the hex is
    /// already lowercase; `observed` in UNIX seconds).
    pub(crate) fn push(&mut self, kind: &str, sha256_hex: &str, observed: i64) {
        let b = &mut self.bytes;
        b.extend_from_slice(ENTRY_PREFIX.as_bytes());
        b.push(b' ');
        b.extend_from_slice(kind.as_bytes());
        b.push(b' ');
        b.extend_from_slice(sha256_hex.as_bytes());
        b.push(b' ');
        let mut buf = itoa_buf(observed);
        b.append(&mut buf);
        b.push(b'\n');
        self.count += 1;
        self.kind.append_value(kind);
        self.sha.append_value(sha256_hex);
        self.observed.push(observed);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

fn itoa_buf(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Whole UNIX seconds of a microsecond time (floor).
pub(crate) fn seconds_of(micros: i64) -> i64 {
    micros.div_euclid(1_000_000)
}

/// Commits `batch` with the log entries of `segment` (a plain commit when
/// there are none).
pub(crate) fn commit_logged(inner: &Inner, batch: Batch, segment: LogSegment) -> Result<()> {
    commit_logged_as(inner, batch, segment, false)
}

/// [`commit_logged`]; with `early`, returns once the batch is published
/// (durable and visible) and leaves settling it to the store
/// ([`Inner::commit_early`]): the log's lock, which orders the commits,
/// is then held up to publication only, so the next batch's commit point
/// follows at once.
pub(crate) fn commit_logged_as(
    inner: &Inner,
    mut batch: Batch,
    segment: LogSegment,
    early: bool,
) -> Result<()> {
    let commit = |batch: Batch| {
        if early {
            inner.commit_early(batch)
        } else {
            inner.commit(batch)
        }
    };
    if segment.is_empty() {
        return commit(batch);
    }
    let LogSegment {
        bytes,
        count,
        kind,
        sha,
        observed,
    } = segment;
    let mut log = inner.log();
    let prepared = log.prepare(bytes)?;
    if prepared.leaves.len() != count {
        return Err(malformed(
            "log segment",
            format!("{count} entries pushed, {} hashed", prepared.leaves.len()),
        ));
    }
    stage_file(&mut batch, &segment_rel(prepared.start), &prepared.segment)?;
    stage_file(
        &mut batch,
        &checkpoint_rel(prepared.size),
        prepared.checkpoint.as_bytes(),
    )?;
    let rb = log_rows(prepared.start, (kind, sha, &observed), &prepared.leaves)?;
    let rel = format!(
        "tables/{}/part-{}-log.parquet",
        names::EVIDENCE_LOG,
        batch.id()
    );
    write_part(&mut batch, &rel, &rb, &["sha256", "leaf_hash"])?;
    let id = batch.id().to_string();
    let seg_final = inner.dir.join(segment_rel(prepared.start));
    let r = commit(batch);
    // Committed when the commit returned, or when it stopped after its
    // commit point (the manifest is there, or the segment already moved).
    let committed = r.is_ok()
        || inner.dir.join(STAGING).join(&id).join("COMMIT").exists()
        || seg_final.exists();
    if committed {
        log.advance(prepared);
    }
    r
}

fn stage_file(batch: &mut Batch, rel: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let (path, mut f) = batch.create(rel)?;
    f.write_all(bytes).map_err(StoreError::io("write", &path))?;
    batch.written(path, f);
    Ok(())
}

/// The `evidence_log` rows of a segment starting at `start`: the pushed
/// columns and the leaf hashes.
fn log_rows(
    start: u64,
    (mut kind, mut sha, observed): (StringBuilder, StringBuilder, &[i64]),
    leaves: &[depeer_evidence::Hash],
) -> Result<RecordBatch> {
    let n = leaves.len();
    let mut idx = Int64Builder::with_capacity(n);
    let mut obs = ts_builder(n);
    let mut leaf = StringBuilder::with_capacity(n, n * 64);
    let mut hexbuf = [0u8; 64];
    for (i, (h, t)) in leaves.iter().zip(observed).enumerate() {
        idx.append_value(i64::try_from(start + i as u64).unwrap_or(i64::MAX));
        obs.append_value(t.saturating_mul(1_000_000));
        hex::encode_to_slice(h, &mut hexbuf).map_err(|e| malformed("leaf hash", e.to_string()))?;
        leaf.append_value(std::str::from_utf8(&hexbuf).unwrap_or_default());
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(idx.finish()),
        Arc::new(kind.finish()),
        Arc::new(sha.finish()),
        Arc::new(obs.finish()),
        Arc::new(leaf.finish()),
    ];
    RecordBatch::try_new(schema_of(names::EVIDENCE_LOG), cols)
        .map_err(StoreError::arrow(names::EVIDENCE_LOG))
}

fn malformed(what: &'static str, reason: String) -> StoreError {
    StoreError::Evidence(depeer_evidence::EvidenceError::Malformed {
        what,
        line: 0,
        reason,
    })
}

/// Opens the log of a data directory for the writer (after recovery).
pub(crate) fn open_log(dir: &std::path::Path) -> Result<Appender> {
    Ok(Appender::open(dir)?)
}

/// Logs the messages of a data directory written before the evidence log
/// existed: when the log is empty and messages are stored, one commit adds
/// a `mail` entry for each (in arrival order), so that `depeer log verify`
/// holds for old directories too. Their OBSERVED is still the message's
/// arrival time; the log only vouches for them from this commit on.
pub(crate) fn backfill(inner: &Inner) -> Result<()> {
    if inner.log().size() > 0 {
        return Ok(());
    }
    let files = crate::parquet_io::list_parts(&inner.dir.join("tables").join(names::MESSAGES))?;
    let mut rows: Vec<(i64, String)> = Vec::new();
    for p in &files {
        crate::parquet_io::read_columns(p, &["sha256", "arrival_time"], |rb| {
            let c = crate::parquet_io::Cols { rb, path: p };
            let (sha, t) = (c.str("sha256")?, c.ts("arrival_time")?);
            for i in 0..rb.num_rows() {
                rows.push((t.value(i), sha.value(i).to_string()));
            }
            Ok(())
        })?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    rows.sort();
    rows.dedup_by(|a, b| a.1 == b.1);
    let mut seg = LogSegment::default();
    for (t, sha) in &rows {
        seg.push("mail", sha, seconds_of(*t));
    }
    commit_logged(inner, inner.new_batch(), seg)
}
