//! c2sp.org/tlog-proof@v1: an offline-verifiable proof that an entry is in
//! a log. Lines: `c2sp.org/tlog-proof@v1`, optionally `extra BASE64`,
//! `index N`, the inclusion proof one base64 hash a line (leaf's sibling
//! first), a blank line, then the signed checkpoint verbatim.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::Checkpoint;
use crate::error::{EvidenceError, Result};
use crate::merkle::{Hash, verify_inclusion};
use crate::note::NoteVerifier;

/// The first line of a proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque extra data (unauthenticated).
    pub extra: Option<Vec<u8>>,
    /// The entry's index.
    pub index: u64,
    /// The inclusion proof.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
}

impl TlogProof {
    /// The proof text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(e) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(e)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    /// Parses a proof.
    pub fn parse(text: &str) -> Result<TlogProof> {
        let bad = |line: usize, r: &str| EvidenceError::malformed("tlog-proof", line, r);
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad(0, "no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').enumerate().peekable();
        if lines.next().map(|(_, l)| l) != Some(TLOG_PROOF_HEADER) {
            return Err(bad(1, "first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut extra = None;
        if let Some((_, l)) = lines.peek()
            && let Some(b) = l.strip_prefix("extra ")
        {
            extra = Some(B64.decode(b).map_err(|_| bad(2, "extra is not base64"))?);
            lines.next();
        }
        let (i, idx) = lines.next().ok_or_else(|| bad(0, "no index line"))?;
        let n = idx
            .strip_prefix("index ")
            .ok_or_else(|| bad(i + 1, "no index line"))?;
        let index: u64 = n
            .parse()
            .map_err(|_| bad(i + 1, "index is not a decimal"))?;
        if index.to_string() != n {
            return Err(bad(i + 1, "index has leading zeroes"));
        }
        let mut hashes = Vec::new();
        for (i, l) in lines {
            let h = B64
                .decode(l)
                .map_err(|_| bad(i + 1, "hash is not base64"))?;
            hashes.push(
                h.try_into()
                    .map_err(|_| bad(i + 1, "hash is not 32 bytes"))?,
            );
        }
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: checkpoint.to_string(),
        })
    }

    /// Verifies the proof for an entry whose leaf hash is `leaf`: the
    /// checkpoint's signature by `vkey`, then the inclusion of `leaf` at
    /// `index` under the checkpoint's root. Returns the checkpoint.
    pub fn verify(&self, leaf: &Hash, vkey: &NoteVerifier) -> Result<Checkpoint> {
        let c = Checkpoint::open(&self.checkpoint, vkey)?;
        verify_inclusion(self.index, c.size, leaf, &self.hashes, &c.root).map_err(|failure| {
            EvidenceError::Proof {
                what: format!(
                    "inclusion of entry {} in the tree of size {}",
                    self.index, c.size
                ),
                failure,
            }
        })?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{inclusion_proof, leaf_hash, root};
    use crate::note::NoteSigner;

    #[test]
    fn proof_round_trip_and_verify() {
        let leaves: Vec<Hash> = (0u8..11).map(|i| leaf_hash(&[i])).collect();
        let s = NoteSigner::generate("depeer.local/t").unwrap();
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        let c = Checkpoint {
            origin: "depeer.local/t".into(),
            size: 11,
            root: root(&leaves),
        };
        let note = s.sign(&c.to_text()).unwrap();
        for i in 0..11u64 {
            let p = TlogProof {
                extra: (i == 3).then(|| b"x".to_vec()),
                index: i,
                hashes: inclusion_proof(&leaves, i, 11).unwrap(),
                checkpoint: note.clone(),
            };
            let t = p.to_text();
            let q = TlogProof::parse(&t).unwrap();
            assert_eq!(q, p);
            q.verify(&leaves[i as usize], &v).unwrap();
            assert!(q.verify(&leaves[(i as usize + 1) % 11], &v).is_err());
        }
    }
}
