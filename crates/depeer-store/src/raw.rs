//! Raw message packs: one file per committed batch (`raw/pack-<batch>.zst`
//! for messages, `raw/qpack-<batch>.zst` for quarantined records) made of
//! independent zstd frames. A message frame holds one message or several
//! consecutive ones (up to [`FRAME_TARGET_BYTES`]); a row finds its bytes
//! through `raw_pack`, `raw_offset`, `raw_len` (the frame) and
//! `raw_inner_offset` + `size` (the message inside it). Compression happens
//! in the caller's worker threads ([`FrameCompressor`], [`compress_raw`]);
//! the writer only appends.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};
use crate::journal::Batch;

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

/// Frames of several messages are closed once they reach this many raw
/// bytes (a message is never split; a larger message gets a frame alone).
pub const FRAME_TARGET_BYTES: usize = 512 << 10;

/// A reusable zstd context for shared frames, one per worker thread.
pub struct FrameCompressor {
    ctx: Option<zstd::bulk::Compressor<'static>>,
    /// Reused output buffer of `compress_bound` bytes; only the compressed
    /// bytes are copied out. (Allocating the bound, ~512 KiB, per frame
    /// made the allocator fault in fresh zeroed pages for every frame:
    /// about a tenth of a worker's profile.)
    out: Vec<u8>,
}

impl std::fmt::Debug for FrameCompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCompressor").finish_non_exhaustive()
    }
}

impl Default for FrameCompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameCompressor {
    /// A compressor at [`RAW_ZSTD_LEVEL`].
    pub fn new() -> Self {
        FrameCompressor {
            ctx: zstd::bulk::Compressor::new(RAW_ZSTD_LEVEL).ok(),
            out: Vec::new(),
        }
    }

    /// Compresses `bytes` into one independent zstd frame. Returns an empty
    /// vector only if zstd itself fails (out of memory); the writer rejects
    /// that with [`StoreError::EmptyRaw`].
    pub fn compress(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Some(c) = self.ctx.as_mut() else {
            return compress_raw(bytes);
        };
        self.out.clear();
        self.out
            .reserve(zstd::zstd_safe::compress_bound(bytes.len()));
        match c.compress_to_buffer(bytes, &mut self.out) {
            Ok(_) => self.out.clone(),
            Err(_) => Vec::new(),
        }
    }
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

    /// Flushes the pack and hands it back to `batch`, which fsyncs it.
    pub(crate) fn finish(self, batch: &mut Batch) -> Result<()> {
        let path = self.path;
        let file = self
            .out
            .into_inner()
            .map_err(|e| StoreError::io("write", &path)(e.into_error()))?;
        batch.written(path, file);
        Ok(())
    }
}

/// Reads and decompresses one frame of a pack and returns `inner_len` bytes
/// from `inner_offset` of it (all of it when `inner_len` is `None`).
pub(crate) fn read_frame_part(
    dir: &Path,
    pack: &str,
    offset: u64,
    len: u64,
    inner_offset: u64,
    inner_len: Option<u64>,
) -> Result<Vec<u8>> {
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
    let mut all = decode_frame(buf).map_err(|e| StoreError::Corrupt {
        path: path.clone(),
        reason: format!("zstd frame at byte {offset}: {e}"),
    })?;
    let start = usize::try_from(inner_offset).unwrap_or(usize::MAX);
    let end = match inner_len {
        None => all.len(),
        Some(n) => start.saturating_add(usize::try_from(n).unwrap_or(usize::MAX)),
    };
    if start > end || end > all.len() {
        return Err(StoreError::Corrupt {
            path,
            reason: format!(
                "frame at byte {offset} holds {} bytes, the row asks for {start}..{end}",
                all.len()
            ),
        });
    }
    if start == 0 && end == all.len() {
        return Ok(all);
    }
    all.truncate(end);
    Ok(all.split_off(start))
}

/// Decompresses a frame read from a pack through depeer-io's capped reader
/// (the one place decoders run: a corrupt or hostile pack cannot blow up
/// memory); a frame that is not zstd is an error.
fn decode_frame(buf: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut d = depeer_io::open_decoded(std::io::Cursor::new(buf), depeer_io::Limits::default())?;
    if d.compression != depeer_io::Compression::Zstd {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a zstd frame",
        ));
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut d.reader, &mut out)?;
    Ok(out)
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
            decode_frame(both[a.len()..].to_vec()).unwrap(),
            vec![b'x'; 100_000]
        );
        assert_eq!(
            decode_frame(both[..a.len()].to_vec()).unwrap(),
            b"From: a\r\n\r\nhello"
        );
    }
}
