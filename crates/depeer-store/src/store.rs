//! The writable store: opening a data directory (lock, recovery, the set of
//! stored messages), allocating batch ids, and the routing tables.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, RecordBatch};
use fs2::FileExt;

use crate::error::{Result, StoreError};
use crate::journal::{self, Faults, Recovery};
use crate::parquet_io::{self, list_parts};
use crate::read::Dataset;
use crate::routing::TableRows;
use crate::schema::{self, Layout};
use crate::state::{Inner, Loaded, Seen, Warm, key_of, key_of_hex, quarantine_key};
use crate::writer::MessageWriter;

/// Name of the lock file in the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// The writable store of one data directory. Holds the directory's writer
/// lock until dropped.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    dataset: Dataset,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the data directory `dir` for writing:
    /// takes the writer lock, finishes or discards interrupted commits,
    /// and loads the set of stored messages for deduplication.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_warm(dir, &mut None)
    }

    /// As [`Store::open`], reusing what an earlier open of the same
    /// directory read (see [`Store::release`]): only the message and
    /// quarantine parts and the log segments committed since are read, so
    /// a writer that takes the lock per batch (a `depeer worker`) does not
    /// re-read every stored SHA-256 and log entry each time. Whatever
    /// does not add up (another directory, a part gone, the log replaced)
    /// falls back to reading everything. `warm` is taken once the lock is
    /// (it stays there when the directory is locked by another writer).
    pub fn open_warm(dir: impl AsRef<Path>, warm: &mut Option<Warm>) -> Result<Store> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(StoreError::io("create directory", &dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(StoreError::io("open", &lock_path))?;
        if lock.try_lock_exclusive().is_err() {
            return Err(StoreError::Locked {
                dir,
                lock: lock_path,
            });
        }
        let warm = warm.take();
        let recovery = journal::recover(&dir)?;
        for sub in ["raw", journal::STAGING] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(StoreError::io("create directory", &p))?;
        }
        for t in schema::tables() {
            let p = dir.join("tables").join(t.name);
            fs::create_dir_all(&p).map_err(StoreError::io("create directory", &p))?;
        }
        let last_batch = last_batch_id(&dir)?;
        let warm = warm.filter(|w| w.dir == dir);
        let (seen, _loaded, log) = match warm {
            Some(w) => match catch_up(&dir, w) {
                Some(caught) => caught,
                None => cold(&dir)?,
            },
            None => cold(&dir)?,
        };
        let inner = Inner {
            dir: dir.clone(),
            unsettled: journal::Unsettled::default(),
            _lock: lock,
            last_batch: Mutex::new(last_batch),
            seen: Mutex::new(seen),
            faults: Mutex::new(Faults::default()),
            recovery,
            log: Mutex::new(log),
        };
        crate::evidence::backfill(&inner)?;
        Ok(Store {
            inner: Arc::new(inner),
            dataset: Dataset::at(dir),
        })
    }

    /// Releases the writer lock, keeping what opening read and this store
    /// wrote since (the keys of the stored messages, their parts, the log's
    /// edge) for [`Store::open_warm`]. `None` when another handle or writer
    /// of this store is still alive (the lock is then released when the
    /// last one goes), or when its parts cannot be listed.
    pub fn release(self) -> Option<Warm> {
        let inner = Arc::into_inner(self.inner)?;
        // Settled under the lock (a failure is finished by the next open).
        let _ = inner.unsettled.settle(true);
        let Inner { dir, seen, log, .. } = inner;
        // Every part there is now, under the lock: those read at opening
        // and those this store wrote since (whose keys `seen` holds). A
        // part of either kind gone at the next opening means its keys may
        // be stale (`catch_up` reads everything again); recording only the
        // parts read at opening missed a deleted part of our own. If the
        // listing fails, nothing is kept: the next opening is cold.
        let tables = dir.join("tables");
        let loaded = Loaded {
            messages: list_parts(&tables.join(schema::names::MESSAGES))
                .ok()?
                .into_iter()
                .collect(),
            quarantine: list_parts(&tables.join(schema::names::QUARANTINE))
                .ok()?
                .into_iter()
                .collect(),
        };
        Some(Warm {
            dir,
            seen: seen.into_inner().unwrap_or_else(|p| p.into_inner()),
            loaded,
            log: log.into_inner().unwrap_or_else(|p| p.into_inner()),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What opening the store had to repair.
    pub fn recovery(&self) -> Recovery {
        self.inner.recovery
    }

    /// Read access to the same directory.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// How many distinct messages are stored (committed or pending).
    pub fn message_count(&self) -> usize {
        self.inner.seen().messages.len()
    }

    /// Whether a message is stored (committed, or pending in a writer).
    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.inner.seen().messages.contains(&key_of(sha256))
    }

    /// A writer for messages, their URLs and quarantined records.
    pub fn message_writer(&self) -> MessageWriter {
        MessageWriter::new(self.inner.clone())
    }

    /// A writer for evidence objects of one kind (feed or MRT records);
    /// reads the keys of those already stored.
    pub fn object_writer(&self, kind: crate::ObjectKind) -> Result<crate::ObjectWriter> {
        crate::objects::ObjectWriter::new(self.inner.clone(), kind)
    }

    /// The raw bytes of a stored message (see [`Dataset::raw_message`]).
    pub fn raw_message(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        self.dataset.raw_message(sha256)
    }

    /// Makes the publication of batches committed with
    /// [`MessageWriter::with_early_ack`] durable (one fsync per directory
    /// they touched) and removes their staging directories. Waits for a
    /// settling already running on another thread.
    pub fn settle(&self) -> Result<()> {
        self.inner.unsettled.settle(true)
    }

    /// [`Store::settle`], unless another thread is settling: then returns
    /// at once (that thread, a later call or the store's drop settles what
    /// is left; a crash before then leaves it to the next open).
    pub fn settle_if_idle(&self) -> Result<()> {
        self.inner.unsettled.settle(false)
    }

    /// Test hook: make the next commits stop after durable step `step`
    /// (1-based) as if the process had been killed. `None` turns it off.
    #[doc(hidden)]
    pub fn inject_crash_after(&self, step: Option<usize>) {
        *self.inner.faults.lock().unwrap_or_else(|p| p.into_inner()) = Faults { crash_after: step };
    }

    /// Appends rows to a routing table in one atomic commit.
    pub fn append(&self, rows: TableRows<'_>) -> Result<()> {
        self.write_flat(rows, false)
    }

    /// Replaces every row of a routing table with `rows`, atomically: after
    /// a crash the table holds either the old or the new rows.
    pub fn replace_table(&self, rows: TableRows<'_>) -> Result<()> {
        self.write_flat(rows, true)
    }

    /// Appends to `feed_entries` (the caller de-duplicates by key; see
    /// [`Store::read_feed_keys`]).
    pub fn append_feed_entries(&self, rows: &[depeer_core::FeedEntryObs]) -> Result<()> {
        self.append(TableRows::FeedEntries(rows))
    }

    /// The keys of every listing already in `feed_entries`.
    pub fn read_feed_keys(&self) -> Result<std::collections::HashSet<String>> {
        self.dataset().read_feed_keys()
    }

    /// Appends to `routes`.
    pub fn append_routes(&self, rows: &[depeer_core::RouteObs]) -> Result<()> {
        self.append(TableRows::Routes(rows))
    }

    /// Appends to `as_links`.
    pub fn append_as_links(&self, rows: &[depeer_core::AsLinkObs]) -> Result<()> {
        self.append(TableRows::AsLinks(rows))
    }

    /// Appends to `routing_events`.
    pub fn append_routing_events(&self, rows: &[depeer_core::RoutingEventObs]) -> Result<()> {
        self.append(TableRows::RoutingEvents(rows))
    }

    /// Appends to `as_names`.
    pub fn append_as_names(&self, rows: &[depeer_core::AsNameObs]) -> Result<()> {
        self.append(TableRows::AsNames(rows))
    }

    /// Reads `routes` back.
    pub fn read_routes(&self) -> Result<Vec<depeer_core::RouteObs>> {
        self.dataset.read_routes()
    }

    /// Reads `as_links` back.
    pub fn read_as_links(&self) -> Result<Vec<depeer_core::AsLinkObs>> {
        self.dataset.read_as_links()
    }

    /// Reads `routing_events` back.
    pub fn read_routing_events(&self) -> Result<Vec<depeer_core::RoutingEventObs>> {
        self.dataset.read_routing_events()
    }

    /// Reads `rib_state` back.
    pub fn read_rib_state(&self) -> Result<Vec<depeer_core::RibStateObs>> {
        self.dataset.read_rib_state()
    }

    /// Reads `as_names` back.
    pub fn read_as_names(&self) -> Result<Vec<depeer_core::AsNameObs>> {
        self.dataset.read_as_names()
    }

    fn write_flat(&self, rows: TableRows<'_>, replace: bool) -> Result<()> {
        let table = rows.table();
        if rows.is_empty() && !replace {
            return Ok(());
        }
        let mut batch = self.inner.new_batch();
        if replace {
            let tdir = self.inner.dir.join("tables").join(table);
            for p in list_parts(&tdir)? {
                if let Ok(rel) = p.strip_prefix(&self.inner.dir) {
                    batch.delete(rel.to_string_lossy().into_owned());
                }
            }
        }
        // Large inputs become several files so readers can work in parallel.
        const ROWS_PER_FILE: usize = 1 << 20;
        let mut n = 0;
        let mut start = 0;
        while start < rows.len() {
            let end = (start + ROWS_PER_FILE).min(rows.len());
            let rb: RecordBatch = rows.slice(start, end).to_batch()?;
            let rel = format!("tables/{table}/part-{}-{n}.parquet", batch.id());
            parquet_io::write_part(&mut batch, &rel, &rb, &[])?;
            n += 1;
            start = end;
        }
        self.inner.commit(batch)
    }
}

/// The largest batch id already used in `dir` (from pack and part names).
fn last_batch_id(dir: &Path) -> Result<u64> {
    let mut last = 0u64;
    let mut consider = |name: &str| {
        let digits = name
            .trim_start_matches("opack-")
            .trim_start_matches("qpack-")
            .trim_start_matches("pack-")
            .trim_start_matches("part-");
        if let Some(id) = digits
            .get(..16)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
        {
            last = last.max(id);
        }
    };
    for sub in ["raw".to_string()].into_iter().chain(
        schema::tables()
            .iter()
            .filter(|t| t.layout == Layout::Flat)
            .map(|t| format!("tables/{}", t.name)),
    ) {
        let p = dir.join(&sub);
        if let Ok(entries) = fs::read_dir(&p) {
            for e in entries.flatten() {
                consider(&e.file_name().to_string_lossy());
            }
        }
    }
    Ok(last)
}

/// Reads everything: the keys of every stored message and quarantine row,
/// and the whole log.
fn cold(dir: &Path) -> Result<(Seen, Loaded, depeer_evidence::Appender)> {
    let mut seen = Seen::default();
    let loaded = load_seen(dir, &mut seen, &Loaded::default())?;
    let log = crate::evidence::open_log(dir)?;
    Ok((seen, loaded, log))
}

/// Catches a warm state up with what was committed since it was released;
/// `None` when it cannot (then everything is read again).
fn catch_up(dir: &Path, w: Warm) -> Option<(Seen, Loaded, depeer_evidence::Appender)> {
    let Warm {
        mut seen,
        loaded,
        mut log,
        ..
    } = w;
    log.refresh(dir).ok()?;
    let now = load_seen(dir, &mut seen, &loaded).ok()?;
    // A part read before and gone now (rewritten, deleted): its keys may
    // be stale.
    let gone =
        |before: &std::collections::BTreeSet<PathBuf>,
         after: &std::collections::BTreeSet<PathBuf>| { !before.is_subset(after) };
    if gone(&loaded.messages, &now.messages) || gone(&loaded.quarantine, &now.quarantine) {
        return None;
    }
    Some((seen, now, log))
}

/// Adds to `seen` the keys of the committed message and quarantine parts
/// not in `skip`; returns every part there is.
fn load_seen(dir: &Path, seen: &mut Seen, skip: &Loaded) -> Result<Loaded> {
    let tables = dir.join("tables");
    let all = list_parts(&tables.join(schema::names::MESSAGES))?;
    let files: Vec<PathBuf> = all
        .iter()
        .filter(|p| !skip.messages.contains(*p))
        .cloned()
        .collect();
    let keys = parquet_io::par_files(&files, |p| {
        let mut v = Vec::new();
        parquet_io::read_columns(p, &["sha256"], |rb| {
            let c = parquet_io::Cols { rb, path: p }.str("sha256")?;
            v.reserve(c.len());
            for i in 0..c.len() {
                let k = key_of_hex(c.value(i)).ok_or_else(|| StoreError::Corrupt {
                    path: p.to_path_buf(),
                    reason: format!("sha256 {:?} is not hex", c.value(i)),
                })?;
                v.push(k);
            }
            Ok(())
        })?;
        Ok(v)
    })?;
    seen.messages.reserve(keys.len());
    seen.messages.extend(keys);
    let qall = list_parts(&tables.join(schema::names::QUARANTINE))?;
    let qfiles: Vec<PathBuf> = qall
        .iter()
        .filter(|p| !skip.quarantine.contains(*p))
        .cloned()
        .collect();
    let qkeys = parquet_io::par_files(&qfiles, |p| {
        let mut v = Vec::new();
        parquet_io::read_columns(p, &["raw_sha256", "source_file", "source_offset"], |rb| {
            let cols = parquet_io::Cols { rb, path: p };
            let (sha, file, off) = (
                cols.str("raw_sha256")?,
                cols.str("source_file")?,
                cols.i64("source_offset")?,
            );
            for i in 0..sha.len() {
                v.push(quarantine_key(
                    sha.value(i),
                    file.value(i),
                    off.value(i) as u64,
                ));
            }
            Ok(())
        })?;
        Ok(v)
    })?;
    seen.quarantine.extend(qkeys);
    Ok(Loaded {
        messages: all.into_iter().collect(),
        quarantine: qall.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keys_match_binary_keys() {
        let mut sha = [0u8; 32];
        for (i, b) in sha.iter_mut().enumerate() {
            *b = (i * 37 + 5) as u8;
        }
        assert_eq!(key_of_hex(&hex::encode(sha)), Some(key_of(&sha)));
        assert_eq!(key_of_hex(&hex::encode_upper(sha)), Some(key_of(&sha)));
        assert_eq!(key_of_hex("abc"), None);
        assert_eq!(key_of_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn second_writer_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        let e = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(e, StoreError::Locked { .. }));
        assert!(e.to_string().contains("another depeer is writing"));
        drop(s);
        Store::open(tmp.path()).unwrap();
    }

    #[test]
    fn batch_ids_increase() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        let a = s.inner.new_batch().id().to_string();
        let b = s.inner.new_batch().id().to_string();
        assert!(b > a, "{a} {b}");
    }
}
