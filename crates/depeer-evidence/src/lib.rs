//! depeer-evidence: the evidence log anyone can check. An append-only
//! Merkle tree (RFC 6962 / RFC 9162 §2.1) of entries
//! `depeer-evidence/v1 KIND SHA256HEX OBSERVED\n`, one per stored object;
//! checkpoints in the C2SP tlog-checkpoint format signed as C2SP signed
//! notes with Ed25519 (keys as Go's golang.org/x/mod/sumdb/note writes
//! them); inclusion proofs as c2sp.org/tlog-proof@v1; and the dossier
//! format with its offline verifier.
//!
//! Few dependencies (sha2, ed25519-dalek, base64, getrandom, serde_json)
//! so that a third party can build the verifier alone; nothing here knows
//! the store.
//!
//! ```
//! use depeer_evidence::{Entry, Frontier, merkle};
//! let e = Entry::new("mail", [0u8; 32], 1_226_440_800).unwrap();
//! let mut f = Frontier::new();
//! f.push(e.leaf_hash());
//! assert_eq!(f.root(), merkle::leaf_hash(&e.to_bytes()));
//! ```

mod checkpoint;
mod dirlog;
mod dossier;
mod entry;
mod error;
pub mod merkle;
mod note;
mod proof;

pub use checkpoint::{Checkpoint, base64_decode, base64_encode};
pub use dirlog::{
    Appender, KEY_FILE, LOG_DIR, Prepared, StoredEntry, checkpoint_files, checkpoint_rel,
    latest_checkpoint, load_or_create_key, read_entries, segment_rel,
};
pub use dossier::{Claim, DossierReport, EvidenceRef, Manifest, verify_dossier};
pub use entry::{ENTRY_PREFIX, Entry, parse_segment};
pub use error::{EvidenceError, Result};
pub use merkle::{Frontier, Hash, ProofFailure};
pub use note::{NoteSignature, NoteSigner, NoteVerifier, key_id, split_note};
pub use proof::{TLOG_PROOF_HEADER, TlogProof};
