//! Evidence objects other than messages: the feed records listings are
//! read from (kind `feed`) and the MRT records routing is derived from
//! (kind `mrt`). [`ObjectWriter`] keeps each new object's bytes in a zstd
//! pack of the batch (`raw/opack-<batch>.zst`, frames of consecutive
//! objects up to [`FRAME_TARGET_BYTES`], as for raw mail), one row in
//! `evidence_objects` saying where they are, and one log entry, all in
//! one journal commit ([`commit_logged`]); rows that cite the objects
//! (`feed_entries`) can be staged in the same commit. Objects are
//! deduplicated by kind and SHA-256: the same record read again (a file
//! ingested twice) is stored and logged once.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use depeer_core::FeedEntryObs;

use crate::error::{Result, StoreError};
use crate::evidence::{LogSegment, commit_logged};
use crate::parquet_io::{self, Cols, list_parts, ts_builder, write_part};
use crate::raw::{FRAME_TARGET_BYTES, FrameCompressor, PackWriter};
use crate::routing::TableRows;
use crate::schema::{names, schema_of};
use crate::state::{Inner, KeySet, key_of, key_of_hex};
use crate::writer::AddOutcome;

/// What an evidence object is (its log entry's KIND).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A feed record (a line, or a JSON object of a JSON array feed).
    Feed,
    /// An MRT record, header included.
    Mrt,
}

impl ObjectKind {
    /// The KIND word of its log entries and `evidence_objects.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Feed => "feed",
            ObjectKind::Mrt => "mrt",
        }
    }
}

/// One object to store: its bytes, their SHA-256 (the caller hashes, in
/// whatever thread suits it) and what `evidence_objects` says about it.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceObject<'a> {
    /// The bytes, exactly as they are logged.
    pub bytes: &'a [u8],
    /// SHA-256 of `bytes`.
    pub sha256: [u8; 32],
    /// OBSERVED of its log entry, UNIX seconds.
    pub observed: i64,
    /// The file it was read from.
    pub source_file: &'a str,
    /// Its byte offset in that file (decompressed).
    pub source_offset: u64,
    /// Its line (feed) or record index (MRT) in that file.
    pub source_index: u64,
    /// MRT: the collector.
    pub collector: Option<&'a str>,
    /// MRT: the prefixes the record concerns, space-separated.
    pub prefixes: Option<&'a str>,
}

/// When an [`ObjectWriter`] commits on its own.
const OBJECTS_PER_BATCH: usize = 262_144;

/// The batch being built.
struct Pending {
    batch: crate::journal::Batch,
    pack: Option<PackWriter>,
    /// The open frame's raw bytes and how many rows it holds.
    frame: Vec<u8>,
    frame_rows: usize,
    sha: StringBuilder,
    observed: datafusion::arrow::array::TimestampMicrosecondBuilder,
    size: Int64Builder,
    file: StringBuilder,
    offset: Int64Builder,
    index: Int64Builder,
    collector: StringBuilder,
    prefixes: StringBuilder,
    pack_name: StringBuilder,
    raw_offset: Int64Builder,
    raw_len: Int64Builder,
    inner: Int64Builder,
    n: usize,
    log: LogSegment,
    feed: Vec<FeedEntryObs>,
    keys: Vec<u128>,
}

/// Stores evidence objects of one kind; see the module docs. Dropping it
/// without [`ObjectWriter::finish`] discards what was not committed.
pub struct ObjectWriter {
    inner: Arc<Inner>,
    kind: ObjectKind,
    seen: KeySet,
    cur: Option<Pending>,
    compressor: FrameCompressor,
    hex: [u8; 64],
    stored: u64,
}

impl std::fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectWriter")
            .field("kind", &self.kind)
            .field("pending", &self.pending_objects())
            .finish()
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl ObjectWriter {
    /// A writer for `kind`, knowing every object of that kind stored.
    pub(crate) fn new(inner: Arc<Inner>, kind: ObjectKind) -> Result<Self> {
        let seen = stored_keys(&inner.dir, kind)?;
        Ok(ObjectWriter {
            inner,
            kind,
            seen,
            cur: None,
            compressor: FrameCompressor::new(),
            hex: [0u8; 64],
            stored: 0,
        })
    }

    /// Objects added since the last commit.
    pub fn pending_objects(&self) -> usize {
        self.cur.as_ref().map_or(0, |p| p.n)
    }

    /// Rows staged with them since the last commit.
    pub fn pending_rows(&self) -> usize {
        self.cur.as_ref().map_or(0, |p| p.feed.len())
    }

    /// New objects stored by this writer (committed or pending).
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Whether an object with this SHA-256 is stored (or pending).
    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.seen.contains(&key_of(sha256))
    }

    fn pending(&mut self) -> &mut Pending {
        let inner = &self.inner;
        self.cur.get_or_insert_with(|| Pending {
            batch: inner.new_batch(),
            pack: None,
            frame: Vec::with_capacity(FRAME_TARGET_BYTES + 4096),
            frame_rows: 0,
            sha: StringBuilder::new(),
            observed: ts_builder(1024),
            size: Int64Builder::new(),
            file: StringBuilder::new(),
            offset: Int64Builder::new(),
            index: Int64Builder::new(),
            collector: StringBuilder::new(),
            prefixes: StringBuilder::new(),
            pack_name: StringBuilder::new(),
            raw_offset: Int64Builder::new(),
            raw_len: Int64Builder::new(),
            inner: Int64Builder::new(),
            n: 0,
            log: LogSegment::default(),
            feed: Vec::new(),
            keys: Vec::new(),
        })
    }

    /// Adds an object: a [`AddOutcome::Duplicate`] when one with the same
    /// SHA-256 is already stored or pending (nothing is written), else
    /// its bytes, row and log entry join the pending batch. Commits on its
    /// own every 262,144 objects.
    pub fn add(&mut self, o: &EvidenceObject<'_>) -> Result<AddOutcome> {
        let key = key_of(&o.sha256);
        if !self.seen.insert(key) {
            return Ok(AddOutcome::Duplicate);
        }
        hex::encode_to_slice(o.sha256, &mut self.hex).map_err(|e| StoreError::Corrupt {
            path: self.inner.dir.clone(),
            reason: e.to_string(),
        })?;
        let hex = std::str::from_utf8(&self.hex)
            .unwrap_or_default()
            .to_string();
        let kind = self.kind.as_str();
        self.stored += 1;
        let p = self.pending();
        let inner_offset = p.frame.len() as u64;
        p.frame.extend_from_slice(o.bytes);
        p.frame_rows += 1;
        p.sha.append_value(&hex);
        p.observed
            .append_value(o.observed.saturating_mul(1_000_000));
        p.size.append_value(i64_of(o.bytes.len() as u64));
        p.file.append_value(o.source_file);
        p.offset.append_value(i64_of(o.source_offset));
        p.index.append_value(i64_of(o.source_index));
        p.collector.append_option(o.collector);
        p.prefixes.append_option(o.prefixes);
        p.inner.append_value(i64_of(inner_offset));
        p.n += 1;
        p.log.push(kind, &hex, o.observed);
        p.keys.push(key);
        if p.frame.len() >= FRAME_TARGET_BYTES {
            self.close_frame()?;
        }
        if self.pending_objects() >= OBJECTS_PER_BATCH {
            self.commit()?;
        }
        Ok(AddOutcome::Stored)
    }

    /// Stages `feed_entries` rows in the pending batch: they become
    /// visible in the same commit as the objects they cite.
    pub fn add_feed_entries(&mut self, rows: Vec<FeedEntryObs>) {
        self.pending().feed.extend(rows);
    }

    /// Compresses the open frame into the pack and completes its rows.
    fn close_frame(&mut self) -> Result<()> {
        let Some(p) = self.cur.as_mut() else {
            return Ok(());
        };
        if p.frame_rows == 0 {
            return Ok(());
        }
        let frame = self.compressor.compress(&p.frame);
        if frame.is_empty() {
            return Err(StoreError::EmptyRaw {
                sha256: String::new(),
            });
        }
        if p.pack.is_none() {
            p.pack = Some(PackWriter::create(&mut p.batch, "opack")?);
        }
        let Some(pack) = p.pack.as_mut() else {
            return Ok(());
        };
        let at = pack.append(&frame)?;
        for _ in 0..p.frame_rows {
            p.pack_name.append_value(&pack.name);
            p.raw_offset.append_value(i64_of(at));
            p.raw_len.append_value(i64_of(frame.len() as u64));
        }
        p.frame.clear();
        p.frame_rows = 0;
        Ok(())
    }

    /// Makes everything added so far durable and visible, in one commit
    /// with its log entries.
    pub fn commit(&mut self) -> Result<()> {
        self.close_frame()?;
        let Some(p) = self.cur.take() else {
            return Ok(());
        };
        let keys = p.keys.clone();
        let r = write_and_commit(&self.inner, self.kind, p);
        if r.is_err() {
            // Whether or not the batch got past its commit point, the next
            // writer re-reads what is stored; this one forgets the keys so
            // a retry is not taken for a duplicate.
            for k in &keys {
                self.seen.remove(k);
            }
        }
        r
    }

    /// Commits what is pending and ends the writer.
    pub fn finish(mut self) -> Result<()> {
        self.commit()
    }
}

fn write_and_commit(inner: &Inner, kind: ObjectKind, mut p: Pending) -> Result<()> {
    if let Some(w) = p.pack.take() {
        w.finish(&mut p.batch)?;
    }
    if !p.feed.is_empty() {
        let rb = TableRows::FeedEntries(&p.feed).to_batch()?;
        let rel = format!(
            "tables/{}/part-{}-0.parquet",
            names::FEED_ENTRIES,
            p.batch.id()
        );
        write_part(&mut p.batch, &rel, &rb, &[])?;
    }
    if p.n > 0 {
        let n = p.n;
        let mut kinds = StringBuilder::with_capacity(n, n * 4);
        for _ in 0..n {
            kinds.append_value(kind.as_str());
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(kinds.finish()),
            Arc::new(p.sha.finish()),
            Arc::new(p.observed.finish()),
            Arc::new(p.size.finish()),
            Arc::new(p.file.finish()),
            Arc::new(p.offset.finish()),
            Arc::new(p.index.finish()),
            Arc::new(p.collector.finish()),
            Arc::new(p.prefixes.finish()),
            Arc::new(p.pack_name.finish()),
            Arc::new(p.raw_offset.finish()),
            Arc::new(p.raw_len.finish()),
            Arc::new(p.inner.finish()),
        ];
        let rb = RecordBatch::try_new(schema_of(names::EVIDENCE_OBJECTS), cols)
            .map_err(StoreError::arrow(names::EVIDENCE_OBJECTS))?;
        let rel = format!(
            "tables/{}/part-{}-obj.parquet",
            names::EVIDENCE_OBJECTS,
            p.batch.id()
        );
        write_part(&mut p.batch, &rel, &rb, &["sha256", "prefixes"])?;
    }
    commit_logged(inner, p.batch, p.log)
}

/// The keys of every stored object of `kind`.
fn stored_keys(dir: &std::path::Path, kind: ObjectKind) -> Result<KeySet> {
    let files = list_parts(&dir.join("tables").join(names::EVIDENCE_OBJECTS))?;
    let keys = parquet_io::par_files(&files, |p| {
        let mut v = Vec::new();
        parquet_io::read_columns(p, &["kind", "sha256"], |rb| {
            let c = Cols { rb, path: p };
            let (k, s) = (c.str("kind")?, c.str("sha256")?);
            for i in 0..rb.num_rows() {
                if k.value(i) == kind.as_str() {
                    v.push(key_of_hex(s.value(i)).ok_or_else(|| StoreError::Corrupt {
                        path: p.to_path_buf(),
                        reason: format!("sha256 {:?} is not hex", s.value(i)),
                    })?);
                }
            }
            Ok(())
        })?;
        Ok(v)
    })?;
    Ok(keys.into_iter().collect())
}

/// SHA-256 of `bytes` (the store's own, so callers need no hashing crate).
pub fn sha256_of(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// Lowercase hex of a SHA-256, as the log and the tables write it.
pub fn sha256_hex(sha: &[u8; 32]) -> String {
    hex::encode(sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn obj<'a>(bytes: &'a [u8], observed: i64) -> EvidenceObject<'a> {
        EvidenceObject {
            bytes,
            sha256: sha256_of(bytes),
            observed,
            source_file: "f.mrt",
            source_offset: 7,
            source_index: 3,
            collector: Some("rrc00"),
            prefixes: Some("192.0.2.0/24"),
        }
    }

    #[test]
    fn objects_are_stored_once_logged_once_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let mut w = store.object_writer(ObjectKind::Mrt).unwrap();
        // Large enough to close a frame in the middle.
        let big = vec![b'x'; FRAME_TARGET_BYTES + 10];
        let recs: Vec<Vec<u8>> = vec![b"one".to_vec(), big, b"three".to_vec()];
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(w.add(&obj(r, 100 + i as i64)).unwrap(), AddOutcome::Stored);
        }
        assert_eq!(w.add(&obj(b"one", 1)).unwrap(), AddOutcome::Duplicate);
        w.finish().unwrap();
        // A new writer knows what is stored.
        let mut w = store.object_writer(ObjectKind::Mrt).unwrap();
        assert_eq!(w.add(&obj(b"three", 1)).unwrap(), AddOutcome::Duplicate);
        assert_eq!(w.add(&obj(b"four", 1)).unwrap(), AddOutcome::Stored);
        w.finish().unwrap();
        // Another kind is deduplicated apart.
        let mut f = store.object_writer(ObjectKind::Feed).unwrap();
        assert_eq!(f.add(&obj(b"one", 5)).unwrap(), AddOutcome::Stored);
        f.finish().unwrap();
        let ds = store.dataset();
        let rows = ds.evidence_objects(|_| true).unwrap();
        assert_eq!(rows.len(), 5);
        for r in &rows {
            let b = ds.object_bytes(r).unwrap();
            assert_eq!(sha256_hex(&sha256_of(&b)), r.sha256);
        }
        let checks = ds.check_raw_objects().unwrap();
        assert!(checks.iter().all(|c| {
            c.actual
                .as_ref()
                .is_ok_and(|h| sha256_hex(h) == c.row.sha256)
        }));
        assert_eq!(store.inner.log().size(), 5);
        let three = rows.iter().find(|r| r.size == 5).unwrap();
        assert_eq!(
            (
                three.observed,
                three.collector.as_deref(),
                three.source_offset
            ),
            (102, Some("rrc00"), 7)
        );
    }

    #[test]
    fn feed_parts_from_before_feed_records_read_back_without_a_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let row = FeedEntryObs {
            source: "s".into(),
            kind: "cnc".into(),
            indicator: "192.0.2.1".into(),
            address: None,
            family: None,
            port: None,
            first_seen: None,
            last_seen: None,
            ingest_time: depeer_core::Timestamp::from_secs(1),
            source_file: "f".into(),
            source_line: 2,
            key: "00".repeat(16),
            sha256: Some("ab".repeat(32)),
        };
        let rb = TableRows::FeedEntries(std::slice::from_ref(&row))
            .to_batch()
            .unwrap();
        // The part as it was written before the `sha256` column existed.
        let old = rb
            .project(&(0..rb.num_columns() - 1).collect::<Vec<_>>())
            .unwrap();
        let path = tmp.path().join("tables/feed_entries/part-old.parquet");
        let file = std::fs::File::create(&path).unwrap();
        let mut w =
            datafusion::parquet::arrow::ArrowWriter::try_new(file, old.schema(), None).unwrap();
        w.write(&old).unwrap();
        w.close().unwrap();
        let mut w = store.object_writer(ObjectKind::Feed).unwrap();
        w.add_feed_entries(vec![row.clone()]);
        w.finish().unwrap();
        let mut back = store.dataset().read_feed_entries().unwrap();
        back.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].sha256, None);
        assert_eq!(back[1], row);
    }
}
