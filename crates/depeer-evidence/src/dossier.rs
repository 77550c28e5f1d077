//! The dossier format (docs/dossier-format.md) and its offline verifier.
//!
//! A dossier is a directory: `manifest.json`, `evidence/` (one logged
//! object per file, its raw bytes as stored), `proofs/` (one
//! c2sp.org/tlog-proof@v1 per evidence file), `checkpoint` (the signed
//! checkpoint every proof is made against), `vkey` and `index.html`.
//! [`verify_dossier`] needs nothing but the directory (and, to trust the
//! log, the verifier key obtained some other way). It stops at the first
//! failure and names it.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::entry::Entry;
use crate::error::{EvidenceError, Result};
use crate::note::NoteVerifier;
use crate::proof::TlogProof;

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// What the dossier is about (`AS26780`, `208.66.195.10`, a prefix, a domain).
    pub subject: String,
    /// The moment the claims hold at (RFC 3339).
    pub at: String,
    /// What is claimed.
    pub claims: Vec<Claim>,
    /// Every evidence file.
    pub evidence: Vec<EvidenceRef>,
}

/// One claim.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claim {
    /// Short identifier (`messages`, `rank`, `botnets`, …).
    pub id: String,
    /// The claim in words.
    pub text: String,
    /// The claim's figures.
    pub value: serde_json::Value,
    /// Paths (relative to the dossier) of the evidence it cites.
    pub evidence: Vec<String>,
}

/// One evidence file and its log entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EvidenceRef {
    /// Path relative to the dossier (`evidence/…`).
    pub path: String,
    /// The entry's KIND.
    pub kind: String,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// The entry's OBSERVED (UNIX seconds).
    pub observed: i64,
    /// The entry's index in the log.
    pub log_index: u64,
    /// Path of its tlog-proof, relative to the dossier.
    pub proof: String,
    /// Where the object was read from, for people (`mrt` and `feed`
    /// objects: file, offset, line or record index, collector); absent for
    /// `mail`. Not part of what is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<serde_json::Value>,
}

/// What [`verify_dossier`] verified.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DossierReport {
    /// The subject.
    pub subject: String,
    /// Evidence files whose hash and inclusion proof verified.
    pub evidence: usize,
    /// Claims whose every cited file is verified evidence.
    pub claims: usize,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The key the checkpoint's signature verified with.
    pub vkey: String,
}

fn fail(object: &str, file: &str, reason: impl Into<String>) -> EvidenceError {
    EvidenceError::Discrepancy {
        object: object.to_string(),
        file: file.to_string(),
        offset: 0,
        reason: reason.into(),
    }
}

/// A path inside the dossier: relative, no `..`, no root.
fn safe_rel(p: &str) -> bool {
    !p.is_empty()
        && Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn read(dir: &Path, rel: &str, what: &str) -> Result<Vec<u8>> {
    if !safe_rel(rel) {
        return Err(fail(what, rel, "path leaves the dossier"));
    }
    std::fs::read(dir.join(rel)).map_err(|e| fail(what, rel, format!("cannot read: {e}")))
}

/// Verifies a dossier: the checkpoint's signature (with `vkey`, else the
/// dossier's own `vkey` file), every evidence file's hash, its entry's
/// inclusion proof against that checkpoint, that every file under
/// `evidence/` is listed, and that every claim cites only verified
/// evidence. The first failure is the error.
pub fn verify_dossier(dir: &Path, vkey: Option<&str>) -> Result<DossierReport> {
    let m: Manifest =
        serde_json::from_slice(&read(dir, "manifest.json", "manifest")?).map_err(|e| {
            fail(
                "manifest",
                "manifest.json",
                format!("not a dossier manifest: {e}"),
            )
        })?;
    let key_text = match vkey {
        Some(k) => k.to_string(),
        None => String::from_utf8_lossy(&read(dir, "vkey", "verifier key")?).into_owned(),
    };
    let v = NoteVerifier::parse(key_text.trim())
        .map_err(|e| fail("verifier key", "vkey", e.to_string()))?;
    let note = String::from_utf8(read(dir, "checkpoint", "checkpoint")?)
        .map_err(|_| fail("checkpoint", "checkpoint", "not UTF-8"))?;
    let head =
        Checkpoint::open(&note, &v).map_err(|e| fail("checkpoint", "checkpoint", e.to_string()))?;
    let mut verified = BTreeSet::new();
    for e in &m.evidence {
        let obj = format!("evidence {}", e.path);
        let bytes = read(dir, &e.path, &obj)?;
        let got = hex::encode(Sha256::digest(&bytes));
        if got != e.sha256 {
            return Err(fail(
                &obj,
                &e.path,
                format!("hashes to {got}, the manifest says {}", e.sha256),
            ));
        }
        let mut sha = [0u8; 32];
        hex::decode_to_slice(&e.sha256, &mut sha)
            .map_err(|_| fail(&obj, "manifest.json", "sha256 is not hex"))?;
        let entry = Entry::new(&e.kind, sha, e.observed)
            .ok_or_else(|| fail(&obj, "manifest.json", "kind is not a lowercase word"))?;
        let ptext = String::from_utf8(read(dir, &e.proof, &obj)?)
            .map_err(|_| fail(&obj, &e.proof, "proof is not UTF-8"))?;
        let p = TlogProof::parse(&ptext).map_err(|err| fail(&obj, &e.proof, err.to_string()))?;
        if p.index != e.log_index {
            return Err(fail(
                &obj,
                &e.proof,
                format!(
                    "proof is for entry {}, the manifest says {}",
                    p.index, e.log_index
                ),
            ));
        }
        if p.checkpoint != note {
            return Err(fail(
                &obj,
                &e.proof,
                "proof is against another checkpoint than the dossier's",
            ));
        }
        p.verify(&entry.leaf_hash(), &v)
            .map_err(|err| fail(&obj, &e.proof, err.to_string()))?;
        if !verified.insert(e.path.clone()) {
            return Err(fail(&obj, "manifest.json", "listed twice"));
        }
    }
    // Every file in evidence/ is listed (a file nobody vouches for is not evidence).
    if let Ok(rd) = std::fs::read_dir(dir.join("evidence")) {
        let mut files: Vec<String> = rd
            .flatten()
            .map(|e| format!("evidence/{}", e.file_name().to_string_lossy()))
            .collect();
        files.sort();
        if let Some(f) = files.iter().find(|f| !verified.contains(*f)) {
            return Err(fail(
                &format!("evidence {f}"),
                f,
                "not listed in manifest.json",
            ));
        }
    }
    for c in &m.claims {
        if c.evidence.is_empty() {
            return Err(fail(
                &format!("claim {}", c.id),
                "manifest.json",
                "cites no evidence",
            ));
        }
        if let Some(p) = c.evidence.iter().find(|p| !verified.contains(*p)) {
            return Err(fail(
                &format!("claim {}", c.id),
                p,
                "cites evidence that is not verified evidence of this dossier",
            ));
        }
    }
    Ok(DossierReport {
        subject: m.subject,
        evidence: verified.len(),
        claims: m.claims.len(),
        tree_size: head.size,
        vkey: key_text.trim().to_string(),
    })
}
