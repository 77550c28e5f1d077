//! The log entry (leaf data): exactly `depeer-evidence/v1 KIND SHA256HEX
//! OBSERVED\n`, where KIND is a lowercase word, SHA256HEX the lowercase hex
//! SHA-256 of the object's raw bytes as stored and OBSERVED the UNIX time
//! in whole seconds depeer attributes to it. Parsing is strict: an entry
//! has one spelling, so equal objects have equal leaves.

use crate::error::{EvidenceError, Result};
use crate::merkle::{Hash, leaf_hash};

/// The entry's first word.
pub const ENTRY_PREFIX: &str = "depeer-evidence/v1";

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// `mail`, `mrt`, `feed`, …: lowercase ASCII letters, digits and `-`.
    pub kind: String,
    /// SHA-256 of the object's raw bytes.
    pub sha256: [u8; 32],
    /// UNIX seconds.
    pub observed: i64,
}

impl Entry {
    /// An entry; `None` when `kind` is not a lowercase word.
    pub fn new(kind: &str, sha256: [u8; 32], observed: i64) -> Option<Entry> {
        valid_kind(kind).then(|| Entry {
            kind: kind.to_string(),
            sha256,
            observed,
        })
    }

    /// The exact leaf data.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(100);
        self.write_to(&mut out);
        out
    }

    /// Appends the leaf data to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(ENTRY_PREFIX.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.kind.as_bytes());
        out.push(b' ');
        for b in self.sha256 {
            for nibble in [b >> 4, b & 15] {
                out.push(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
            }
        }
        out.push(b' ');
        out.extend_from_slice(self.observed.to_string().as_bytes());
        out.push(b'\n');
    }

    /// The leaf hash `SHA-256(0x00 || entry)`.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.to_bytes())
    }

    /// Lowercase hex of the object hash.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// Parses one entry (with its final newline).
    pub fn parse(line: &[u8]) -> Result<Entry> {
        let bad = |r: &str| EvidenceError::malformed("log entry", 0, r);
        let body = line
            .strip_suffix(b"\n")
            .ok_or_else(|| bad("no final newline"))?;
        let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
        let mut parts = text.split(' ');
        let (Some(p), Some(kind), Some(sha), Some(obs), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad("not four space-separated fields"));
        };
        if p != ENTRY_PREFIX {
            return Err(bad("does not start with depeer-evidence/v1"));
        }
        if !valid_kind(kind) {
            return Err(bad("KIND is not a lowercase word"));
        }
        if sha.len() != 64 || !sha.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad("SHA256HEX is not 64 lowercase hex digits"));
        }
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(sha, &mut sha256).map_err(|_| bad("bad hex"))?;
        let observed: i64 = obs.parse().map_err(|_| bad("OBSERVED is not an integer"))?;
        if observed.to_string() != obs {
            return Err(bad("OBSERVED is not in canonical decimal"));
        }
        Ok(Entry {
            kind: kind.to_string(),
            sha256,
            observed,
        })
    }
}

fn valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= 32
        && kind
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && kind.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

/// Splits a segment (entries concatenated) into entries with their byte
/// offsets.
pub fn parse_segment(bytes: &[u8]) -> Result<Vec<(u64, Entry)>> {
    let mut out = Vec::with_capacity(bytes.len() / 100 + 1);
    let mut off = 0usize;
    while off < bytes.len() {
        let rest = bytes.get(off..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| p + 1)
            .ok_or_else(|| {
                EvidenceError::malformed(
                    "log segment",
                    0,
                    format!("entry at byte {off} has no final newline"),
                )
            })?;
        let line = rest.get(..end).unwrap_or_default();
        let e = Entry::parse(line).map_err(|e| {
            EvidenceError::malformed("log segment", 0, format!("entry at byte {off}: {e}"))
        })?;
        out.push((off as u64, e));
        off += end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bytes_and_round_trip() {
        let e = Entry::new("mail", [0xab; 32], 1_226_440_800).unwrap();
        let b = e.to_bytes();
        assert_eq!(
            b,
            format!("depeer-evidence/v1 mail {} 1226440800\n", "ab".repeat(32)).into_bytes()
        );
        assert_eq!(Entry::parse(&b).unwrap(), e);
        for bad in [
            "depeer-evidence/v1 Mail {h} 1\n",
            "depeer-evidence/v1 mail {h} 01\n",
            "depeer-evidence/v1 mail {h} 1",
            "depeer-evidence/v1 mail {h}  1\n",
            "depeer-evidence/v2 mail {h} 1\n",
        ] {
            let s = bad.replace("{h}", &"ab".repeat(32));
            assert!(Entry::parse(s.as_bytes()).is_err(), "{s:?}");
        }
        assert!(
            Entry::parse(format!("depeer-evidence/v1 mail {} 1\n", "AB".repeat(32)).as_bytes())
                .is_err()
        );
        assert!(Entry::new("x y", [0; 32], 0).is_none());
    }
}
