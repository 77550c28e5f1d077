//! Reading the evidence objects of `evidence_objects` back: their rows
//! (for dossiers, filtered by the caller), their bytes, and every
//! object's bytes re-hashed for `depeer log verify` (a frame that no
//! longer decompresses is a result, not an error that stops the scan).

use datafusion::arrow::array::Array;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::parquet_io::{self, Cols, list_parts};
use crate::read::Dataset;
use crate::schema::names;

/// One row of `evidence_objects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// `feed` or `mrt`.
    pub kind: String,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// OBSERVED, UNIX seconds.
    pub observed: i64,
    /// Bytes of the object.
    pub size: u64,
    /// The file it was read from.
    pub source_file: String,
    /// Its byte offset there.
    pub source_offset: u64,
    /// Its line (feed) or record index (MRT).
    pub source_index: u64,
    /// MRT: the collector.
    pub collector: Option<String>,
    /// MRT: the prefixes, space-separated.
    pub prefixes: Option<String>,
    /// Pack under `raw/`.
    pub pack: String,
    /// Offset of its frame in the pack.
    pub offset: u64,
    /// Compressed length of the frame.
    pub len: u64,
    /// Where it starts in the decompressed frame.
    pub inner_offset: u64,
    /// The Parquet part the row is in.
    pub part: String,
}

/// One stored object as re-read by [`Dataset::check_raw_objects`].
#[derive(Debug, Clone)]
pub struct ObjectCheck {
    /// The row.
    pub row: ObjectRow,
    /// SHA-256 of the bytes now stored, or why they could not be read.
    pub actual: std::result::Result<[u8; 32], String>,
}

/// A frame's (pack, offset) and its bytes, or why they could not be read.
type Frame = ((String, u64), std::result::Result<Vec<u8>, String>);

const COLS: &[&str] = &[
    "kind",
    "sha256",
    "observed",
    "size",
    "source_file",
    "source_offset",
    "source_index",
    "collector",
    "prefixes",
    "raw_pack",
    "raw_offset",
    "raw_len",
    "raw_inner_offset",
];

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

impl Dataset {
    /// The rows of `evidence_objects` that `keep` accepts, in file order.
    pub fn evidence_objects(
        &self,
        keep: impl Fn(&ObjectRow) -> bool + Sync,
    ) -> Result<Vec<ObjectRow>> {
        let files = list_parts(&self.dir().join("tables").join(names::EVIDENCE_OBJECTS))?;
        parquet_io::par_files(&files, |p| {
            let part = p
                .strip_prefix(self.dir())
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned();
            let mut out = Vec::new();
            parquet_io::read_columns(p, COLS, |rb| {
                let c = Cols { rb, path: p };
                let [kind, sha, file, coll, pre, pack] = [
                    "kind",
                    "sha256",
                    "source_file",
                    "collector",
                    "prefixes",
                    "raw_pack",
                ]
                .map(|n| c.str(n));
                let (kind, sha, file, coll, pre, pack) = (kind?, sha?, file?, coll?, pre?, pack?);
                let obs = c.ts("observed")?;
                let [size, soff, sidx, off, len, inner] = c.ints([
                    "size",
                    "source_offset",
                    "source_index",
                    "raw_offset",
                    "raw_len",
                    "raw_inner_offset",
                ])?;
                let opt = |a: &datafusion::arrow::array::StringArray, i: usize| {
                    (!a.is_null(i)).then(|| a.value(i).to_string())
                };
                for i in 0..rb.num_rows() {
                    let row = ObjectRow {
                        kind: kind.value(i).to_string(),
                        sha256: sha.value(i).to_string(),
                        observed: obs.value(i).div_euclid(1_000_000),
                        size: u(size.value(i)),
                        source_file: file.value(i).to_string(),
                        source_offset: u(soff.value(i)),
                        source_index: u(sidx.value(i)),
                        collector: opt(coll, i),
                        prefixes: opt(pre, i),
                        pack: pack.value(i).to_string(),
                        offset: u(off.value(i)),
                        len: u(len.value(i)),
                        inner_offset: u(inner.value(i)),
                        part: part.clone(),
                    };
                    if keep(&row) {
                        out.push(row);
                    }
                }
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// The stored bytes of an object (not checked against its hash).
    pub fn object_bytes(&self, row: &ObjectRow) -> Result<Vec<u8>> {
        crate::raw::read_frame_part(
            self.dir(),
            &row.pack,
            row.offset,
            row.len,
            row.inner_offset,
            Some(row.size),
        )
    }

    /// Re-reads and re-hashes the bytes of every stored object.
    pub fn check_raw_objects(&self) -> Result<Vec<ObjectCheck>> {
        let mut rows = self.evidence_objects(|_| true)?;
        rows.sort_by(|a, b| {
            (&a.pack, a.offset, a.inner_offset).cmp(&(&b.pack, b.offset, b.inner_offset))
        });
        let mut out = Vec::with_capacity(rows.len());
        let mut frame: Option<Frame> = None;
        for row in rows {
            let key = (row.pack.clone(), row.offset);
            if frame.as_ref().is_none_or(|(k, _)| *k != key) {
                let bytes = crate::raw::read_frame_part(
                    self.dir(),
                    &row.pack,
                    row.offset,
                    row.len,
                    0,
                    None,
                )
                .map_err(|e| e.to_string());
                frame = Some((key, bytes));
            }
            let start = usize::try_from(row.inner_offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(usize::try_from(row.size).unwrap_or(0));
            let actual = match frame.as_ref().map(|(_, b)| b) {
                Some(Ok(b)) => match b.get(start..end) {
                    Some(m) => Ok(Sha256::digest(m).into()),
                    None => Err(format!(
                        "the frame has no bytes {start}..{end} (it holds {})",
                        b.len()
                    )),
                },
                Some(Err(e)) => Err(e.clone()),
                None => Err("no frame".to_string()),
            };
            out.push(ObjectCheck { row, actual });
        }
        Ok(out)
    }
}
