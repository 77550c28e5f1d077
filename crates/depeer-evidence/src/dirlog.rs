//! The log as files in a data directory, and [`Appender`], the writer's
//! view of it:
//!
//! ```text
//! log/key                           the signing key (PRIVATE+KEY+… form), mode 0600
//! log/entries/<START>.log           entries START.. of one commit, concatenated
//! log/checkpoints/<SIZE>            the signed checkpoint after the commit that reached SIZE
//! ```
//!
//! START and SIZE are 20-digit zero-padded decimals, so name order is log
//! order. A segment and its checkpoint are staged and committed by the
//! store in the same journal batch as the rows and raw bytes they log (see
//! depeer-store's journal), so they appear together or not at all. The key
//! is made on first use and never printed; its name (`depeer.local/` and 16
//! random hex digits) is the log's origin.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::checkpoint::Checkpoint;
use crate::entry::{Entry, parse_segment};
use crate::error::{EvidenceError, Result};
use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::note::NoteSigner;

/// The log's directory under the data directory.
pub const LOG_DIR: &str = "log";

/// Path of the key file, relative to the data directory.
pub const KEY_FILE: &str = "log/key";

/// The relative path of the segment starting at `start`.
pub fn segment_rel(start: u64) -> String {
    format!("{LOG_DIR}/entries/{start:020}.log")
}

/// The relative path of the checkpoint of size `size`.
pub fn checkpoint_rel(size: u64) -> String {
    format!("{LOG_DIR}/checkpoints/{size:020}")
}

/// Loads the data directory's signing key, making it on first use (mode
/// 0600, written to a temporary file, fsynced and renamed, so a crash
/// leaves either no key or a whole one).
pub fn load_or_create_key(data_dir: &Path) -> Result<NoteSigner> {
    let path = data_dir.join(KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => return NoteSigner::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(EvidenceError::io("read", &path)(e)),
    }
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| EvidenceError::Random(e.to_string()))?;
    let signer = NoteSigner::generate(&format!("depeer.local/{}", hex::encode(id)))?;
    let dir = data_dir.join(LOG_DIR);
    fs::create_dir_all(&dir).map_err(EvidenceError::io("create directory", &dir))?;
    let tmp = dir.join("key.tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(EvidenceError::io("create", &tmp))?;
    f.write_all(format!("{}\n", signer.private_key()).as_bytes())
        .map_err(EvidenceError::io("write", &tmp))?;
    f.sync_all().map_err(EvidenceError::io("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(EvidenceError::io("rename", &tmp))?;
    fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(EvidenceError::io("fsync directory", &dir))?;
    Ok(signer)
}

/// One entry as read back, with where it is.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Its index in the log.
    pub index: u64,
    /// The entry.
    pub entry: Entry,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The segment file (relative to the data directory).
    pub file: String,
    /// Byte offset in the segment.
    pub offset: u64,
}

/// Every entry of the log in order.
pub fn read_entries(data_dir: &Path) -> Result<Vec<StoredEntry>> {
    let mut out = Vec::new();
    for (start, rel) in numbered_files(data_dir, "entries", ".log")? {
        read_segment_from(data_dir, start, rel, 0, &mut out)?;
    }
    Ok(out)
}

/// Reads the segment `rel`, which starts at entry `start`, onto `out`;
/// the log holds `before` entries before those in `out`.
fn read_segment_from(
    data_dir: &Path,
    start: u64,
    rel: String,
    before: u64,
    out: &mut Vec<StoredEntry>,
) -> Result<()> {
    let path = data_dir.join(&rel);
    let have = before + out.len() as u64;
    if start != have {
        return Err(EvidenceError::Discrepancy {
            object: format!("segment starting at entry {start}"),
            file: rel,
            offset: 0,
            reason: format!("the log has {have} entries before it (a segment is missing or extra)"),
        });
    }
    let bytes = fs::read(&path).map_err(EvidenceError::io("read", &path))?;
    let entries = parse_segment(&bytes).map_err(|e| EvidenceError::Discrepancy {
        object: format!("segment starting at entry {start}"),
        file: rel.clone(),
        offset: 0,
        reason: e.to_string(),
    })?;
    for (offset, entry) in entries {
        let end = bytes.len();
        let line = bytes
            .get(offset as usize..)
            .and_then(|r| {
                r.iter()
                    .position(|&b| b == b'\n')
                    .map(|p| offset as usize + p + 1)
            })
            .unwrap_or(end);
        let leaf = leaf_hash(bytes.get(offset as usize..line).unwrap_or_default());
        out.push(StoredEntry {
            index: before + out.len() as u64,
            entry,
            leaf,
            file: rel.clone(),
            offset,
        });
    }
    Ok(())
}

/// The checkpoint files, in size order: (size, relative path).
pub fn checkpoint_files(data_dir: &Path) -> Result<Vec<(u64, String)>> {
    numbered_files(data_dir, "checkpoints", "")
}

/// The latest signed checkpoint's text, if any.
pub fn latest_checkpoint(data_dir: &Path) -> Result<Option<String>> {
    let Some((_, rel)) = checkpoint_files(data_dir)?.pop() else {
        return Ok(None);
    };
    let p = data_dir.join(rel);
    fs::read_to_string(&p)
        .map(Some)
        .map_err(EvidenceError::io("read", &p))
}

fn numbered_files(data_dir: &Path, sub: &str, ext: &str) -> Result<Vec<(u64, String)>> {
    let dir: PathBuf = data_dir.join(LOG_DIR).join(sub);
    let rd = match fs::read_dir(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(EvidenceError::io("read directory", &dir)(e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(EvidenceError::io("read directory", &dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(num) = name.strip_suffix(ext) else {
            continue;
        };
        if num.len() != 20 || !num.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(n) = num.parse::<u64>() {
            out.push((n, format!("{LOG_DIR}/{sub}/{name}")));
        }
    }
    out.sort();
    Ok(out)
}

/// What one commit adds to the log: the segment's bytes and the signed
/// checkpoint after it, to be staged in the commit's batch.
#[derive(Debug)]
pub struct Prepared {
    /// Index of the first new entry.
    pub start: u64,
    /// The segment (entries concatenated).
    pub segment: Vec<u8>,
    /// The signed checkpoint of the new size.
    pub checkpoint: String,
    /// The new size.
    pub size: u64,
    /// The leaf hash of each new entry, in order.
    pub leaves: Vec<Hash>,
    frontier: Frontier,
}

/// The writer's side of the log: its key and the right edge of the tree.
#[derive(Debug)]
pub struct Appender {
    signer: NoteSigner,
    frontier: Frontier,
}

impl Appender {
    /// Opens the log of `data_dir` (reading every entry once to rebuild the
    /// tree's edge; the caller holds the store's writer lock).
    pub fn open(data_dir: &Path) -> Result<Appender> {
        let signer = load_or_create_key(data_dir)?;
        let mut frontier = Frontier::new();
        for e in read_entries(data_dir)? {
            frontier.push(e.leaf);
        }
        Ok(Appender { signer, frontier })
    }

    /// Catches up with entries other writers appended since this appender
    /// was opened or last refreshed (the caller holds the store's writer
    /// lock again): reads only the segments from its size on, so a writer
    /// that releases the lock between commits does not re-read the whole
    /// log. The checkpoint of its size must still be there (the log it
    /// knew was not replaced); otherwise an error, and the caller opens
    /// afresh.
    pub fn refresh(&mut self, data_dir: &Path) -> Result<()> {
        let size = self.frontier.size();
        if size > 0 {
            let cp = data_dir.join(checkpoint_rel(size));
            if !cp.exists() {
                return Err(EvidenceError::Discrepancy {
                    object: format!("the log of {size} entries"),
                    file: checkpoint_rel(size),
                    offset: 0,
                    reason: "its checkpoint is gone: the log was replaced".into(),
                });
            }
        }
        let mut new = Vec::new();
        for (start, rel) in numbered_files(data_dir, "entries", ".log")? {
            if start >= size {
                read_segment_from(data_dir, start, rel, size, &mut new)?;
            }
        }
        for e in new {
            self.frontier.push(e.leaf);
        }
        Ok(())
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The verifier key.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// Prepares the segment of `entries` (each entry's bytes, concatenated
    /// as [`Entry::write_to`] writes them) and the checkpoint after it.
    pub fn prepare(&self, segment: Vec<u8>) -> Result<Prepared> {
        let start = self.frontier.size();
        let mut frontier = self.frontier.clone();
        let mut leaves = Vec::with_capacity(segment.len() / 100 + 1);
        let mut off = 0usize;
        while off < segment.len() {
            let rest = segment.get(off..).unwrap_or_default();
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| p + 1)
                .ok_or_else(|| {
                    EvidenceError::malformed("log segment", 0, "entry without newline")
                })?;
            let leaf = leaf_hash(rest.get(..end).unwrap_or_default());
            leaves.push(leaf);
            frontier.push(leaf);
            off += end;
        }
        let c = Checkpoint {
            origin: self.signer.name().to_string(),
            size: frontier.size(),
            root: frontier.root(),
        };
        let checkpoint = self.signer.sign(&c.to_text())?;
        Ok(Prepared {
            start,
            segment,
            checkpoint,
            size: c.size,
            leaves,
            frontier,
        })
    }

    /// Makes a prepared segment part of the tree (after its commit).
    pub fn advance(&mut self, p: Prepared) {
        if p.start == self.frontier.size() {
            self.frontier = p.frontier;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_private_and_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let a = load_or_create_key(tmp.path()).unwrap();
        let b = load_or_create_key(tmp.path()).unwrap();
        assert_eq!(a.verifier_key(), b.verifier_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let m = fs::metadata(tmp.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
        }
    }

    #[test]
    fn appender_segments_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let mut ap = Appender::open(d).unwrap();
        for round in 0..3u8 {
            let mut seg = Vec::new();
            for i in 0..5u8 {
                Entry::new("mail", [round * 10 + i; 32], 100)
                    .unwrap()
                    .write_to(&mut seg);
            }
            let p = ap.prepare(seg).unwrap();
            fs::create_dir_all(d.join("log/entries")).unwrap();
            fs::create_dir_all(d.join("log/checkpoints")).unwrap();
            fs::write(d.join(segment_rel(p.start)), &p.segment).unwrap();
            fs::write(d.join(checkpoint_rel(p.size)), &p.checkpoint).unwrap();
            ap.advance(p);
        }
        let e = read_entries(d).unwrap();
        assert_eq!(e.len(), 15);
        let re = Appender::open(d).unwrap();
        assert_eq!(re.frontier, ap.frontier);
        assert_eq!(checkpoint_files(d).unwrap().len(), 3);
    }
}
