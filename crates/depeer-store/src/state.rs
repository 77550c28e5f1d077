//! The state an open store shares with its message writers: the writer
//! lock, batch ids, the deduplication keys of what is stored, and the
//! crash-injection switch of the tests. `store` opens it, `writer` commits
//! through it; neither depends on the other.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::journal::{Batch, Faults, Recovery, Unsettled};

/// Hasher for keys that are already uniformly random (hash prefixes).
#[derive(Default)]
pub(crate) struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

pub(crate) type KeySet = HashSet<u128, BuildHasherDefault<PrefixHasher>>;

/// The first 16 bytes of a SHA-256, the deduplication key of a message.
pub(crate) fn key_of(sha: &[u8; 32]) -> u128 {
    let mut k = [0u8; 16];
    k.copy_from_slice(&sha[..16]);
    u128::from_be_bytes(k)
}

/// The key of a hex SHA-256 (at least 32 hex digits).
pub(crate) fn key_of_hex(hex: &str) -> Option<u128> {
    let b = hex.as_bytes();
    let mut k: u128 = 0;
    for i in 0..32 {
        let d = match *b.get(i)? {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        k = (k << 4) | u128::from(d);
    }
    Some(k)
}

/// The deduplication key of a quarantine row.
pub(crate) fn quarantine_key(raw_sha_hex: &str, file: &str, offset: u64) -> u128 {
    let mut h = Sha256::new();
    h.update(raw_sha_hex.as_bytes());
    h.update([0]);
    h.update(file.as_bytes());
    h.update([0]);
    h.update(offset.to_le_bytes());
    let d: [u8; 32] = h.finalize().into();
    key_of(&d)
}

/// The keys of every stored message and quarantine row (deduplication).
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) messages: KeySet,
    pub(crate) quarantine: KeySet,
}

/// The message and quarantine parts whose keys are in a [`Seen`].
#[derive(Default, Debug)]
pub(crate) struct Loaded {
    pub(crate) messages: BTreeSet<PathBuf>,
    pub(crate) quarantine: BTreeSet<PathBuf>,
}

/// What an open store read from its directory, kept while its writer lock
/// is released (from [`crate::Store::release`] to
/// [`crate::Store::open_warm`]).
pub struct Warm {
    pub(crate) dir: PathBuf,
    pub(crate) seen: Seen,
    pub(crate) loaded: Loaded,
    pub(crate) log: depeer_evidence::Appender,
}

impl std::fmt::Debug for Warm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warm")
            .field("dir", &self.dir)
            .field("messages", &self.seen.messages.len())
            .field("log_size", &self.log.size())
            .finish()
    }
}

/// An open store's state, shared by the [`crate::Store`] handles and their
/// writers.
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    /// Batches committed and published but not yet settled (declared
    /// before the lock: dropping settles them while the lock is held).
    pub(crate) unsettled: Unsettled,
    pub(crate) _lock: File,
    pub(crate) last_batch: Mutex<u64>,
    pub(crate) seen: Mutex<Seen>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) recovery: Recovery,
    /// The evidence log's writer side (key and tree edge); its lock also
    /// orders the commits that add entries.
    pub(crate) log: Mutex<depeer_evidence::Appender>,
}

impl Inner {
    pub(crate) fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, depeer_evidence::Appender> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Commits `batch` (all the journal's steps); when it deletes files,
    /// the batches published before it are settled first (journal docs).
    pub(crate) fn commit(&self, batch: Batch) -> crate::error::Result<()> {
        if batch.has_deletes() {
            self.unsettled.settle(true)?;
        }
        batch.commit(self.faults())
    }

    /// Commits `batch` up to its publication (durable and visible) and
    /// leaves settling it to [`Unsettled`]; deletes settle first as in
    /// [`Inner::commit`].
    pub(crate) fn commit_early(&self, batch: Batch) -> crate::error::Result<()> {
        if batch.has_deletes() {
            self.unsettled.settle(true)?;
        }
        if let Some(p) = batch.commit_published(self.faults())? {
            self.unsettled.push(p);
        }
        Ok(())
    }

    pub(crate) fn faults(&self) -> Faults {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new, unique, increasing batch id (hex microseconds).
    pub(crate) fn new_batch(&self) -> Batch {
        let now = now_micros().max(0) as u64;
        let mut last = self.last_batch.lock().unwrap_or_else(|p| p.into_inner());
        let id = now.max(*last + 1);
        *last = id;
        Batch::new(&self.dir, format!("{id:016x}"))
    }
}

/// Wall-clock time in microseconds since the Unix epoch (0 if the clock is
/// before it).
pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
