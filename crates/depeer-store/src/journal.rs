//! The roll-forward journal that makes a batch of files appear all at once
//! after a crash, or not at all.
//!
//! Protocol for one batch `<id>` (each step durable before the next):
//!
//! 1. every file of the batch (Parquet parts, raw packs) is written into
//!    `staging/<id>/` and fsynced (in parallel: the files of a batch are
//!    independent, and a commit mostly waits for the disk);
//! 2. a manifest is written to `staging/<id>/COMMIT.tmp`, fsynced (beside
//!    the last staged files), renamed to `staging/<id>/COMMIT`, and the
//!    directory fsynced: this rename is the commit point, after which the
//!    batch is durable (step 3 and 4 are redone by [`recover`]);
//! 3. publish: each staged file is renamed to its final place (raw packs
//!    first, then the evidence log's segment and checkpoint, the
//!    `messages` parts last, so a visible message row always finds its raw
//!    bytes and its log entry), then the files a table replacement retires
//!    are deleted;
//! 4. settle: the directories the renames and deletes touched are fsynced,
//!    then `staging/<id>/` is removed.
//!
//! [`Batch::commit`] runs all four. [`Batch::commit_published`] stops after
//! step 3, so a caller can answer "durable" at once (the live trap), and
//! leaves step 4 to [`Unsettled`], which settles many batches with one
//! fsync per directory. Until a batch is settled its `COMMIT` stays, so a
//! crash before then only makes [`recover`] redo renames that are already
//! done (each is skipped when its staged file is gone) and remove the
//! directory. A batch that deletes files settles every batch before it
//! first, so a recovery never re-applies an old batch over a newer delete.
//!
//! [`recover`] (run by `Store::open` under the writer lock) finishes step 3
//! and 4 for every staging directory that has a `COMMIT`, and deletes every
//! staging directory that has none. Both are idempotent, so a crash during
//! recovery is harmless too. Queries only look under `tables/`, where a
//! file appears by an atomic rename of a complete, fsynced file: no
//! half-written file is ever visible.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, TryLockError};

use crate::error::{Result, StoreError};

pub(crate) const STAGING: &str = "staging";
const COMMIT: &str = "COMMIT";
const COMMIT_TMP: &str = "COMMIT.tmp";
const MAGIC: &str = "depeer-commit 1";

/// Fault injection for tests: the commit stops (as if the process died)
/// right after durable step number `crash_after` (1-based).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Faults {
    pub(crate) crash_after: Option<usize>,
}

struct StepCounter {
    faults: Faults,
    step: usize,
}

impl StepCounter {
    fn step(&mut self) -> Result<()> {
        self.step += 1;
        if self.faults.crash_after == Some(self.step) {
            return Err(StoreError::InjectedCrash { step: self.step });
        }
        Ok(())
    }
}

/// The files of one batch, staged but not yet committed.
#[derive(Debug)]
pub(crate) struct Batch {
    root: PathBuf,
    id: String,
    dir: PathBuf,
    created: bool,
    renames: Vec<(String, String)>,
    deletes: Vec<String>,
    /// Staged files written but not yet fsynced ([`Batch::written`]).
    unsynced: Vec<(PathBuf, File)>,
}

impl Batch {
    pub(crate) fn new(root: &Path, id: String) -> Self {
        let dir = root.join(STAGING).join(&id);
        Batch {
            root: root.to_path_buf(),
            id,
            dir,
            created: false,
            renames: Vec::new(),
            deletes: Vec::new(),
            unsynced: Vec::new(),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.renames.is_empty() && self.deletes.is_empty()
    }

    fn ensure_dir(&mut self) -> Result<()> {
        if !self.created {
            fs::create_dir_all(&self.dir).map_err(StoreError::io("create directory", &self.dir))?;
            self.created = true;
        }
        Ok(())
    }

    /// Creates the staged file that will become `final_rel` (relative to
    /// the data directory). The caller writes it and calls [`sync_file`]
    /// or hands it back with [`Batch::written`].
    pub(crate) fn create(&mut self, final_rel: &str) -> Result<(PathBuf, File)> {
        self.ensure_dir()?;
        let base = final_rel.rsplit('/').next().unwrap_or(final_rel);
        let staged = format!("{:04}-{base}", self.renames.len());
        let path = self.dir.join(&staged);
        let file = File::create(&path).map_err(StoreError::io("create", &path))?;
        self.renames.push((staged, final_rel.to_string()));
        Ok((path, file))
    }

    /// Hands back a complete staged file: it is fsynced by the next
    /// [`Batch::sync_staged`] or at the commit point, in parallel with the
    /// batch's other files.
    pub(crate) fn written(&mut self, path: PathBuf, file: File) {
        self.unsynced.push((path, file));
    }

    /// fsyncs every file handed back so far, in parallel.
    pub(crate) fn sync_staged(&mut self) -> Result<()> {
        sync_parallel(std::mem::take(&mut self.unsynced))
    }

    /// Marks a file (relative to the data directory) for deletion at commit.
    pub(crate) fn delete(&mut self, rel: String) {
        self.deletes.push(rel);
    }

    /// Whether the batch deletes files (then every batch published before
    /// it must be settled first, see the module docs).
    pub(crate) fn has_deletes(&self) -> bool {
        !self.deletes.is_empty()
    }

    /// Runs steps 2 to 4 of the protocol. The staged files must be
    /// complete (fsynced, or handed back with [`Batch::written`]).
    pub(crate) fn commit(self, faults: Faults) -> Result<()> {
        let mut steps = StepCounter { faults, step: 0 };
        match self.commit_point_and_publish(&mut steps)? {
            Some(p) => settle(&[p], &mut steps),
            None => Ok(()),
        }
    }

    /// Runs steps 2 and 3: when it returns the batch is durable and
    /// visible; step 4 is left to [`Unsettled`] (`None` for an empty
    /// batch, which has nothing to settle).
    pub(crate) fn commit_published(self, faults: Faults) -> Result<Option<Published>> {
        let mut steps = StepCounter { faults, step: 0 };
        self.commit_point_and_publish(&mut steps)
    }

    fn commit_point_and_publish(mut self, steps: &mut StepCounter) -> Result<Option<Published>> {
        if self.is_empty() {
            if self.created {
                remove_staging(&self.dir)?;
            }
            return Ok(None);
        }
        self.ensure_dir()?;
        steps.step()?; // 1: all staged files written
        self.renames.sort_by_key(|(_, rel)| rename_rank(rel));
        let mut text = format!("{MAGIC}\nbatch\t{}\n", self.id);
        for (staged, rel) in &self.renames {
            text.push_str(&format!("rename\t{staged}\t{rel}\n"));
        }
        for rel in &self.deletes {
            text.push_str(&format!("delete\t{rel}\n"));
        }
        text.push_str("end\n");
        let tmp = self.dir.join(COMMIT_TMP);
        let mut file = File::create(&tmp).map_err(StoreError::io("create", &tmp))?;
        file.write_all(text.as_bytes())
            .map_err(StoreError::io("write", &tmp))?;
        // The manifest's own fsync beside the staged files': nothing is
        // committed before the rename below, which waits for all of them.
        let mut files = std::mem::take(&mut self.unsynced);
        files.push((tmp.clone(), file));
        sync_parallel(files)?;
        steps.step()?; // 2: COMMIT.tmp durable
        let commit = self.dir.join(COMMIT);
        fs::rename(&tmp, &commit).map_err(StoreError::io("rename", &tmp))?;
        sync_dir(&self.dir)?;
        steps.step()?; // 3: committed
        let manifest = Manifest {
            renames: std::mem::take(&mut self.renames),
            deletes: std::mem::take(&mut self.deletes),
        };
        publish(&self.root, &self.dir, &manifest, steps).map(Some)
    }
}

/// fsyncs files in parallel (on the store's fsync pool, the first on this
/// thread): on the disks measured, concurrent fsyncs of a batch's few
/// files take about as long as one.
fn sync_parallel(files: Vec<(PathBuf, File)>) -> Result<()> {
    crate::fsync::sync_all(files)
}

/// A batch past step 3: its staging directory (still holding `COMMIT`)
/// and the directories its renames and deletes touched.
#[derive(Debug)]
pub(crate) struct Published {
    dir: PathBuf,
    touched: BTreeSet<PathBuf>,
}

/// Published batches not yet settled (step 4), settled together: one
/// fsync per directory for all of them. Dropping it settles what is left.
#[derive(Debug, Default)]
pub(crate) struct Unsettled {
    list: Mutex<Vec<Published>>,
    settling: Mutex<()>,
}

impl Unsettled {
    pub(crate) fn push(&self, p: Published) {
        self.list.lock().unwrap_or_else(|e| e.into_inner()).push(p);
    }

    /// Settles every batch published so far. With `wait` false, returns at
    /// once when another thread is settling (it, or a later call, settles
    /// what is left). On failure the batches stay committed (their
    /// `COMMIT` is kept) and stay listed: the next call retries them (so a
    /// batch that deletes still settles them first), else the next
    /// [`recover`] settles them.
    pub(crate) fn settle(&self, wait: bool) -> Result<()> {
        let _guard = match self.settling.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) if !wait => return Ok(()),
            Err(TryLockError::WouldBlock) => {
                self.settling.lock().unwrap_or_else(|e| e.into_inner())
            }
        };
        let list = std::mem::take(&mut *self.list.lock().unwrap_or_else(|e| e.into_inner()));
        let mut steps = StepCounter {
            faults: Faults::default(),
            step: 0,
        };
        let r = settle(&list, &mut steps);
        if r.is_err() {
            let mut now = self.list.lock().unwrap_or_else(|e| e.into_inner());
            now.splice(0..0, list);
        }
        r
    }
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        // A failure leaves the batches committed: the next open settles
        // them.
        let _ = self.settle(true);
    }
}

/// Raw packs first, then the evidence log's segment and checkpoint (an
/// entry never points at bytes that are not there), `messages` last,
/// everything else between (a row is never visible without its entry).
fn rename_rank(rel: &str) -> u8 {
    if rel.starts_with("raw/") {
        0
    } else if rel.starts_with("log/") {
        1
    } else if rel.starts_with("tables/messages/") {
        3
    } else {
        2
    }
}

struct Manifest {
    renames: Vec<(String, String)>,
    deletes: Vec<String>,
}

fn parse_manifest(path: &Path) -> Result<Manifest> {
    let text = fs::read_to_string(path).map_err(StoreError::io("read", path))?;
    let bad = |line: usize, reason: &str| StoreError::Manifest {
        path: path.to_path_buf(),
        line,
        reason: reason.to_string(),
    };
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l) != Some(MAGIC) {
        return Err(bad(1, "not a depeer commit manifest"));
    }
    let mut m = Manifest {
        renames: Vec::new(),
        deletes: Vec::new(),
    };
    let mut ended = false;
    for (i, line) in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["batch", _] => {}
            ["rename", staged, rel] => {
                check_rel(rel).map_err(|r| bad(i + 1, r))?;
                if staged.contains('/') || staged.contains("..") {
                    return Err(bad(i + 1, "staged name with a path"));
                }
                m.renames.push(((*staged).to_string(), (*rel).to_string()));
            }
            ["delete", rel] => {
                check_rel(rel).map_err(|r| bad(i + 1, r))?;
                m.deletes.push((*rel).to_string());
            }
            ["end"] => ended = true,
            _ => return Err(bad(i + 1, "unknown line")),
        }
    }
    if !ended {
        return Err(bad(text.lines().count(), "no `end` line (truncated)"));
    }
    Ok(m)
}

fn check_rel(rel: &str) -> Result<(), &'static str> {
    if rel.starts_with('/') || rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err("path outside the data directory");
    }
    if !(rel.starts_with("tables/") || rel.starts_with("raw/") || rel.starts_with("log/")) {
        return Err("path outside tables/, raw/ and log/");
    }
    Ok(())
}

/// Step 3 (renames, then deletes); idempotent.
fn publish(root: &Path, dir: &Path, m: &Manifest, steps: &mut StepCounter) -> Result<Published> {
    let mut touched = BTreeSet::new();
    for (staged, rel) in &m.renames {
        let src = dir.join(staged);
        let dst = root.join(rel);
        if src.exists() {
            if let Some(parent) = dst.parent() {
                if !parent.exists() {
                    fs::create_dir_all(parent)
                        .map_err(StoreError::io("create directory", parent))?;
                    if let Some(grand) = parent.parent() {
                        touched.insert(grand.to_path_buf());
                    }
                }
                touched.insert(parent.to_path_buf());
            }
            fs::rename(&src, &dst).map_err(StoreError::io("rename", &src))?;
        }
        steps.step()?; // 4..: one per rename
    }
    for rel in &m.deletes {
        let p = root.join(rel);
        match fs::remove_file(&p) {
            Ok(()) => {
                if let Some(parent) = p.parent() {
                    touched.insert(parent.to_path_buf());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("remove", &p)(e)),
        }
    }
    steps.step()?; // after deletes
    Ok(Published {
        dir: dir.to_path_buf(),
        touched,
    })
}

/// Step 4 for published batches: the renames and deletes made durable
/// (each touched directory fsynced once, in parallel), then the staging
/// directories removed; idempotent.
fn settle(list: &[Published], steps: &mut StepCounter) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mut dirs = BTreeSet::new();
    for p in list {
        dirs.extend(p.touched.iter().cloned());
    }
    let mut opened = Vec::with_capacity(dirs.len());
    for d in dirs {
        let f = File::open(&d).map_err(StoreError::io("open directory", &d))?;
        opened.push((d, f));
    }
    sync_parallel(opened)?;
    let mut parents = BTreeSet::new();
    for p in list {
        match fs::remove_dir_all(&p.dir) {
            Ok(()) => {}
            // Removed by an earlier try that failed further on.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("remove directory", &p.dir)(e)),
        }
        if let Some(parent) = p.dir.parent() {
            parents.insert(parent.to_path_buf());
        }
    }
    for d in &parents {
        sync_dir(d)?;
    }
    steps.step()?; // staging removed
    Ok(())
}

fn remove_staging(dir: &Path) -> Result<()> {
    fs::remove_dir_all(dir).map_err(StoreError::io("remove directory", dir))?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// Committed batches whose renames were finished.
    pub rolled_forward: usize,
    /// Uncommitted batches that were deleted.
    pub discarded: usize,
}

/// Finishes committed batches and discards uncommitted ones.
pub(crate) fn recover(root: &Path) -> Result<Recovery> {
    let staging = root.join(STAGING);
    let mut report = Recovery::default();
    let entries = match fs::read_dir(&staging) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(StoreError::io("read directory", &staging)(e)),
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io("read directory", &staging))?;
        dirs.push(entry.path());
    }
    dirs.sort();
    for dir in dirs {
        if !dir.is_dir() {
            fs::remove_file(&dir).map_err(StoreError::io("remove", &dir))?;
            continue;
        }
        let commit = dir.join(COMMIT);
        if commit.exists() {
            let m = parse_manifest(&commit)?;
            let mut steps = StepCounter {
                faults: Faults::default(),
                step: 0,
            };
            let p = publish(root, &dir, &m, &mut steps)?;
            settle(&[p], &mut steps)?;
            report.rolled_forward += 1;
        } else {
            remove_staging(&dir)?;
            report.discarded += 1;
        }
    }
    Ok(report)
}

/// fsyncs a file and closes it (for a writer that makes a staged file
/// durable itself rather than through [`Batch::written`]).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn sync_file(path: &Path, file: File) -> Result<()> {
    file.sync_all().map_err(StoreError::io("fsync", path))
}

/// fsyncs a directory so that renames and creations in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(StoreError::io("open directory", dir))?;
    d.sync_all().map_err(StoreError::io("fsync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(b: &mut Batch, rel: &str, content: &[u8]) {
        let (path, mut f) = b.create(rel).unwrap();
        f.write_all(content).unwrap();
        sync_file(&path, f).unwrap();
    }

    #[test]
    fn every_crash_point_rolls_forward_or_back() {
        for k in 1..=8 {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path();
            fs::create_dir_all(root.join("tables/t")).unwrap();
            fs::write(root.join("tables/t/old.parquet"), b"old").unwrap();
            let mut b = Batch::new(root, format!("b{k}"));
            stage(&mut b, "tables/t/day=2008-11-11/new.parquet", b"new");
            stage(&mut b, "raw/pack-1.zst", b"pack");
            b.delete("tables/t/old.parquet".into());
            let r = b.commit(Faults {
                crash_after: Some(k),
            });
            let crashed = matches!(r, Err(StoreError::InjectedCrash { .. }));
            let rec = recover(root).unwrap();
            let committed = k >= 3 || !crashed;
            assert_eq!(
                root.join("tables/t/day=2008-11-11/new.parquet").exists(),
                committed,
                "k={k}"
            );
            assert_eq!(root.join("raw/pack-1.zst").exists(), committed, "k={k}");
            assert_eq!(
                root.join("tables/t/old.parquet").exists(),
                !committed,
                "k={k}"
            );
            assert_eq!(fs::read_dir(root.join(STAGING)).unwrap().count(), 0);
            if crashed && k < 3 {
                assert_eq!(rec.discarded, 1);
            }
        }
    }

    #[test]
    fn truncated_manifest_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(STAGING).join("x");
        fs::create_dir_all(&dir).unwrap();
        // No `end` line; a target outside the data directory.
        for body in ["rename\ta\ttables/t/a\n", "rename\ta\t../etc/x\nend\n"] {
            fs::write(dir.join(COMMIT), format!("{MAGIC}\n{body}")).unwrap();
            assert!(
                matches!(recover(tmp.path()), Err(StoreError::Manifest { .. })),
                "{body:?}"
            );
        }
    }
}
