//! `depeer log`: the evidence log of a data directory read back. The
//! verifier key, the latest signed checkpoint, an inclusion proof
//! (c2sp.org/tlog-proof@v1) for one object, a consistency proof from an
//! earlier size, and [`verify_log`], which re-reads the whole store and
//! stops at the first discrepancy, naming the object, file and offset.
//!
//! Nothing here writes: the key and the entries are made by the store's
//! commits (depeer-store `evidence`).

use std::collections::HashMap;
use std::path::Path;

use depeer_evidence::{
    Checkpoint, EvidenceError, Frontier, Hash, NoteSigner, NoteVerifier, StoredEntry, TlogProof,
    checkpoint_files, merkle, read_entries,
};
use serde::Serialize;

use crate::IngestError;

/// The verifier key of the data directory's log.
pub fn log_vkey(data: &Path) -> Result<String, IngestError> {
    Ok(signer(data)?.verifier_key())
}

fn signer(data: &Path) -> Result<NoteSigner, IngestError> {
    let path = data.join(depeer_evidence::KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(NoteSigner::parse(&t)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(IngestError::NoLog {
            dir: data.to_path_buf(),
        }),
        Err(e) => Err(IngestError::Write { path, source: e }),
    }
}

fn verifier(data: &Path) -> Result<NoteVerifier, IngestError> {
    Ok(NoteVerifier::parse(&log_vkey(data)?)?)
}

/// The latest signed checkpoint, verbatim.
pub fn log_checkpoint(data: &Path) -> Result<String, IngestError> {
    depeer_evidence::latest_checkpoint(data)?.ok_or_else(|| IngestError::NoLog {
        dir: data.to_path_buf(),
    })
}

/// An inclusion proof of one object's entry.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectProof {
    /// The entry's index.
    pub log_index: u64,
    /// The entry's kind.
    pub kind: String,
    /// The object's SHA-256 (hex).
    pub sha256: String,
    /// The entry's OBSERVED (UNIX seconds).
    pub observed: i64,
    /// The tree size of the checkpoint proved against.
    pub tree_size: u64,
    /// The proof in c2sp.org/tlog-proof@v1 form.
    pub proof: String,
}

/// The log read once: entries, leaves and the latest checkpoint.
pub struct LogView {
    /// Every entry in order.
    pub entries: Vec<StoredEntry>,
    /// Their leaf hashes.
    pub leaves: Vec<Hash>,
    /// The latest signed checkpoint (verbatim) and its parsed head.
    pub latest: (String, Checkpoint),
}

impl std::fmt::Debug for LogView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogView")
            .field("entries", &self.entries.len())
            .field("latest", &self.latest.1.size)
            .finish()
    }
}

impl LogView {
    /// Reads the log of `data` (checking the latest checkpoint's signature).
    pub fn open(data: &Path) -> Result<LogView, IngestError> {
        let v = verifier(data)?;
        let note = log_checkpoint(data)?;
        let head = Checkpoint::open(&note, &v)?;
        let entries = read_entries(data)?;
        let leaves = entries.iter().map(|e| e.leaf).collect();
        Ok(LogView {
            entries,
            leaves,
            latest: (note, head),
        })
    }

    /// The proof for the entry at `index`, against the latest checkpoint.
    pub fn prove_index(&self, index: u64) -> Result<ObjectProof, IngestError> {
        let (note, head) = &self.latest;
        let e = usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .ok_or(IngestError::BadSize {
                old: index,
                latest: head.size,
            })?;
        let hashes = merkle::inclusion_proof(&self.leaves, index, head.size).ok_or(
            IngestError::BadSize {
                old: index,
                latest: head.size,
            },
        )?;
        let proof = TlogProof {
            extra: None,
            index,
            hashes,
            checkpoint: note.clone(),
        };
        Ok(ObjectProof {
            log_index: index,
            kind: e.entry.kind.clone(),
            sha256: e.entry.sha256_hex(),
            observed: e.entry.observed,
            tree_size: head.size,
            proof: proof.to_text(),
        })
    }

    /// The index of the first entry of the object with this SHA-256 (hex,
    /// any case), optionally of one kind.
    pub fn find(&self, sha256_hex: &str, kind: Option<&str>) -> Option<u64> {
        let want = sha256_hex.trim().to_ascii_lowercase();
        self.entries
            .iter()
            .find(|e| e.entry.sha256_hex() == want && kind.is_none_or(|k| e.entry.kind == k))
            .map(|e| e.index)
    }
}

/// `depeer log prove SHA256`: the proof of the object's entry.
pub fn log_prove(data: &Path, sha256_hex: &str) -> Result<ObjectProof, IngestError> {
    let view = LogView::open(data)?;
    let index = view
        .find(sha256_hex, None)
        .ok_or_else(|| IngestError::NotLogged {
            sha256: sha256_hex.to_string(),
        })?;
    view.prove_index(index)
}

/// A consistency proof from an earlier size to the latest checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyProof {
    /// The earlier size.
    pub old_size: u64,
    /// The latest checkpoint's size.
    pub new_size: u64,
    /// The root of the earlier size (base64), as this log computes it.
    pub old_root: String,
    /// The latest checkpoint's root (base64).
    pub new_root: String,
    /// The proof: base64 hashes in RFC 6962 §2.1.2 order.
    pub hashes: Vec<String>,
}

/// `depeer log consistency OLD_SIZE`.
pub fn log_consistency(data: &Path, old_size: u64) -> Result<ConsistencyProof, IngestError> {
    let view = LogView::open(data)?;
    let head = &view.latest.1;
    let bad = IngestError::BadSize {
        old: old_size,
        latest: head.size,
    };
    let hashes = merkle::consistency_proof(&view.leaves, old_size, head.size).ok_or(bad)?;
    let old = usize::try_from(old_size).unwrap_or(usize::MAX);
    let old_root = merkle::root(view.leaves.get(..old).unwrap_or_default());
    Ok(ConsistencyProof {
        old_size,
        new_size: head.size,
        old_root: b64(&old_root),
        new_root: b64(&head.root),
        hashes: hashes.iter().map(b64).collect(),
    })
}

pub(crate) fn b64(h: &Hash) -> String {
    depeer_evidence::base64_encode(h)
}

/// What [`verify_log`] checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogReport {
    /// Entries in the log.
    pub entries: u64,
    /// Entries by kind.
    pub by_kind: std::collections::BTreeMap<String, u64>,
    /// Signed checkpoints checked (signature, size, root).
    pub checkpoints: u64,
    /// Stored objects whose bytes were re-read and re-hashed.
    pub objects: u64,
    /// The verifier key used.
    pub vkey: String,
    /// The latest checkpoint's size.
    pub tree_size: u64,
}

fn discrepancy(
    object: String,
    file: String,
    offset: u64,
    reason: impl Into<String>,
) -> IngestError {
    IngestError::Evidence(EvidenceError::Discrepancy {
        object,
        file,
        offset,
        reason: reason.into(),
    })
}

/// `depeer log verify`: re-reads the whole store and checks, in this
/// order, the log's segments, every checkpoint (signature by the log's
/// key, its size, its root against the entries, so every earlier
/// checkpoint is a prefix of the latest), every stored object's bytes
/// against its hash, and that every stored object has exactly one entry
/// (with its time) and every entry a stored object. Returns the first
/// discrepancy as an error naming the object, file and offset.
pub fn verify_log(data: &Path) -> Result<LogReport, IngestError> {
    let vkey = log_vkey(data)?;
    let v = NoteVerifier::parse(&vkey)?;
    let entries = read_entries(data)?;
    let mut report = LogReport {
        entries: entries.len() as u64,
        vkey,
        ..LogReport::default()
    };
    for e in &entries {
        *report.by_kind.entry(e.entry.kind.clone()).or_default() += 1;
    }
    check_checkpoints(data, &v, &entries, &mut report)?;
    check_objects(data, &entries, &mut report)?;
    Ok(report)
}

fn check_checkpoints(
    data: &Path,
    v: &NoteVerifier,
    entries: &[StoredEntry],
    report: &mut LogReport,
) -> Result<(), IngestError> {
    let mut f = Frontier::new();
    let mut next = entries.iter();
    let files = checkpoint_files(data)?;
    if files.is_empty() && !entries.is_empty() {
        return Err(discrepancy(
            "checkpoint".into(),
            "log/checkpoints".into(),
            0,
            "the log has entries but no checkpoint",
        ));
    }
    for (size, rel) in &files {
        let path = data.join(rel);
        let note = std::fs::read_to_string(&path).map_err(|e| {
            discrepancy(format!("checkpoint {size}"), rel.clone(), 0, e.to_string())
        })?;
        let c = Checkpoint::open(&note, v).map_err(|e| {
            discrepancy(format!("checkpoint {size}"), rel.clone(), 0, e.to_string())
        })?;
        if c.size != *size {
            return Err(discrepancy(
                format!("checkpoint {size}"),
                rel.clone(),
                0,
                format!("its tree size is {}", c.size),
            ));
        }
        if c.size > entries.len() as u64 {
            return Err(discrepancy(
                format!("checkpoint {size}"),
                rel.clone(),
                0,
                format!(
                    "the log has only {} entries (entries were removed)",
                    entries.len()
                ),
            ));
        }
        while f.size() < c.size {
            if let Some(e) = next.next() {
                f.push(e.leaf);
            }
        }
        if f.root() != c.root {
            return Err(discrepancy(
                format!("checkpoint {size}"),
                rel.clone(),
                0,
                "its root is not the root of the first entries of the log (an entry was changed, removed or inserted)",
            ));
        }
        report.checkpoints += 1;
        report.tree_size = c.size;
    }
    if report.tree_size != entries.len() as u64
        && let Some(e) = entries.get(usize::try_from(report.tree_size).unwrap_or(usize::MAX))
    {
        return Err(discrepancy(
            format!("entry {}", e.index),
            e.file.clone(),
            e.offset,
            "no signed checkpoint covers it",
        ));
    }
    Ok(())
}

/// One stored object as re-read, whatever its kind.
struct Stored {
    kind: String,
    sha256: String,
    /// Its time in whole seconds (a message's arrival, an object's
    /// `observed`).
    secs: i64,
    /// Where its bytes are: `raw/PACK` and the frame's offset.
    file: String,
    offset: u64,
    /// The Parquet part of its row.
    part: String,
    actual: Result<[u8; 32], String>,
}

/// Every stored object: messages, then feed and MRT records, each kind
/// in pack order.
fn stored_objects(data: &Path) -> Result<Vec<Stored>, IngestError> {
    let ds = depeer_store::Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })?;
    let mut checks = ds
        .check_raw_messages()
        .map_err(IngestError::store("re-reading the raw messages"))?;
    checks.sort_by(|a, b| {
        (&a.pack, a.offset, a.inner_offset).cmp(&(&b.pack, b.offset, b.inner_offset))
    });
    let mut out: Vec<Stored> = checks
        .into_iter()
        .map(|c| Stored {
            kind: "mail".to_string(),
            sha256: c.sha256,
            secs: c.arrival_micros.div_euclid(1_000_000),
            file: format!("raw/{}", c.pack),
            offset: c.offset,
            part: c.part,
            actual: c.actual,
        })
        .collect();
    let objects = ds
        .check_raw_objects()
        .map_err(IngestError::store("re-reading the feed and MRT records"))?;
    out.extend(objects.into_iter().map(|c| Stored {
        kind: c.row.kind,
        sha256: c.row.sha256,
        secs: c.row.observed,
        file: format!("raw/{}", c.row.pack),
        offset: c.row.offset,
        part: c.row.part,
        actual: c.actual,
    }));
    Ok(out)
}

fn check_objects(
    data: &Path,
    entries: &[StoredEntry],
    report: &mut LogReport,
) -> Result<(), IngestError> {
    let checks = stored_objects(data)?;
    let mut logged: HashMap<(&str, String), Vec<&StoredEntry>> = HashMap::new();
    for e in entries {
        logged
            .entry((e.entry.kind.as_str(), e.entry.sha256_hex()))
            .or_default()
            .push(e);
    }
    for c in &checks {
        let object = format!("{} {}", c.kind, c.sha256);
        match &c.actual {
            Err(why) => {
                return Err(discrepancy(
                    object,
                    c.file.clone(),
                    c.offset,
                    format!("stored bytes unreadable: {why}"),
                ));
            }
            Ok(h) if hex_of(h) != c.sha256 => {
                return Err(discrepancy(
                    object,
                    c.file.clone(),
                    c.offset,
                    format!(
                        "stored bytes hash to {} (changed after they were logged)",
                        hex_of(h)
                    ),
                ));
            }
            Ok(_) => {}
        }
        let found = logged
            .get(&(c.kind.as_str(), c.sha256.clone()))
            .map_or(&[][..], Vec::as_slice);
        match found {
            [] => {
                return Err(discrepancy(
                    object,
                    c.part.clone(),
                    0,
                    "stored but has no log entry",
                ));
            }
            [e] => {
                if e.entry.observed != c.secs {
                    let what = if c.kind == "mail" {
                        "the message arrived at"
                    } else {
                        "the object was observed at"
                    };
                    return Err(discrepancy(
                        format!("entry {}", e.index),
                        e.file.clone(),
                        e.offset,
                        format!("OBSERVED {} but {what} {}", e.entry.observed, c.secs),
                    ));
                }
            }
            [_, second, ..] => {
                return Err(discrepancy(
                    format!("entry {}", second.index),
                    second.file.clone(),
                    second.offset,
                    format!("a second entry for {object}"),
                ));
            }
        }
        report.objects += 1;
    }
    let stored: std::collections::HashSet<(&str, &str)> = checks
        .iter()
        .map(|c| (c.kind.as_str(), c.sha256.as_str()))
        .collect();
    if let Some(e) = entries
        .iter()
        .find(|e| !stored.contains(&(e.entry.kind.as_str(), e.entry.sha256_hex().as_str())))
    {
        return Err(discrepancy(
            format!("entry {}", e.index),
            e.file.clone(),
            e.offset,
            format!(
                "{} {} is logged but not stored",
                e.entry.kind,
                e.entry.sha256_hex()
            ),
        ));
    }
    Ok(())
}

fn hex_of(h: &[u8; 32]) -> String {
    let mut s = String::with_capacity(64);
    for b in h {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
