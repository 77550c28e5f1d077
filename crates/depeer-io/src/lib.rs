//! Opening depeer's inputs.
//!
//! * [`sniff`] tells the compression of a stream by its magic bytes, never by
//!   its name (spam archives are often misnamed).
//! * [`open_decoded`] wraps a reader in the right decoder behind a
//!   [`CappedReader`], the one place where decompression happens, so that a
//!   zip bomb stops with [`IoError::DecompressLimit`] instead of filling
//!   memory or disk.
//! * [`walk`] expands the paths of a command line into inputs: files,
//!   directory trees (Maildirs included, their `tmp/` skipped), and `-` for
//!   stdin, in a stable order.

mod capped;
mod sniff;
mod walk;

pub use capped::{CappedReader, Limits};
pub use sniff::{Compression, sniff};
pub use walk::{Input, InputPath, walk};

use std::io::{BufRead, BufReader, Read};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// A path could not be opened or read.
    #[error("{path}: {source}")]
    Open {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The decompressed stream grew past the limits: most likely a
    /// decompression bomb.
    #[error(
        "decompressed data exceeds the limit ({decompressed} bytes out of {compressed} compressed; \
         ratio limit {max_ratio}:1 after {grace} bytes, absolute limit {max_total} bytes); \
         raise --max-decompressed if this input is genuine"
    )]
    DecompressLimit {
        /// Bytes produced so far.
        decompressed: u64,
        /// Compressed bytes consumed so far.
        compressed: u64,
        /// The ratio limit in force.
        max_ratio: u64,
        /// Bytes allowed before the ratio limit applies.
        grace: u64,
        /// The absolute limit in force.
        max_total: u64,
    },
}

impl IoError {
    /// A short stable reason code for quarantine counts.
    pub fn reason(&self) -> &'static str {
        match self {
            IoError::Open { .. } => "unreadable",
            IoError::DecompressLimit { .. } => "decompress-limit",
        }
    }
}

/// Whether an `std::io::Error` produced by a [`CappedReader`] is a limit
/// breach, and which.
pub fn limit_error(e: &std::io::Error) -> Option<&IoError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<IoError>())
}

/// A decoded stream and what it was.
pub struct Decoded {
    /// The compression that was sniffed.
    pub compression: Compression,
    /// The decompressed bytes, capped.
    pub reader: Box<dyn BufRead + Send>,
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoded")
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

/// Sniffs the compression of `inner` and returns the decompressed stream
/// behind a [`CappedReader`]. Concatenated streams (multi-member gzip,
/// multi-stream bzip2 and xz, multi-frame zstd) are read to the end.
pub fn open_decoded<R: Read + Send + 'static>(
    inner: R,
    limits: Limits,
) -> std::io::Result<Decoded> {
    let counter = capped::Counter::default();
    let mut counted = BufReader::with_capacity(
        256 * 1024,
        capped::CountingReader::new(inner, counter.clone()),
    );
    let head = counted.fill_buf()?;
    let compression = sniff(head);
    // The one place the decoders are allowed (clippy.toml bans them
    // elsewhere): their output is counted and capped just below.
    #[allow(clippy::disallowed_types)]
    let decoder: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(counted),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(counted)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(counted)?),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(counted)),
    };
    let capped = CappedReader::new(decoder, counter, limits, compression != Compression::None);
    Ok(Decoded {
        compression,
        reader: Box::new(BufReader::with_capacity(256 * 1024, capped)),
    })
}
