//! C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the note text
//! `ORIGIN\nSIZE\nBASE64(ROOT)\n` that a log signs after each commit.
//! depeer writes no extension lines and accepts none (a checkpoint with
//! extension lines is refused rather than half-understood).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{EvidenceError, Result};
use crate::merkle::Hash;
use crate::note::NoteVerifier;

/// Standard base64 (RFC 4648 §4), as every format here uses it.
pub fn base64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decodes standard base64; `None` when it is not.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

/// A tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (depeer uses its key name).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 6962 root hash of those entries.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses the note text.
    pub fn parse(text: &str) -> Result<Checkpoint> {
        let bad = |line: usize, r: &str| EvidenceError::malformed("checkpoint", line, r);
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad(0, "no final newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root] = lines.as_slice() else {
            return Err(bad(0, "not exactly three lines (origin, size, root)"));
        };
        if origin.is_empty() {
            return Err(bad(1, "empty origin"));
        }
        let n: u64 = size.parse().map_err(|_| bad(2, "size is not a decimal"))?;
        if n.to_string() != *size {
            return Err(bad(2, "size has leading zeroes or a sign"));
        }
        let r = B64.decode(root).map_err(|_| bad(3, "root is not base64"))?;
        let root: Hash = r.try_into().map_err(|_| bad(3, "root is not 32 bytes"))?;
        Ok(Checkpoint {
            origin: (*origin).to_string(),
            size: n,
            root,
        })
    }

    /// Opens a signed checkpoint with `vkey` and parses it; the origin
    /// must be the key's name (depeer's convention).
    pub fn open(note: &str, vkey: &NoteVerifier) -> Result<Checkpoint> {
        let text = vkey.open(note)?;
        let c = Checkpoint::parse(text)?;
        if c.origin != vkey.name() {
            return Err(EvidenceError::malformed(
                "checkpoint",
                1,
                format!(
                    "origin {:?} is not the key's name {:?}",
                    c.origin,
                    vkey.name()
                ),
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::NoteSigner;

    #[test]
    fn round_trip_and_strictness() {
        let c = Checkpoint {
            origin: "example.com/log".into(),
            size: 109_482,
            root: [7; 32],
        };
        let t = c.to_text();
        assert_eq!(
            t,
            format!("example.com/log\n109482\n{}\n", B64.encode([7u8; 32]))
        );
        assert_eq!(Checkpoint::parse(&t).unwrap(), c);
        assert!(Checkpoint::parse(&t.replace("109482", "0109482")).is_err());
        assert!(Checkpoint::parse(&format!("{t}ext\n")).is_err());
        let s = NoteSigner::generate("example.com/log").unwrap();
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        let note = s.sign(&t).unwrap();
        assert_eq!(Checkpoint::open(&note, &v).unwrap(), c);
        let other = NoteSigner::generate("example.com/log").unwrap();
        assert!(Checkpoint::open(&other.sign(&t).unwrap(), &v).is_err());
    }
}
