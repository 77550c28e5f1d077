//! Output files: plain or gzip (deterministic: no name, mtime 0 in the
//! gzip header), buffered, with located errors.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::SimError;

enum Inner {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

/// A file being written.
pub(crate) struct OutFile {
    inner: Inner,
    path: PathBuf,
}

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
        // Writes of at least the buffer's size go straight to the file
        // (the mail writer hands over whole minutes per trap): 64 kB keeps
        // small records batched without copying the big ones once more.
        let buf = BufWriter::with_capacity(1 << 16, f);
        let inner = if gzip {
            Inner::Gzip(GzEncoder::new(buf, Compression::fast()))
        } else {
            Inner::Plain(buf)
        };
        Ok(OutFile { inner, path })
    }

    /// Writes bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        let r = match &mut self.inner {
            Inner::Plain(w) => w.write_all(bytes),
            Inner::Gzip(w) => w.write_all(bytes),
        };
        r.map_err(|e| SimError::Write {
            path: self.path.clone(),
            source: e,
        })
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
