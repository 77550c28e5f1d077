//! Output files: plain or gzip (deterministic: no name, mtime 0 in the
//! gzip header), buffered, with located errors.

use std::fs::File;
use std::io::{BufWriter, IoSlice, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::SimError;

enum Inner {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

/// A file being written.
pub(crate) struct OutFile {
    inner: Inner,
    path: PathBuf,
    /// Bytes handed to the file so far.
    written: u64,
    /// Start of the range not yet released from the page cache.
    released: u64,
}

/// Writes of at least this size bypass the buffer.
const DIRECT_WRITE: usize = 16 << 10;

/// Every this many bytes a big output releases what it wrote before from
/// the page cache (see [`OutFile::release`]).
const RELEASE_STEP: u64 = 32 << 20;

impl OutFile {
    /// Creates `path` (with `.gz` appended when `gzip`), making parent directories.
    pub(crate) fn create(path: &Path, gzip: bool) -> Result<OutFile, SimError> {
        let path = if gzip {
            let mut p = path.as_os_str().to_owned();
            p.push(".gz");
            PathBuf::from(p)
        } else {
            path.to_path_buf()
        };
        let werr = |p: &Path, e| SimError::Write {
            path: p.to_path_buf(),
            source: e,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
        }
        let f = File::create(&path).map_err(|e| werr(&path, e))?;
        let buf = BufWriter::with_capacity(1 << 16, f);
        let inner = if gzip {
            Inner::Gzip(Box::new(GzEncoder::new(buf, Compression::fast())))
        } else {
            Inner::Plain(buf)
        };
        Ok(OutFile {
            inner,
            path,
            written: 0,
            released: 0,
        })
    }

    /// Writes bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        let r = match &mut self.inner {
            // Big chunks (a minute of a trap's mail) go straight to the
            // file instead of being copied through the buffer.
            Inner::Plain(w) if bytes.len() >= DIRECT_WRITE => {
                w.flush().and_then(|()| w.get_mut().write_all(bytes))
            }
            Inner::Plain(w) => w.write_all(bytes),
            Inner::Gzip(w) => w.write_all(bytes),
        };
        r.map_err(|e| SimError::Write {
            path: self.path.clone(),
            source: e,
        })?;
        self.account(bytes.len());
        Ok(())
    }

    /// Writes the concatenation of `parts` (consumed: the slices are
    /// advanced as they are written), in vectored writes for plain files.
    pub(crate) fn write_parts(&mut self, parts: &mut [IoSlice<'_>]) -> Result<(), SimError> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let werr = |e| SimError::Write {
            path: self.path.clone(),
            source: e,
        };
        match &mut self.inner {
            Inner::Plain(w) if total >= DIRECT_WRITE => {
                w.flush().map_err(werr)?;
                let f = w.get_mut();
                let mut parts = parts;
                while !parts.is_empty() {
                    match f.write_vectored(parts) {
                        Ok(0) => return Err(werr(std::io::ErrorKind::WriteZero.into())),
                        Ok(n) => IoSlice::advance_slices(&mut parts, n),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(werr(e)),
                    }
                }
            }
            Inner::Plain(w) => {
                for p in parts.iter() {
                    w.write_all(p).map_err(werr)?;
                }
            }
            Inner::Gzip(w) => {
                for p in parts.iter() {
                    w.write_all(p).map_err(werr)?;
                }
            }
        }
        self.account(total);
        Ok(())
    }

    fn account(&mut self, n: usize) {
        let before = self.written;
        self.written += n as u64;
        if self.written / RELEASE_STEP != before / RELEASE_STEP {
            self.release();
        }
    }

    /// Streams tens of gigabytes at full scale: without help they fill the
    /// page cache, and the kernel then reclaims pages at the writer's
    /// expense (and evicts everyone else's cache). So every
    /// [`RELEASE_STEP`] the file asks the kernel to write back what it
    /// wrote and to drop what is already clean (`POSIX_FADV_DONTNEED`
    /// starts writeback of dirty pages and drops clean ones); the last two
    /// steps are asked again next time, when their writeback is done. A
    /// hint: failures are ignored. Gzip output is compressed and smaller,
    /// and is left to the kernel (the offsets of the file are not known).
    fn release(&mut self) {
        #[cfg(target_os = "linux")]
        if let Inner::Plain(w) = &self.inner {
            let upto = self.written.saturating_sub(w.buffer().len() as u64);
            if let Some(len) = std::num::NonZeroU64::new(upto.saturating_sub(self.released)) {
                let _ = rustix::fs::fadvise(
                    w.get_ref(),
                    self.released,
                    Some(len),
                    rustix::fs::Advice::DontNeed,
                );
            }
            self.released = self.released.max(upto.saturating_sub(2 * RELEASE_STEP));
        }
    }

    /// Flushes and closes; returns the path and the size on disk.
    pub(crate) fn finish(self) -> Result<(PathBuf, u64), SimError> {
        let path = self.path;
        let werr = |e| SimError::Write {
            path: path.clone(),
            source: e,
        };
        match self.inner {
            Inner::Plain(mut w) => w.flush().map_err(werr)?,
            Inner::Gzip(w) => {
                let mut b = w.finish().map_err(werr)?;
                b.flush().map_err(werr)?;
            }
        }
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok((path, size))
    }
}

/// A JSON-lines file written in writes of about 64 KiB.
pub(crate) struct JsonLines {
    out: OutFile,
    buf: Vec<u8>,
}

impl JsonLines {
    /// Creates `path` as [`OutFile::create`] does.
    pub(crate) fn create(path: &Path, gzip: bool) -> Result<JsonLines, SimError> {
        Ok(JsonLines {
            out: OutFile::create(path, gzip)?,
            buf: Vec::with_capacity(1 << 16),
        })
    }

    /// Adds a line, kept in the buffer.
    pub(crate) fn push(&mut self, line: &serde_json::Value) {
        // Writing into a Vec cannot fail.
        let _ = writeln!(self.buf, "{line}");
    }

    /// Adds a line, then writes the buffer out once it holds over 64 KiB.
    pub(crate) fn push_flushing(&mut self, line: &serde_json::Value) -> Result<(), SimError> {
        self.push(line);
        if self.buf.len() > 1 << 16 {
            self.out.write(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is left and closes the file; its path and size.
    pub(crate) fn finish(mut self) -> Result<(PathBuf, u64), SimError> {
        self.out.write(&self.buf)?;
        self.out.finish()
    }
}
