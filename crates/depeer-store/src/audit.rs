//! Re-reading every stored evidence object for `depeer log verify`: each
//! message row's raw bytes are decompressed from its pack and hashed again,
//! and the result is handed back with where the bytes are, so the verifier
//! can name the object, file and offset of a discrepancy. A frame that no
//! longer decompresses is a result too (not an error that stops the scan).

use datafusion::arrow::array::Array;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::parquet_io::{self, Cols, list_parts};
use crate::read::Dataset;
use crate::schema::names;

/// One stored message as re-read.
#[derive(Debug, Clone)]
pub struct RawCheck {
    /// `messages.sha256` as stored in the row.
    pub sha256: String,
    /// `arrival_time` (microseconds).
    pub arrival_micros: i64,
    /// The pack under `raw/`.
    pub pack: String,
    /// Byte offset of its zstd frame in the pack.
    pub offset: u64,
    /// Where the message starts in the decompressed frame.
    pub inner_offset: u64,
    /// SHA-256 of the bytes now stored, or why they could not be read.
    pub actual: std::result::Result<[u8; 32], String>,
    /// The Parquet part the row is in.
    pub part: String,
}

/// A frame's (pack, offset) and its bytes, or why they could not be read.
type DecodedFrame = ((String, u64), std::result::Result<Vec<u8>, String>);

const COLS: &[&str] = &[
    "sha256",
    "arrival_time",
    "raw_pack",
    "raw_offset",
    "raw_len",
    "raw_inner_offset",
    "size",
];

impl Dataset {
    /// Re-reads and re-hashes the raw bytes of every stored message.
    pub fn check_raw_messages(&self) -> Result<Vec<RawCheck>> {
        let files = list_parts(&self.dir().join("tables").join(names::MESSAGES))?;
        parquet_io::par_files(&files, |p| {
            let mut out = Vec::new();
            let mut frame: Option<DecodedFrame> = None;
            let part = p
                .strip_prefix(self.dir())
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned();
            parquet_io::read_columns(p, COLS, |rb| {
                let c = Cols { rb, path: p };
                let (sha, pack) = (c.str("sha256")?, c.str("raw_pack")?);
                let time = c.ts("arrival_time")?;
                let [off, len, inner, size] =
                    c.ints(["raw_offset", "raw_len", "raw_inner_offset", "size"])?;
                let u = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
                for i in 0..rb.num_rows() {
                    let key = (pack.value(i).to_string(), u(off.value(i)));
                    if frame.as_ref().is_none_or(|(k, _)| *k != key) {
                        let bytes = crate::raw::read_frame_part(
                            self.dir(),
                            &key.0,
                            key.1,
                            u(len.value(i)),
                            0,
                            None,
                        )
                        .map_err(|e| e.to_string());
                        frame = Some((key.clone(), bytes));
                    }
                    let start = usize::try_from(inner.value(i)).unwrap_or(usize::MAX);
                    let end = start.saturating_add(usize::try_from(size.value(i)).unwrap_or(0));
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
                    out.push(RawCheck {
                        sha256: if sha.is_null(i) {
                            String::new()
                        } else {
                            sha.value(i).to_string()
                        },
                        arrival_micros: time.value(i),
                        pack: key.0,
                        offset: key.1,
                        inner_offset: u(inner.value(i)),
                        actual,
                        part: part.clone(),
                    });
                }
                Ok(())
            })?;
            Ok(out)
        })
    }
}
