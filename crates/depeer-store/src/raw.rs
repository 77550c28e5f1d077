//! Raw message packs: one file per committed batch (`raw/pack-<batch>.zst`
//! for messages, `raw/qpack-<batch>.zst` for quarantined records), each
//! message an independent zstd frame, located by the `raw_pack`,
//! `raw_offset` and `raw_len` columns of its row. Compression happens in the
//! caller's worker threads ([`compress_raw`]); the writer only appends.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};
use crate::journal::{Batch, sync_file};

/// The zstd level of raw messages: level 1 compresses typical spam 3-4x at
/// several hundred MB/s per core; higher levels gain little on mail.
pub const RAW_ZSTD_LEVEL: i32 = 1;

/// Compresses one raw message into an independent zstd frame, ready for
/// `MessageWriter::add`. Call it in worker threads so that compression runs
/// in parallel. (A thread-local reused context measured slower than a fresh
/// one for 6 KB messages, see examples/write_bench.rs.)
///
/// Returns an empty vector only if zstd itself fails (out of memory);
/// `add` rejects that with [`StoreError::EmptyRaw`].
pub fn compress_raw(bytes: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(bytes, RAW_ZSTD_LEVEL).unwrap_or_default()
}

/// An open pack being written inside a staged batch.
#[derive(Debug)]
pub(crate) struct PackWriter {
    /// File name under `raw/` (the `raw_pack` column value).
    pub(crate) name: String,
    path: PathBuf,
    out: BufWriter<File>,
    pub(crate) len: u64,
}

impl PackWriter {
    pub(crate) fn create(batch: &mut Batch, prefix: &str) -> Result<Self> {
        let name = format!("{prefix}-{}.zst", batch.id());
        let (path, file) = batch.create(&format!("raw/{name}"))?;
        Ok(PackWriter {
            name,
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            len: 0,
        })
    }

    /// Appends one frame; returns its offset.
    pub(crate) fn append(&mut self, frame: &[u8]) -> Result<u64> {
        let at = self.len;
        self.out
            .write_all(frame)
            .map_err(StoreError::io("write", &self.path))?;
        self.len += frame.len() as u64;
        Ok(at)
    }

    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path;
        let file = self
            .out
            .into_inner()
            .map_err(|e| StoreError::io("write", &path)(e.into_error()))?;
        sync_file(&path, file)
    }
}

/// Reads and decompresses one frame of a pack.
pub(crate) fn read_frame(dir: &Path, pack: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
    let path = dir.join("raw").join(pack);
    if pack.contains('/') || pack.contains("..") {
        return Err(StoreError::Corrupt {
            path,
            reason: format!("bad pack name {pack:?}"),
        });
    }
    let file = File::open(&path).map_err(StoreError::io("open", &path))?;
    let len = usize::try_from(len).map_err(|_| StoreError::Corrupt {
        path: path.clone(),
        reason: format!("frame length {len}"),
    })?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(StoreError::io("read", &path))?;
    zstd::decode_all(&buf[..]).map_err(|e| StoreError::Corrupt {
        path,
        reason: format!("zstd frame at byte {offset}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_independent() {
        let a = compress_raw(b"From: a\r\n\r\nhello");
        let b = compress_raw(&vec![b'x'; 100_000]);
        assert!(!a.is_empty() && b.len() < 1000);
        let mut both = a.clone();
        both.extend_from_slice(&b);
        assert_eq!(
            zstd::decode_all(&both[a.len()..]).unwrap(),
            vec![b'x'; 100_000]
        );
        assert_eq!(
            zstd::decode_all(&both[..a.len()]).unwrap(),
            b"From: a\r\n\r\nhello"
        );
    }
}
